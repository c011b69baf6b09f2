"""Board / window-screen options, the text fitting, and finding a Chinese font."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from display.board.textfit import fit_font, text_ems
from display.cli import led_urls, parse_list, parse_seconds, parse_size
from hallq import fonts
from hallq.cli import main
from hallq.config import ConfigError
from hallq.device import DeviceSettings


def test_lists_sizes_and_seconds() -> None:
    assert parse_list("1, 2,3", "--windows") == frozenset({"1", "2", "3"})
    assert parse_list(None, "--windows") is None
    with pytest.raises(ConfigError, match="comma-separated"):
        parse_list("1,,2", "--windows")
    with pytest.raises(ConfigError):
        parse_list("1/2", "--windows")
    assert parse_size(None, portrait=True) == (1080, 1920)
    assert parse_size("1280x720", portrait=False) == (1280, 720)
    with pytest.raises(ConfigError, match="WIDTHxHEIGHT"):
        parse_size("big", portrait=False)
    assert parse_seconds(None, "--flash-seconds", 8.0) == 8.0
    assert parse_seconds("3", "--flash-seconds", 8.0) == 3.0
    with pytest.raises(ConfigError):
        parse_seconds("-1", "--flash-seconds", 8.0)


def test_bad_board_options_are_refused_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["board", "--size", "huge", "--windows", "1,,"]) == 2
    err = capsys.readouterr().err
    assert "--size" in err or "--windows" in err


def settings(**extra: object) -> DeviceSettings:
    led = extra.pop("led", None)
    return DeviceSettings(kind="window-screen", device="ws", led=led, extra=extra)  # type: ignore[arg-type]


def test_led_urls() -> None:
    # one line for several windows: strip N is Modbus unit N
    assert led_urls(settings(windows="1,2", led="sim:a")) == {"1": "sim:a?unit=1", "2": "sim:a?unit=2"}
    assert led_urls(settings(windows="3", led="serial:///dev/ttyUSB0?baudrate=9600")) == {
        "3": "serial:///dev/ttyUSB0?baudrate=9600"
    }
    assert led_urls(settings(windows="10,12", led="sim:a?baudrate=9600"))["12"] == "sim:a?baudrate=9600&unit=12"
    assert led_urls(settings(windows="1,2", led="sim:a?unit=5")) == {"1": "sim:a?unit=5", "2": "sim:a?unit=5"}
    mapped = led_urls(settings(windows="1,2", led="sim:a", led_map="2=sim:b?unit=2"))
    assert mapped == {"1": "sim:a", "2": "sim:b?unit=2"}
    assert led_urls(settings(led_map="7=sim:x")) == {"7": "sim:x"}
    with pytest.raises(ConfigError, match="no LED URL"):
        led_urls(settings(windows="1,2", led_map="1=sim:x"))
    with pytest.raises(ConfigError, match="WINDOW=URL"):
        led_urls(settings(led_map="sim:x"))
    with pytest.raises(ConfigError, match="--windows"):
        led_urls(settings(led="sim:x"))


def test_text_fits_its_box() -> None:
    assert text_ems("A012") == pytest.approx(2.48)
    assert text_ems("3号窗口") == pytest.approx(3.62)
    assert fit_font("空闲", 400, 40) == 40  # fits: as wanted
    assert fit_font("不动产登记", 150, 40) == pytest.approx(150 * 0.96 / 5)  # shrinks to fit
    assert fit_font("很长很长很长很长很长很长", 50, 40) == 20  # never below half


def test_a_face_is_copied_out_of_a_collection(tmp_path: Path) -> None:
    tables = [(b"head", b"H" * 54), (b"name", b"N" * 10)]
    face = struct.pack(">4sHHHH", b"OTTO", len(tables), 32, 1, 0)
    offset = 12 + 4 * 2 + 12 + 16 * len(tables) + 12 + 16 * len(tables)  # header, 2 offsets, 2 directories
    directory, data = b"", b""
    for tag, blob in tables:
        directory += struct.pack(">4sLLL", tag, 0, offset + len(data), len(blob))
        data += blob + b"\0" * (-len(blob) % 4)
    collection = struct.pack(">4sLL", b"ttcf", 0x00010000, 2) + struct.pack(">LL", 20, 20 + len(face + directory))
    collection += (face + directory) * 2 + data
    single = fonts.extract_face(collection, 1)
    assert single[:4] == b"OTTO"
    tag, _sum, start, length = struct.unpack(">4sLLL", single[12:28])
    assert tag == b"head" and single[start : start + length] == b"H" * 54
    tag, _sum, start, length = struct.unpack(">4sLLL", single[28:44])
    assert tag == b"name" and single[start : start + length] == b"N" * 10
    with pytest.raises(fonts.FontMissing):
        fonts.extract_face(collection, 5)


def test_the_installed_cjk_font_is_found() -> None:
    found = fonts.cjk_fonts()  # the shared cache: copying a 20 MB face out again would be slow
    for path in (found.regular, found.bold):
        head = Path(path).read_bytes()[:4]
        assert head in (b"OTTO", b"\x00\x01\x00\x00", b"true")  # a single face Kivy can open


def test_no_fontconfig_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(fonts.shutil, "which", lambda _name: None)
    with pytest.raises(fonts.FontMissing, match="fonts-noto-cjk"):
        fonts.cjk_fonts(cache_dir=tmp_path)
