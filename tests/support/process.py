"""One of our servers as a real process for the tests (tests/support/dispatcher.py, hub.py): started in
its own session with its output in a log file, stopped with SIGTERM, killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from tests.support.ports import free_port


class ServerProcess:
    host = "127.0.0.1"

    def __init__(self, workdir: Path, log_name: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.log_path = workdir / f"{log_name}-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api(self) -> str:
        return f"{self.url}/api/v1"

    def spawn(self, cmd: list[str], env: dict[str, str]) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.workdir, start_new_session=True
            )

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs (the crash case)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def terminate(self, timeout: float = 15) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    stop = terminate
