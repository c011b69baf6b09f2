"""Type that fits its box: a label's font shrinks (to half at most) rather than being cut off.

The width of a line is estimated from its characters (CJK ≈ 1 em, Latin letters and digits ≈ 0.6 em
in Noto Sans CJK bold), which is close enough to size table cells without measuring textures.
"""

from __future__ import annotations

WIDE_FROM = 0x2E80  # CJK radicals onwards: full-width characters


def text_ems(text: str) -> float:
    return sum(1.0 if ord(ch) >= WIDE_FROM else 0.62 for ch in text)


def fit_font(text: str, width: float, wanted: float, smallest: float = 0.5) -> float:
    """`wanted`, or smaller so `text` fits in `width`, but never below `smallest` × `wanted`."""
    ems = text_ems(text)
    if ems == 0 or width <= 0:
        return wanted
    return max(wanted * smallest, min(wanted, width * 0.96 / ems))
