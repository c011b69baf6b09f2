"""Set-up for every test: each pytest-xdist worker draws on an X display of its own (tests/support/display.py),
and the longest test files are handed out first."""

from __future__ import annotations

import subprocess

import pytest

from tests.support.display import start_worker_display, stop_worker_display

_DISPLAY: list[subprocess.Popen[bytes] | None] = []
# The files that take longest (CI's --durations, 30-90 s each), longest first. The two workers take
# whole files in collection order, so one of these collected last can keep one worker busy after the
# other has finished; handed out first, the many short files fill in around them.
LONGEST_FIRST = (
    "tests/kiosk_submission/test_ui.py",
    "tests/network/test_network.py",
    "tests/core/test_demo.py",
    "tests/reliability/test_openapi_fuzz.py",
    "tests/network/test_demo_network.py",
    "tests/network/test_forwarding.py",
    "tests/web/test_city_page.py",
    "tests/network/test_city.py",
    "tests/display/test_board_dispatcher.py",
    "tests/reliability/test_mqtt_fuzz.py",
)


def pytest_configure(config: pytest.Config) -> None:
    _DISPLAY.append(start_worker_display())


def pytest_unconfigure(config: pytest.Config) -> None:
    while _DISPLAY:
        stop_worker_display(_DISPLAY.pop())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files first (LONGEST_FIRST); every file keeps its own tests' order."""
    rank = {path: n for n, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))
