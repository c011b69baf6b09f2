"""The signature under a 容缺 promise: strokes drawn on the touchscreen → a PNG (Pillow).

The pad records strokes as point lists in its own coordinates (origin bottom-left, as Kivy's);
rendering is pure, so it is tested without a window, and the PNG is what the dispatcher stores."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

Stroke = Sequence[tuple[float, float]]
MIN_INK = 120.0  # total stroke length in pad pixels: a dot or a slip is not a signature


def ink_length(strokes: Sequence[Stroke]) -> float:
    return sum(math.dist(a, b) for stroke in strokes for a, b in zip(stroke, stroke[1:], strict=False))


def is_signed(strokes: Sequence[Stroke]) -> bool:
    return ink_length(strokes) >= MIN_INK


def signature_png(strokes: Sequence[Stroke], size: tuple[float, float], width: int = 800) -> bytes:
    """Black strokes on white, scaled to `width` pixels wide, as PNG bytes."""
    from PIL import Image, ImageDraw

    pad_w, pad_h = max(1.0, size[0]), max(1.0, size[1])
    scale = width / pad_w
    height = max(1, round(pad_h * scale))
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    line = max(3, round(4 * scale))
    for stroke in strokes:
        points = [(x * scale, height - y * scale) for x, y in stroke]  # Kivy's y grows upwards
        if len(points) == 1:
            x, y = points[0]
            draw.ellipse((x - line / 2, y - line / 2, x + line / 2, y + line / 2), fill=0)
        elif points:
            draw.line(points, fill=0, width=line, joint="curve")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
