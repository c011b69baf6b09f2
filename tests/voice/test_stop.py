"""`hallq voice` stops cleanly on SIGINT (Ctrl-C reaches the whole process group) and SIGTERM:
exit status 0, no traceback in its log, no TTS worker left behind."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_voice(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path]:
    port = closed_port()  # no dispatcher and no broker: the caller starts and waits for them
    log = tmp_path / "voice.log"
    command = [
        sys.executable, "-m", "hallq.cli", "voice", "--demo", "--server", f"http://127.0.0.1:{port}",
        "--mqtt", f"mqtt://127.0.0.1:{port}", "--hall", "demo", "--device", "voice-stop",
        "--no-audio", "--wav-dir", str(tmp_path / "wav"), "--neural", "off",
    ]  # fmt: skip
    with log.open("wb") as out:
        # A process group of its own, like a terminal's: the signal goes to every process in it.
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONFAULTHANDLER": "1"},  # SIGABRT writes every thread's stack to the log
        )
    return process, log


def exit_status(process: subprocess.Popen[bytes], log: Path, timeout_s: float = 30) -> int:
    """The caller's exit status; if it hangs, the failure shows where each of its threads was."""
    try:
        return process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        process.wait(10)
        raise AssertionError(
            f"still running {timeout_s:.0f} s after the signal:\n{log.read_text(errors='replace')}"
        ) from None


def wait_for_line(process: subprocess.Popen[bytes], log: Path, pattern: str, timeout_s: float = 60) -> re.Match[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = re.search(pattern, log.read_text(errors="replace"))
        if found:
            return found
        assert process.poll() is None, log.read_text(errors="replace")
        time.sleep(0.05)
    raise AssertionError(f"no {pattern!r} in the log:\n{log.read_text(errors='replace')}")


def gone(pid: int, timeout_s: float = 10) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("how", ["ctrl-c to the group", "sigterm"])
def test_a_running_caller_stops_without_a_traceback(tmp_path: Path, how: str) -> None:
    process, log = start_voice(tmp_path)
    try:
        worker = int(wait_for_line(process, log, r"TTS worker (\d+) ready").group(1))
        wait_for_line(process, log, r"voice caller voice-stop: ")
        if how == "sigterm":
            process.terminate()
        else:
            os.killpg(process.pid, signal.SIGINT)
        assert exit_status(process, log) == 0
    finally:
        if process.poll() is None:
            process.kill()
    said = log.read_text(errors="replace")
    assert "Traceback" not in said and "KeyboardInterrupt" not in said, said
    assert gone(worker), f"TTS worker {worker} outlived the caller"


def test_ctrl_c_while_starting_stops_without_a_traceback(tmp_path: Path) -> None:
    process, log = start_voice(tmp_path)
    try:
        wait_for_line(process, log, r"hall info not available")  # now choosing the voice, starting the worker
        os.killpg(process.pid, signal.SIGINT)
        assert exit_status(process, log) == 0
    finally:
        if process.poll() is None:
            process.kill()
    said = log.read_text(errors="replace")
    assert "Traceback" not in said and "KeyboardInterrupt" not in said, said
