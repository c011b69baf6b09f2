"""Whether a live Kivy widget tree shows all its text: what a person would see cut off or overlapping.

The kiosk, board and terminal lay out text for one screen size and shrink it for others; this is how
tests (and the board's screenshot report) check that nothing was squeezed out of sight.
"""

from __future__ import annotations

import re
from typing import Any

Box = tuple[float, float, float, float]  # left, bottom, right, top in window pixels

# A line of Noto CJK is ~1.45 em tall. Chinese characters fill ~1.1 em of it, digits and Latin
# capitals ~0.75 em: a box may be that much shorter than the line before ink is cut.
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
CJK_SLACK_EM = 0.3
LATIN_SLACK_EM = 0.7
TOLERANCE_PX = 2


def labels_that_do_not_fit(root: Any) -> list[str]:
    """Visible labels (buttons included) that do not fit: text bigger than its box, or a box that sticks
    out of its parent's or out of the window (a layout squeezed below what its content needs)."""
    from kivy.uix.label import Label

    return [
        _describe(widget)
        for widget in root.walk()
        if isinstance(widget, Label) and _shown(widget) and not (_text_fits(widget) and _placed_inside(widget))
    ]


def _shown(label: Any) -> bool:
    return bool(label.text.strip()) and label.opacity > 0 and label.height > 0


def _needed(label: Any) -> tuple[float, float]:
    # A label with text_size = its size renders into a texture of that size and cuts what does not fit;
    # the core label's internal size is what the text really needs.
    internal = getattr(label._label, "_internal_size", (0, 0))
    return max(label.texture_size[0], internal[0]), max(label.texture_size[1], internal[1])


def _text_fits(label: Any) -> bool:
    width, height = _needed(label)
    slack = (CJK_SLACK_EM if _CJK.search(label.text) else LATIN_SLACK_EM) * label.font_size
    return width <= label.width + TOLERANCE_PX and height - label.height <= slack


def _placed_inside(label: Any) -> bool:
    from kivy.core.window import Window

    if _in_stencil(label):
        return True  # a scroll view or a moving ticker shows part of its content on purpose
    own = _box(label)
    parent = label.parent
    outer = _box(parent) if parent is not None and parent is not Window else own
    return _inside(own, outer) and _inside(own, (0, 0, *Window.size))


def _in_stencil(widget: Any) -> bool:
    from kivy.core.window import Window
    from kivy.uix.stencilview import StencilView

    parent = widget.parent
    while parent is not None and parent is not Window:
        if isinstance(parent, StencilView):
            return True
        parent = parent.parent
    return False


def _box(widget: Any) -> Box:
    x, y = widget.to_window(widget.x, widget.y)
    return x, y, x + widget.width, y + widget.height


def _inside(inner: Box, outer: Box) -> bool:
    t = TOLERANCE_PX
    left, bottom, right, top = inner
    return left >= outer[0] - t and bottom >= outer[1] - t and right <= outer[2] + t and top <= outer[3] + t


def _describe(label: Any) -> str:
    width, height = _needed(label)
    return f"{label.text[:24]!r}: text {width:.0f}x{height:.0f}, box {tuple(round(v) for v in _box(label))}"
