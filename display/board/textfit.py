"""Type that fits its box, and type that can be read from the back of the hall.

`fit_font`: a label's font shrinks (to half at most) rather than being cut off.

The width of a line is estimated from its characters (CJK ≈ 1 em, Latin letters and digits ≈ 0.6 em
in Noto Sans CJK bold), which is close enough to size table cells without measuring textures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WIDE_FROM = 0x2E80  # CJK radicals onwards: full-width characters


def text_ems(text: str) -> float:
    return sum(1.0 if ord(ch) >= WIDE_FROM else 0.62 for ch in text)


def fit_font(text: str, width: float, wanted: float, smallest: float = 0.5) -> float:
    """`wanted`, or smaller so `text` fits in `width`, but never below `smallest` × `wanted`."""
    ems = text_ems(text)
    if ems == 0 or width <= 0:
        return wanted
    return max(wanted * smallest, min(wanted, width * 0.96 / ems))


# ---- legible from the back of the hall -------------------------------------------------------------
#
# The rule (e.g. BS 8300, and the usual signage practice): a character must be at least 1/250 of the
# viewing distance tall, 40 mm at 10 m. "Tall" is the ink a reader sees: a Chinese character's height,
# or a Latin capital's / digit's (cap height). In Noto Sans CJK (measured on the SC faces) Chinese
# characters fill 0.90–0.95 em and capitals and digits 0.74–0.77 em; the ratios below keep a margin
# under those, so a font size derived from them gives at least the wanted ink height on screen.
CJK_INK_EM = 0.86
CAP_INK_EM = 0.71
MM_PER_INCH = 25.4


def has_latin(text: str) -> bool:
    return any(ch.isascii() and ch.isalnum() for ch in text)


def legible_font(text: str, char_px: float) -> float:
    """The smallest font size (px) at which every character of `text` is at least `char_px` tall."""
    return char_px / (CAP_INK_EM if has_latin(text) else CJK_INK_EM)


@dataclass(frozen=True)
class Legibility:
    """The panel a board is shown on and how far its readers stand: how tall a character must be."""

    panel_inches: float = 55.0  # the diagonal
    distance_m: float = 10.0  # from the panel to the back of the waiting area
    distance_per_height: float = 250.0

    @property
    def char_mm(self) -> float:
        return self.distance_m * 1000.0 / self.distance_per_height

    def px_per_mm(self, screen: tuple[float, float]) -> float:
        """The board's window is the whole panel (fullscreen): its pixels span the panel's diagonal."""
        return math.hypot(*screen) / (self.panel_inches * MM_PER_INCH)

    def char_px(self, screen: tuple[float, float]) -> float:
        return self.char_mm * self.px_per_mm(screen)
