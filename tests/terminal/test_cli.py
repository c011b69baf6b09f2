"""`hallq terminal` and `hallq keypad-bridge` on the command line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from hallq.cli import build_parser, main
from hallq.device import DeviceSettings
from tests.support.broker import Broker
from tests.support.dispatcher import Dispatcher
from tests.terminal.conftest import REPO


def test_terminal_needs_a_window(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["terminal", "--demo"]) == 2
    assert "--window is required" in capsys.readouterr().err
    assert main(["terminal", "--window", "1", "--size", "big"]) == 2
    assert "expected WIDTHxHEIGHT" in capsys.readouterr().err


def test_keypad_bridge_pairs_repeated_keypads_and_windows(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(
        ["keypad-bridge", "--keypad", "sim:a", "--window", "3", "--keypad", "sim:b", "--window", "4"]
    )
    assert args.keypad == ["sim:a", "sim:b"] and args.windows == ["3", "4"]
    assert main(["keypad-bridge", "--keypad", "sim:a", "--keypad", "sim:b", "--window", "3"]) == 2
    assert "give one --window after each --keypad" in capsys.readouterr().err


def test_keypad_bridge_takes_one_keypad_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def fake_run(settings: object, plan: object, **kwargs: object) -> int:
        seen.update(settings=settings, plan=plan, **kwargs)
        return 0

    monkeypatch.setattr("caller.keypad_bridge.run_bridge", fake_run)
    monkeypatch.setenv("HALLQ_KEYPAD", "serial:///dev/ttyUSB0?unit=3")
    monkeypatch.setenv("HALLQ_WINDOW", "7")
    assert main(["keypad-bridge", "--demo", "--reply-timeout", "2"]) == 0
    from caller.keypad_bridge import KeypadBinding

    assert seen["plan"] == [KeypadBinding("serial:///dev/ttyUSB0?unit=3", "7")]
    assert seen["reply_timeout_s"] == 2.0 and seen["command_token"] == "auto"
    settings = seen["settings"]
    assert isinstance(settings, DeviceSettings) and settings.device == "demo-device"


@pytest.mark.ui
def test_terminal_command_starts_and_shows_the_window_state(hall: tuple[Broker, Dispatcher], tmp_path: Path) -> None:
    broker, dispatcher = hall
    png = tmp_path / "terminal-cli.png"
    command = [
        sys.executable, "-m", "hallq.cli", "terminal", "--window", "12", "--demo", "--windowed",
        "--server", dispatcher.url, "--mqtt", broker.device_url("terminal-12"), "--device", "terminal-12",
        "--screenshot", str(png),
    ]  # fmt: skip
    if not os.environ.get("DISPLAY"):
        if shutil.which("xvfb-run") is None:
            pytest.skip("no DISPLAY and no xvfb-run")
        command = ["xvfb-run", "-a", "-s", "-screen 0 1920x1920x24", *command]
    env = {**os.environ, "KIVY_NO_CONSOLELOG": "1", "KIVY_HOME": str(tmp_path / "kivy")}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "MQTT: connected" in done.stderr
    with Image.open(png) as image:
        assert image.size == (1280, 800)
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 50
