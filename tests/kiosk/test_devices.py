"""The kiosk's adapters over the real hardware/ drivers and their simulators (no window), the
command line, the font check and speech."""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from kiosk.cli import KioskArgsError, kiosk_extras, register
from kiosk.devices import PAPER_OK, PAPER_OUT, PrintJob
from kiosk.identity import CardIdentity
from kiosk.runtime import KioskSetupError, find_cjk_font, open_card_reader, open_printer, open_scanner

JOB = PrintJob(
    hall_name="句容市政务服务中心",
    number="A012",
    service="A",
    service_name="社保业务",
    ahead=5,
    estimated_wait_s=600,
    issued_at=dt.datetime.fromisoformat("2026-01-05T09:00:00+08:00"),
    status_url="http://127.0.0.1:8000/t/demo/abc?k=x",
    priority="green",
)


@pytest.fixture(autouse=True)
def fresh_simulators() -> None:
    from hardware.sim import reset_simulators

    reset_simulators()


def test_printer_adapter_prints_the_hardware_layout_and_reports_paper_out() -> None:
    from hardware.sim import get_simulator

    printer = open_printer("sim:unit")
    simulator: Any = get_simulator("printer", "unit")
    outcome = printer.print_ticket(JOB)
    assert outcome.printed and outcome.paper == PAPER_OK
    printed = simulator.jobs[-1]
    assert b"A012" in printed and "社保业务".encode("gb18030") in printed and "绿色通道".encode("gb18030") in printed
    simulator.inject("paper_out")
    outcome = printer.print_ticket(JOB)
    assert not outcome.printed and outcome.paper == PAPER_OUT and "缺纸" in outcome.error
    assert len(simulator.jobs) == 1 and printer.paper() == PAPER_OUT


def test_printer_that_does_not_answer_is_not_ok() -> None:
    from hardware.sim import get_simulator

    printer = open_printer("sim:silent")
    get_simulator("printer", "silent").inject("silent")
    outcome = printer.print_ticket(JOB)
    assert not outcome.printed and outcome.paper == "no_answer"


def test_card_reader_adapter_gives_an_identity_once_per_swipe() -> None:
    from hardware.idcard import sample_card
    from hardware.sim import get_simulator

    reader = open_card_reader("sim:unit")
    cards: list[CardIdentity] = []
    errors: list[str] = []
    got = threading.Event()
    reader.start(lambda c: (cards.append(c), got.set()), errors.append)
    try:
        card = sample_card("elderly")
        get_simulator("idcard", "unit").present(card)
        assert got.wait(10)
        time.sleep(0.8)  # still on the reader: not read again
        assert len(cards) == 1
        identity = cards[0]
        assert identity.id_number == card.id_number and identity.masked == card.masked_name
        assert identity.age_on(dt.date.today()) == 76
        assert card.name not in repr(identity) and card.id_number not in repr(identity)
    finally:
        reader.stop()


def test_scanner_adapter_delivers_codes() -> None:
    from hardware.sim import get_simulator

    scanner = open_scanner("sim:unit")
    codes: list[str] = []
    got = threading.Event()
    scanner.start(lambda code: (codes.append(code), got.set()))
    try:
        time.sleep(0.3)
        get_simulator("scanner", "unit").scan("http://h/t/demo/abc?k=1")  # type: ignore[attr-defined]
        assert got.wait(10)
        assert codes == ["http://h/t/demo/abc?k=1"]
    finally:
        scanner.stop()


def test_bad_device_url_is_a_clear_error() -> None:
    with pytest.raises(KioskSetupError, match="device URL"):
        open_printer("ftp://printer")


def test_command_line_options() -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(
        ["kiosk", "--demo", "--orientation", "landscape", "--idle-timeout", "45", "--elderly-age", "65", "--windowed"]
    )
    options = kiosk_extras(
        {
            "orientation": args.orientation,
            "idle_timeout": args.idle_timeout,
            "elderly_age": args.elderly_age,
            "fullscreen": args.fullscreen,
        },
        demo=True,
    )
    assert options["size"] == (1920, 1080) and options["idle_timeout"] == 45 and options["elderly_age"] == 65
    assert options["fullscreen"] is False
    assert kiosk_extras({}, demo=False)["fullscreen"] is True
    assert kiosk_extras({}, demo=False)["size"] == (1080, 1920)
    for bad in ({"size": "big"}, {"idle_timeout": "1"}, {"elderly_age": "30"}, {"orientation": "diagonal"}):
        with pytest.raises(KioskArgsError):
            kiosk_extras(bad, demo=False)


def test_cjk_font_found_through_fontconfig() -> None:
    path = find_cjk_font()
    assert Path(path).is_file()


def test_missing_cjk_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_run(*_a: Any, **_k: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess([], 0, stdout="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf\nen|fr")

    monkeypatch.setattr(subprocess, "run", fake_run)
    with pytest.raises(KioskSetupError, match="fonts-noto-cjk"):
        find_cjk_font()


def test_speech_renders_mandarin_with_espeak(tmp_path: Path) -> None:
    from kiosk.speech import EspeakSynthesizer, WorkerSpeaker

    if not EspeakSynthesizer().binary:
        pytest.skip("espeak-ng not installed")
    speaker = WorkerSpeaker(EspeakSynthesizer(wav_dir=str(tmp_path)))
    speaker.say("您的号码是A零一二，前面还有5人")
    deadline = time.monotonic() + 20
    wav = tmp_path / "kiosk-speech-001.wav"
    while time.monotonic() < deadline and not (wav.exists() and wav.stat().st_size > 20_000):
        time.sleep(0.1)
    speaker.close()
    assert wav.read_bytes()[:4] == b"RIFF" and wav.stat().st_size > 20_000
