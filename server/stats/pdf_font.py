"""A Chinese font the PDF can embed, found through fontconfig.

ReportLab embeds (subsets) TrueType outlines only: Noto Sans CJK, the devices' font (hallq/fonts.py),
is CFF-based OpenType, which it cannot embed. So the report uses the first Chinese font with `glyf`
outlines: WenQuanYi Micro Hei (Debian fonts-wqy-microhei, installed by scripts/setup.sh) or another
one the machine has. No such font is a clear error naming the package, never tofu boxes.
"""

from __future__ import annotations

import functools
import shutil
import struct
import subprocess
from dataclasses import dataclass

from hallq.fonts import FontMissing

PREFERRED = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Droid Sans Fallback", "AR PL UMing CN")
INSTALL = "apt-get install fonts-wqy-microhei"


@dataclass(frozen=True)
class PdfFont:
    path: str
    index: int  # the face in a collection (.ttc)
    family: str


@functools.cache
def pdf_cjk_font() -> PdfFont:
    """The embeddable Chinese font (looked up once per process)."""
    candidates = _chinese_fonts()
    candidates.sort(key=lambda font: _rank(font.family))
    for font in candidates:
        if has_truetype_outlines(font.path, font.index):
            return font
    raise FontMissing(f"no Chinese TrueType font for the PDF report (Noto CJK cannot be embedded): {INSTALL}")


def _rank(family: str) -> int:
    names = family.split(",")
    return next((i for i, preferred in enumerate(PREFERRED) if preferred in names), len(PREFERRED))


def _chinese_fonts() -> list[PdfFont]:
    if shutil.which("fc-list") is None:
        raise FontMissing(f"fc-list (fontconfig) is not installed: apt-get install fontconfig; {INSTALL}")
    result = subprocess.run(
        ["fc-list", ":lang=zh-cn", "file", "index", "family"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    fonts = []
    for line in result.stdout.splitlines():
        path, _, rest = line.partition(": ")
        family, _, index = rest.rpartition(":index=")
        if path and index.isdigit():
            fonts.append(PdfFont(path, int(index), family))
    return fonts


def has_truetype_outlines(path: str, index: int) -> bool:
    """Whether the face has a `glyf` table (TrueType outlines), not `CFF ` (PostScript ones)."""
    try:
        with open(path, "rb") as file:
            data = file.read(65536)
    except OSError:
        return False
    offset = 0
    if data[:4] == b"ttcf":
        if 12 + 4 * (index + 1) > len(data):
            return False
        (offset,) = struct.unpack(">L", data[12 + 4 * index : 16 + 4 * index])
    if offset + 12 > len(data):
        return False
    (tables,) = struct.unpack(">H", data[offset + 4 : offset + 6])
    tags = {data[offset + 12 + 16 * i : offset + 16 + 16 * i] for i in range(tables)}
    return b"glyf" in tags
