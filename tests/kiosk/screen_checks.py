"""Checks every kiosk screenshot gets (tests/kiosk and tests/kiosk_submission), beyond "all text fits":

- every QR code on screen decodes with zbar (`zbarimg`, Debian zbar-tools) to the text it encodes;
- no text of a screen reaches up under the header (a screen whose content is taller than its room
  pushes its title there);
- a button's text keeps clear of the button's edges (a second line that touches the edge);
- a scanned page's thumbnail is big enough to check the scan.

Printed tickets and receipts are checked the same way: `printed_qr_codes` renders the QR codes of the
ESC/POS bytes as the printer would draw them (native `GS ( k` or a `GS v 0` raster) and reads them
with zbar.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import qrcode
from PIL import Image

EDGE_MARGIN = 4  # × screen_factor: what a button's text keeps from its top and bottom edges
THUMBNAIL_MIN = 160  # × screen_factor: a scanned page's preview is at least this tall
DOTS_PER_MM = 8  # 203 dpi thermal printers


def zbar_available() -> bool:
    return shutil.which("zbarimg") is not None


def qr_codes(png: Path) -> list[str]:
    """What zbar reads in the picture: one string per QR code found."""
    assert zbar_available(), "zbarimg is missing: apt-get install zbar-tools (scripts/setup.sh does)"
    result = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(png)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return [line for line in result.stdout.splitlines() if line.strip()]


def problems(app: Any, png: Path) -> list[str]:
    """Everything wrong with the screen shown now (its screenshot is `png`)."""
    screen = app.root.ids.sm.current_screen
    found = [*under_header(app), *touching_edges(app), *small_thumbnails(app, screen)]
    expected = shown_qr_text(screen)
    if expected:
        codes = qr_codes(png)
        if expected not in codes:
            found.append(f"the QR on screen does not decode to {expected!r} (zbar read {codes})")
    return found


def shown_qr_text(screen: Any) -> str:
    """The text of the QR the screen shows ("" when it shows none)."""
    if getattr(screen, "qr_texture", None) is None:
        return ""
    return str(getattr(screen, "_qr_text", "") or getattr(screen, "_qr", ""))


def _visible_labels(widget: Any) -> list[Any]:
    from kivy.uix.label import Label
    from kivy.uix.stencilview import StencilView

    found: list[Any] = []
    stack = [widget]
    while stack:
        current = stack.pop()
        if getattr(current, "opacity", 1) == 0 or current.width <= 1 or current.height <= 1:
            continue
        if isinstance(current, StencilView):
            continue  # a scroll view shows part of its content on purpose
        if isinstance(current, Label) and current.text.strip():
            found.append(current)
        stack.extend(current.children)
    return found


def under_header(app: Any) -> list[str]:
    """Labels of the current screen whose box reaches above the screen's own area (under the header)."""
    manager = app.root.ids.sm
    top = manager.to_window(manager.x, manager.top)[1]
    late = []
    for label in _visible_labels(manager.current_screen):
        label_top = label.to_window(label.x, label.top)[1]
        if label_top > top + 2:
            late.append(f"{label.text[:20]!r} reaches {label_top - top:.0f} px under the header")
    return late


def touching_edges(app: Any) -> list[str]:
    """Buttons whose text (all its lines) comes closer to the top or bottom edge than EDGE_MARGIN."""
    from kiosk.widgets import Touch

    margin = EDGE_MARGIN * app.screen_factor
    return [
        f"{label.text[:20]!r}: text {label.texture_size[1]:.0f} px tall in a {label.height:.0f} px button"
        for label in _visible_labels(app.root)
        if isinstance(label, Touch) and label.texture_size[1] > label.height - 2 * margin
    ]


def small_thumbnails(app: Any, screen: Any) -> list[str]:
    texture = getattr(screen, "preview_texture", None)
    if texture is None:
        return []
    from kivy.uix.image import Image as KivyImage

    shown = [w for w in screen.walk() if isinstance(w, KivyImage) and w.texture is texture]
    least = THUMBNAIL_MIN * app.screen_factor
    return [
        f"scanned page shown {w.norm_image_size[1]:.0f} px tall (< {least:.0f})"
        for w in shown
        if w.norm_image_size[1] < least
    ]


# ---- printed QR codes ---------------------------------------------------------------------------


def printed_qr_codes(data: bytes, workdir: Path) -> list[str]:
    """The QR codes of one ESC/POS job as zbar reads them off the rendered paper."""
    images = list(_qr_images(data))
    codes: list[str] = []
    for number, image in enumerate(images):
        path = workdir / f"printed-qr-{number}.png"
        image.save(path)
        codes.extend(qr_codes(path))
    return codes


def _qr_images(data: bytes) -> list[Image.Image]:
    """Each QR of the job drawn in printer dots: `GS ( k` codes from their stored data, module size and
    error level, as the printer builds them; `GS v 0` rasters from their bits."""
    images: list[Image.Image] = []
    stored, module, level = b"", 3, qrcode.constants.ERROR_CORRECT_M
    levels = {48: qrcode.constants.ERROR_CORRECT_L, 49: qrcode.constants.ERROR_CORRECT_M}
    levels |= {50: qrcode.constants.ERROR_CORRECT_Q, 51: qrcode.constants.ERROR_CORRECT_H}
    i = 0
    while i < len(data) - 1:
        if data[i] == 0x1D and data[i + 1] == 0x28 and data[i + 2] == 0x6B:  # GS ( k pL pH cn fn …
            length = data[i + 3] | data[i + 4] << 8
            body = data[i + 5 : i + 5 + length]
            if body[:2] == b"1C":
                module = body[2]
            elif body[:2] == b"1E":
                level = levels.get(body[2], level)
            elif body[:2] == b"1P":
                stored = body[3:]
            elif body[:2] == b"1Q":
                code = qrcode.QRCode(error_correction=level, box_size=module, border=4)
                code.add_data(stored)
                code.make(fit=True)
                images.append(code.make_image(fill_color="black", back_color="white").get_image().convert("L"))
            i += 5 + length
        elif data[i] == 0x1D and data[i + 1] == 0x76 and data[i + 2] == 0x30:  # GS v 0 m xL xH yL yH
            width_bytes = data[i + 4] | data[i + 5] << 8
            height = data[i + 6] | data[i + 7] << 8
            bits = data[i + 8 : i + 8 + width_bytes * height]
            raster = Image.frombytes("1", (width_bytes * 8, height), bytes(b ^ 0xFF for b in bits)).convert("L")
            page = Image.new("L", (raster.width + 8 * DOTS_PER_MM, raster.height + 8 * DOTS_PER_MM), 255)
            page.paste(raster, (4 * DOTS_PER_MM, 4 * DOTS_PER_MM))  # the paper around it: a quiet zone
            images.append(page)
            i += 8 + width_bytes * height
        else:
            i += 1
    return images
