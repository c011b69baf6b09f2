"""The booking's QR code as SVG (the `qrcode` library the kiosk already uses, its SVG path factory):
drawn by the server so the phone page needs no QR script, and sharp at any size for an elderly reader."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg


def svg(text: str) -> bytes:
    image = qrcode.make(
        text,
        image_factory=qrcode.image.svg.SvgPathImage,
        border=2,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
    )
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()
