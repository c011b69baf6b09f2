"""Layout checks on a live Kivy widget tree: what a person would see cut off or overlapping."""

from __future__ import annotations

from typing import Any


def clipped_labels(root: Any) -> list[str]:
    """Visible labels (buttons included) that do not fit: text bigger than its box, or a box that sticks
    out of its parent's or out of the window (a layout squeezed below what its content needs)."""
    from kivy.core.window import Window
    from kivy.uix.label import Label
    from kivy.uix.scrollview import ScrollView

    def box(widget: Any) -> tuple[float, float, float, float]:
        x, y = widget.to_window(widget.x, widget.y)
        return x, y, x + widget.width, y + widget.height

    def inside(inner: tuple[float, ...], outer: tuple[float, ...]) -> bool:
        return (inner[0] >= outer[0] - 2 and inner[1] >= outer[1] - 2
                and inner[2] <= outer[2] + 2 and inner[3] <= outer[3] + 2)  # fmt: skip

    def scrolled(widget: Any) -> bool:
        """Inside a ScrollView, content beyond the view is hidden on purpose until scrolled to."""
        parent = widget.parent
        while parent is not None and parent is not Window:
            if isinstance(parent, ScrollView):
                return True
            parent = parent.parent
        return False

    clipped = []
    for widget in root.walk():
        if not isinstance(widget, Label) or not widget.text.strip() or widget.opacity == 0 or widget.height <= 0:
            continue
        # A label with text_size = its size renders into a texture of that size and cuts what does not
        # fit; the core label's internal size is what the text really needs.
        needed = getattr(widget._label, "_internal_size", (0, 0))
        text_w, text_h = max(widget.texture_size[0], needed[0]), max(widget.texture_size[1], needed[1])
        # A line box is ~1.45 em but glyphs fill ~1.1 em: a box short by a third of the font cuts them.
        cut_h = text_h - widget.height > 0.3 * widget.font_size
        own = box(widget)
        parent = box(widget.parent) if widget.parent is not None and widget.parent is not Window else own
        placed = scrolled(widget) or (inside(own, parent) and inside(own, (0, 0, *Window.size)))
        if text_w > widget.width + 2 or cut_h or not placed:
            clipped.append(f"{widget.text[:24]!r}: text {text_w}x{text_h}, box {tuple(round(v) for v in own)}")
    return clipped
