"""Fixtures for the terminal tests: the UI driver subprocess, artifacts folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.broker import Broker, start_mosquitto
from tests.support.dispatcher import Dispatcher, start_dispatcher

REPO = Path(__file__).resolve().parents[2]
SCREENS = REPO / "artifacts" / "screens"


def run_ui(
    out: Path, *args: str, timeout: float = 90, conductor: Callable[[Path], None] | None = None
) -> dict[str, Any]:
    """Run tests/terminal/ui_driver.py in its own process (one Kivy window per process).

    `conductor(out)` runs in the test meanwhile, for scenarios that wait on files it creates."""
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "tests.terminal.ui_driver", "--out", str(out), *args]
    if not os.environ.get("DISPLAY"):
        if shutil.which("xvfb-run") is None:
            pytest.skip("no DISPLAY and no xvfb-run")
        command = ["xvfb-run", "-a", "-s", "-screen 0 1920x1920x24", *command]
    env = {**os.environ, "KIVY_NO_CONSOLELOG": "1", "KIVY_HOME": str(out / "kivy-home")}
    log_path = out / "driver.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            if conductor is not None:
                conductor(out)
            proc.wait(timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    result_path = out / "result.json"
    if not result_path.exists():
        tail = log_path.read_text(errors="replace")[-4000:]
        raise AssertionError(f"the UI driver wrote no result (exit {proc.returncode}):\n{tail}")
    result: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
    if result["error"]:
        tail = log_path.read_text(errors="replace")[-3000:]
        raise AssertionError(f"UI scenario failed:\n{result['error']}\n{tail}")
    return result


def wait_for_file(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"the UI driver never reached {path.name}")
        time.sleep(0.05)


def records_by_name(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {record["name"]: record for record in result["records"]}


def keep_screens(records: dict[str, dict[str, Any]], prefix: str = "") -> None:
    """Copy the screenshots to artifacts/screens/ for people to look at."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    for record in records.values():
        if record.get("screenshot"):
            source = Path(record["screenshot"])
            shutil.copy(source, SCREENS / f"{prefix}{source.name}")


@pytest.fixture(scope="session")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Broker, Dispatcher]]:
    """One real Mosquitto and one real `hallq server --demo` for all terminal and keypad tests
    (each test uses its own windows and services so they do not meet)."""
    tmp_path = tmp_path_factory.mktemp("terminal-hall")
    broker = start_mosquitto(tmp_path)
    try:
        dispatcher = start_dispatcher(tmp_path, mqtt_url=broker.url)
    except Exception:
        broker.stop()
        raise
    yield broker, dispatcher
    dispatcher.stop()
    broker.stop()
