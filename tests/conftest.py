"""Set-up for every test: each pytest-xdist worker draws on an X display of its own (tests/support/display.py)."""

from __future__ import annotations

import subprocess

import pytest

from tests.support.display import start_worker_display, stop_worker_display

_DISPLAY: list[subprocess.Popen[bytes] | None] = []


def pytest_configure(config: pytest.Config) -> None:
    _DISPLAY.append(start_worker_display())


def pytest_unconfigure(config: pytest.Config) -> None:
    while _DISPLAY:
        stop_worker_display(_DISPLAY.pop())
