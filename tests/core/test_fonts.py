"""The shared CJK font finder: the Simplified-Chinese face comes out of Noto's collection as its own file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from hallq.fonts import FontMissing, cjk_fonts, extract_face

pytestmark = pytest.mark.skipif(shutil.which("fc-query") is None, reason="fontconfig is not installed")


def test_the_simplified_chinese_face_is_extracted(tmp_path: Path) -> None:
    fonts = cjk_fonts(cache_dir=tmp_path)
    for path in (fonts.regular, fonts.bold):
        family = subprocess.run(["fc-query", "-f", "%{family}\n", path], capture_output=True, text=True).stdout
        assert "Noto Sans CJK SC" in family, (path, family)
    assert cjk_fonts(cache_dir=tmp_path) == fonts  # cached, not extracted again


def test_a_missing_face_is_a_clear_error() -> None:
    with pytest.raises(FontMissing, match="not in this font collection"):
        extract_face(b"ttcf" + b"\x00\x01\x00\x00" + b"\x00\x00\x00\x01" + b"\x00" * 8, 5)
