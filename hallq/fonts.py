"""Find a Chinese font through fontconfig, for the Kivy devices (kiosk, terminal, board).

`fc-match 'Noto Sans CJK SC:style=Bold'` names a file and a face index. Debian's fonts-noto-cjk
ships collections (.ttc) whose face 0 is the Japanese one; Kivy's SDL2 text provider always opens
face 0, so Chinese would be drawn with Japanese glyph forms. We therefore copy the wanted face out
of the collection into a standalone font file in a cache folder (a few lines of sfnt bookkeeping,
no font library needed). No Chinese font at all is a clear error, not tofu boxes on the hall board.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

FAMILY = "Noto Sans CJK SC"


class FontMissing(RuntimeError):
    """No font that can draw Chinese was found."""


@dataclass(frozen=True)
class CjkFonts:
    regular: str
    bold: str


def cjk_fonts(family: str = FAMILY, cache_dir: Path | None = None) -> CjkFonts:
    """Regular and bold files for `family`, each a single face Kivy can open."""
    cache = cache_dir or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hallq" / "fonts"
    regular = _single_face(*_fc_match(f"{family}:style=Regular"), cache)
    try:
        bold = _single_face(*_fc_match(f"{family}:style=Bold"), cache)
    except FontMissing:
        bold = regular
    return CjkFonts(regular, bold)


def _fc_match(pattern: str) -> tuple[str, int]:
    if shutil.which("fc-match") is None:
        raise FontMissing("fc-match (fontconfig) is not installed: apt-get install fontconfig fonts-noto-cjk")
    result = subprocess.run(
        ["fc-match", "-f", "%{file}\n%{index}\n%{lang}", f"{pattern}:lang=zh-cn"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    lines = result.stdout.split("\n")
    if result.returncode != 0 or len(lines) < 3 or not lines[0]:
        raise FontMissing(f"fc-match {pattern!r} found no font: apt-get install fonts-noto-cjk")
    path, index, langs = lines[0], int(lines[1] or 0), lines[2].split("|")
    if "zh-cn" not in langs:
        raise FontMissing(
            f"no font that can draw Chinese (fc-match {pattern!r} gave {path}): apt-get install fonts-noto-cjk"
        )
    return path, index


def _single_face(path: str, index: int, cache: Path) -> str:
    """`path` itself for a plain font or face 0; else face `index` copied out of the collection."""
    with open(path, "rb") as font:
        head = font.read(12)
    if head[:4] != b"ttcf" or index == 0:
        return path
    source = Path(path)
    target = cache / f"{source.stem}-{index}.otf"
    if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
        return str(target)
    cache.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(extract_face(source.read_bytes(), index))
    partial.replace(target)
    return str(target)


def extract_face(collection: bytes, index: int) -> bytes:
    """One face of a TrueType/OpenType collection as a standalone sfnt font file."""
    tag, _version, count = struct.unpack(">4sLL", collection[:12])
    if tag != b"ttcf" or not 0 <= index < count:
        raise FontMissing(f"face {index} is not in this font collection ({count} faces)")
    (face_offset,) = struct.unpack(">L", collection[12 + 4 * index : 16 + 4 * index])
    sfnt_version, num_tables, search_range, entry_selector, range_shift = struct.unpack(
        ">4sHHHH", collection[face_offset : face_offset + 12]
    )
    records = []
    for i in range(num_tables):
        start = face_offset + 12 + 16 * i
        records.append(struct.unpack(">4sLLL", collection[start : start + 16]))
    header = struct.pack(">4sHHHH", sfnt_version, num_tables, search_range, entry_selector, range_shift)
    data_offset = len(header) + 16 * num_tables
    directory, blobs = [], []
    for table_tag, checksum, offset, length in records:
        directory.append(struct.pack(">4sLLL", table_tag, checksum, data_offset, length))
        blob = collection[offset : offset + length]
        blob += b"\0" * (-len(blob) % 4)  # tables start on 4-byte boundaries
        blobs.append(blob)
        data_offset += len(blob)
    return header + b"".join(directory) + b"".join(blobs)
