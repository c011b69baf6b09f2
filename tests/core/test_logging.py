"""Device logs are plain text at the chosen level: no colour codes, no per-request HTTP chatter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# What a device process does: hallq's logging first, Kivy imported afterwards (as `hallq terminal` does).
PROCESS = """
import logging, sys
from hallq.cli import configure_logging
configure_logging(sys.argv[1])
import kivy
from kivy.logger import Logger
Logger.info("Window: kivy line")
logging.getLogger("httpcore.connection").debug("connect_tcp.started host='127.0.0.1'")
logging.getLogger("httpx").info("HTTP Request: GET http://127.0.0.1:8000/api/v1/halls/demo")
logging.getLogger("httpx").warning("HTTP trouble")
logging.getLogger("caller.terminal").info("called A001")
"""


def run_device_process(tmp_path: Path, level: str) -> str:
    log_file = tmp_path / "terminal.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIVY_")} | {
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",  # Kivy colours its output for such a terminal unless told otherwise
        "KIVY_HOME": str(tmp_path / "kivy"),
    }
    with log_file.open("wb") as sink:
        subprocess.run([sys.executable, "-c", PROCESS, level], stdout=sink, stderr=sink, env=env, check=True)
    return log_file.read_text(encoding="utf-8")


def test_a_log_file_has_no_colour_codes_and_no_http_chatter(tmp_path: Path) -> None:
    text = run_device_process(tmp_path, "INFO")
    assert "\x1b[" not in text
    assert "kivy line" in text and "called A001" in text and "HTTP trouble" in text
    assert "connect_tcp" not in text and "HTTP Request" not in text


def test_debug_level_still_keeps_http_libraries_at_warning(tmp_path: Path) -> None:
    text = run_device_process(tmp_path, "DEBUG")
    assert "\x1b[" not in text and "connect_tcp" not in text and "HTTP trouble" in text
