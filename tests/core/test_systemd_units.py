"""The shipped systemd units start commands and options that exist."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from hallq.cli import build_parser

UNITS = sorted((Path(__file__).resolve().parents[2] / "config" / "systemd").glob("*.service"))


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.stem)
def test_unit_command_parses(unit: Path) -> None:
    exec_start = next(line for line in unit.read_text(encoding="utf-8").splitlines() if line.startswith("ExecStart="))
    argv = shlex.split(exec_start.removeprefix("ExecStart="))
    assert argv[0].endswith("/hallq")
    args = build_parser().parse_args(argv[1:])  # argparse exits (fails the test) on an unknown option
    assert args.command == argv[1] and callable(args.func)


def test_every_device_has_a_unit() -> None:
    assert {u.stem for u in UNITS} == {
        f"hallq-{n}" for n in ("server", "hub", "kiosk", "board", "terminal", "voice", "window-screen", "keypad-bridge")
    }
