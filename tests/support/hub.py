"""The real `hallq hub` as a subprocess on a free port, for the network tests.

from tests.support.hub import start_hub

hub = start_hub(tmp_path, database)         # demo mode: admin / demo logs in
token = hub.add_hall("xiashu", name="下蜀镇便民服务中心", kind="town", parent="city")
hub.url, hub.api                            # http://127.0.0.1:PORT, …/api/v1
hub.halls()                                 # GET /api/v1/hub/halls as admin → {hall: row}
hub.stats("2026-12-01", "2026-12-07", by="hall", under=None)
hub.kill(); hub.start()                     # SIGKILL, then again on the same port and database
hub.stop()                                  # SIGTERM
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.process import ServerProcess

START_TIMEOUT_S = 45.0


class Hub(ServerProcess):
    def __init__(self, workdir: Path, database: str, demo: bool = True) -> None:
        super().__init__(workdir, "hub")
        self.database = database
        self.demo = demo
        self._token: str | None = None

    def _env(self) -> dict[str, str]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for key in ("HALLQ_HUB_DATABASE", "HALLQ_HUB_HOST", "HALLQ_HUB_PORT", "HALLQ_DEMO"):
            env.pop(key, None)
        return env

    def start(self) -> Hub:
        cmd = [sys.executable, "-m", "hallq.cli", "hub", "--database", self.database,
               "--host", self.host, "--port", str(self.port)]  # fmt: skip
        if self.demo:
            cmd.append("--demo")
        self.spawn(cmd, self._env())
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"hallq hub exited with {self.proc.returncode}:\n{self.log_text()[-4000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.api}/hub/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"hallq hub did not answer within {START_TIMEOUT_S:.0f}s:\n{self.log_text()[-4000:]}")

    def add_hall(self, hall: str, *, name: str, kind: str, parent: str | None = None) -> str:
        """`hallq hub add-hall …` → the token it printed."""
        cmd = [sys.executable, "-m", "hallq.cli", "hub", "add-hall", hall, "--name", name, "--kind", kind,
               "--database", self.database] + (["--parent", parent] if parent else [])  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, env=self._env(), cwd=self.workdir, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    # ---- as staff ---------------------------------------------------------------------------------

    def headers(self) -> dict[str, str]:
        if self._token is None:
            answer = httpx.post(f"{self.api}/auth/login", json={"username": "admin", "password": "demo"}, timeout=30)
            answer.raise_for_status()
            self._token = str(answer.json()["access_token"])
        return {"Authorization": f"Bearer {self._token}"}

    def halls(self) -> dict[str, dict[str, Any]]:
        answer = httpx.get(f"{self.api}/hub/halls", headers=self.headers(), timeout=30)
        answer.raise_for_status()
        return {row["hall"]: row for row in answer.json()}

    def stats(self, start: str, end: str, by: str = "hall", under: str | None = None) -> dict[str, Any]:
        params = {"from": start, "to": end, "by": by, **({"under": under} if under else {})}
        answer = httpx.get(f"{self.api}/hub/stats", params=params, headers=self.headers(), timeout=60)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result


def start_hub(tmp_path: Path, database: str, demo: bool = True) -> Hub:
    workdir = Path(tmp_path) / "hub"
    workdir.mkdir(parents=True, exist_ok=True)
    return Hub(workdir, database, demo).start()
