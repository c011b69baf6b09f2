"""The real `hallq server` as a subprocess on a free port, for tests of every area.

    from tests.support.dispatcher import start_dispatcher

    @pytest.fixture
    def dispatcher(tmp_path):
        d = start_dispatcher(tmp_path)            # demo hall, SQLite in tmp_path, embedded/given broker
        yield d
        d.stop()

    d.url                      # http://127.0.0.1:PORT
    d.api                      # http://127.0.0.1:PORT/api/v1
    d.headers                  # {"Authorization": "Bearer demo-device-token"} (demo mode)
    d.login("clerk3", window="3")  # → clerk access token (password `demo`)
    d.kill()                   # SIGKILL
    d.terminate()              # SIGTERM, waits for exit
    d.restart()                # start again on the same port and database
    d.log_text()               # what the server printed (for assertion messages)

`database` is any SQLAlchemy URL (default: sqlite file in tmp_path). `mqtt_url`: a broker for the
server to publish to (e.g. tests.support.broker's `broker.url`); without it the server runs its
embedded broker on a free port (`d.mqtt_url` tells where).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from tests.support.ports import free_port
from tests.support.process import ServerProcess

DEMO_TOKEN = "demo-device-token"
DEMO_PASSWORD = "demo"
TEST_HMAC_SECRET = "tests-hmac-secret-0123456789abcdef0123456789"
START_TIMEOUT_S = 45.0


class Dispatcher(ServerProcess):
    """One `hallq server` process; see the module docstring."""

    def __init__(
        self,
        workdir: Path,
        *,
        mqtt_url: str | None,
        database: str | None,
        demo: bool,
        extra_args: Sequence[str],
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(workdir, "dispatcher")
        self.database = database or f"sqlite:///{workdir / 'hallq.sqlite3'}"
        self.mqtt_url = mqtt_url
        self.embedded_mqtt_port: int | None = None
        self.demo = demo
        self.extra_args = list(extra_args)
        self.env = env or {}
        self.hall = "demo"
        # A standby dispatcher (PostgreSQL, another one holds the hall) answers 503 until it takes over.
        self.accept_standby = False

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {DEMO_TOKEN}"} if self.demo else {}

    def command(self) -> list[str]:
        cmd = [
            sys.executable, "-m", "hallq.cli", "server",
            "--host", self.host, "--port", str(self.port), "--database", self.database,
        ]  # fmt: skip
        if self.mqtt_url:
            cmd += ["--mqtt", self.mqtt_url]
        elif "--broker-port" not in self.extra_args:
            # The embedded broker must not fight for 1883 with other tests running in parallel.
            self.embedded_mqtt_port = self.embedded_mqtt_port or free_port()
            cmd += ["--broker-port", str(self.embedded_mqtt_port)]
        if self.demo:
            cmd.append("--demo")
        return cmd + self.extra_args

    def start(self) -> Dispatcher:
        env = {**os.environ, "HALLQ_HMAC_SECRET": TEST_HMAC_SECRET, "PYTHONUNBUFFERED": "1", **self.env}
        for key in (
            "HALLQ_DATABASE",
            "HALLQ_MQTT",
            "HALLQ_CONFIG",
            "HALLQ_PORT",
            "HALLQ_HOST",
            "HALLQ_DEMO",
            "HALLQ_HUB",
            "HALLQ_HUB_TOKEN",
        ):
            if key not in self.env:
                env.pop(key, None)
        self.spawn(self.command(), env)
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"hallq server exited with {self.proc.returncode}:\n{self.log_text()[-4000:]}")
            with contextlib.suppress(httpx.HTTPError):
                status = httpx.get(f"{self.api}/halls/{self.hall}", timeout=2).status_code
                if status == 200 or (status == 503 and self.accept_standby):
                    return
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"hallq server did not answer within {timeout:.0f}s:\n{self.log_text()[-4000:]}")

    def restart(self) -> Dispatcher:
        self.terminate()
        return self.start()

    def login(self, username: str, window: str | None = None, password: str = DEMO_PASSWORD) -> str:
        body: dict[str, str] = {"username": username, "password": password}
        if window is not None:
            body["window"] = window
        response = httpx.post(f"{self.api}/auth/login", json=body, timeout=10)
        response.raise_for_status()
        return str(response.json()["access_token"])

    def clerk_headers(self, window: str, username: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.login(username or f'clerk{window}', window)}"}

    def issue(self, service: str, key: str) -> str:
        """Issue a kiosk ticket for `service` (demo hall); its number."""
        response = httpx.post(
            f"{self.api}/halls/demo/tickets",
            json={"service": service, "channel": "kiosk"},
            headers={**self.headers, "Idempotency-Key": key},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["number"])

    def call_next(self, window: str, key: str) -> str:
        """Log clerk{window} in and call the next ticket there; its number."""
        headers = {**self.clerk_headers(window), "Idempotency-Key": key}
        response = httpx.post(f"{self.api}/halls/demo/windows/{window}/call-next", headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        return str(response.json()["ticket"]["number"])


def start_dispatcher(
    tmp_path: Path,
    mqtt_url: str | None = None,
    database: str | None = None,
    demo: bool = True,
    extra_args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    standby: bool = False,
) -> Dispatcher:
    """Start `hallq server` (demo hall by default) and wait until GET /api/v1/halls/demo answers
    (with `standby=True` a 503 "standing by" counts as started: a second dispatcher on PostgreSQL)."""
    workdir = Path(tmp_path) / "dispatcher"
    workdir.mkdir(parents=True, exist_ok=True)
    dispatcher = Dispatcher(workdir, mqtt_url=mqtt_url, database=database, demo=demo, extra_args=extra_args, env=env)
    dispatcher.accept_standby = standby
    return dispatcher.start()
