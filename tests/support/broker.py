"""A real Mosquitto for tests, started from the shipped config/mosquitto.conf on a free port.

    from tests.support.broker import start_mosquitto

    @pytest.fixture
    def broker(tmp_path):
        b = start_mosquitto(tmp_path)          # demo hall by default
        yield b
        b.stop()

    broker.url                    # mqtt://hallq-dispatcher:…@127.0.0.1:PORT  (for `hallq server --mqtt`)
    broker.device_url("board-1")  # mqtt://board-1:demo-device-token@127.0.0.1:PORT, added on the fly
    broker.device_url("kp", windows=["3"])   # a keypad bridge that may command window 3
    broker.add_devices(["b1", "b2", ...])     # many at once (one reload) → their URLs
    start_mosquitto(tmp_path, overrides={"max_queued_messages": "100"})  # change a shipped directive
    broker.port, broker.host
    broker.stop()   # SIGTERM: Mosquitto saves its persistence file
    broker.kill()   # SIGKILL: no save
    broker.start()  # again on the same port; start(fresh=True) forgets everything (retained, sessions)

Authentication and ACL are the production ones (`hallq mqtt-credentials`): anonymous clients are
refused, a device writes only its own status and its windows' commands. Devices listed in the hall
config's credentials with the demo token (`demo-device`) are there from the start; any other device id
is added by `device_url()` / `add_device()` (the files are rewritten and Mosquitto reloads on SIGHUP).
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

from hallq.config import example_config_path, load_hall_config
from hallq.mqtt_credentials import (
    DEMO_TOKEN,
    DISPATCHER_USER,
    BrokerUser,
    device_user,
    dispatcher_user,
    hall_users,
    write_broker_files,
)
from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[2]
SHIPPED_CONF = REPO / "config" / "mosquitto.conf"
DISPATCHER_PASSWORD = "test-dispatcher-password"
REWRITTEN = ("listener", "persistence_location", "password_file", "acl_file", "log_dest", "pid_file", "user")


class Broker:
    """One Mosquitto process; see the module docstring."""

    host = "127.0.0.1"

    def __init__(
        self,
        workdir: Path,
        hall: str,
        users: list[BrokerUser],
        port: int | None = None,
        overrides: dict[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.overrides = dict(overrides or {})
        self.hall = hall
        self.port = port or free_port()
        self._users = {u.username: u for u in users}
        self.conf_path = workdir / "mosquitto.conf"
        self.log_path = workdir / "mosquitto.log"
        self.data_dir = workdir / "data"
        self.proc: subprocess.Popen[bytes] | None = None

    # --- URLs and credentials -------------------------------------------------------------

    @property
    def url(self) -> str:
        """The dispatcher's URL (it may write everything under the hall root)."""
        return self.user_url(DISPATCHER_USER, DISPATCHER_PASSWORD)

    @property
    def anonymous_url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def user_url(self, username: str, password: str) -> str:
        return f"mqtt://{quote(username, safe='')}:{quote(password, safe='')}@{self.host}:{self.port}"

    def device_url(self, device: str, token: str = DEMO_TOKEN, windows: list[str] | None = None, kind: str = "") -> str:
        """URL for a device; adds it to the password file and ACL if it is new or changed."""
        known = self._users.get(device)
        if known is None or known.password != token or (windows is not None and known.write != self._cmds(windows)):
            self.add_device(device, token, windows or [], kind)
        return self.user_url(device, token)

    def add_device(
        self, device: str, token: str = DEMO_TOKEN, windows: list[str] | None = None, kind: str = ""
    ) -> None:
        self._users[device] = device_user(self.hall, device, token, windows or [], kind)
        self._write_auth()
        self.reload()

    def add_devices(self, devices: list[str], token: str = DEMO_TOKEN, kind: str = "") -> list[str]:
        """Many devices at once (one file write, one reload); returns their URLs."""
        for device in devices:
            self._users[device] = device_user(self.hall, device, token, [], kind)
        self._write_auth()
        self.reload()
        return [self.user_url(device, token) for device in devices]

    def _cmds(self, windows: list[str]) -> list[str]:
        return device_user(self.hall, "x", "x", windows).write

    # --- process control --------------------------------------------------------------------

    def start(self, fresh: bool = False, timeout: float = 10.0) -> None:
        """Start (again) on the same port. fresh=True wipes persistence: a broker with no memory."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("mosquitto is already running")
        if fresh and self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._write_auth()
        self._write_conf()
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                ["mosquitto", "-c", str(self.conf_path)], stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir
            )
        self._wait_listening(timeout)

    def stop(self) -> None:
        """Graceful stop (SIGTERM): Mosquitto writes its persistence file."""
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: nothing saved since the last autosave."""
        self._signal(signal.SIGKILL)

    def restart(self, fresh: bool = False) -> None:
        self.stop()
        self.start(fresh=fresh)

    def reload(self) -> None:
        """SIGHUP: Mosquitto re-reads the password file and the ACL."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGHUP)
            time.sleep(0.2)  # the reload is asynchronous; give it a moment before the next connect

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _signal(self, sig: signal.Signals) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), timeout=0.5):
                return
            time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.port} within {timeout}s:\n{self.log()[-3000:]}")

    def _write_auth(self) -> None:
        write_broker_files(list(self._users.values()), self.workdir / "auth")

    def _write_conf(self) -> None:
        """The shipped config with only ports and paths changed, so tests run what halls run."""
        kept = [
            line
            for line in SHIPPED_CONF.read_text(encoding="utf-8").splitlines()
            if not line.strip() or line.lstrip().startswith("#") or line.split()[0] not in (*REWRITTEN, *self.overrides)
        ]
        auth = self.workdir / "auth"
        kept += [
            "# --- rewritten by tests/support/broker.py ---",
            f"listener {self.port} {self.host}",
            f"persistence_location {self.data_dir}/",
            f"password_file {auth / 'passwd'}",
            f"acl_file {auth / 'acl'}",
            f"log_dest file {self.log_path}",
            *(f"{key} {value}" for key, value in self.overrides.items()),
        ]
        if os.geteuid() == 0:
            kept.append(f"user {getpass.getuser()}")  # don't drop to `mosquitto`: it cannot read tmp_path
        self.conf_path.write_text("\n".join(kept) + "\n", encoding="utf-8")

    def __enter__(self) -> Broker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_mosquitto(
    tmp_path: Path,
    hall_config_path: str | Path | None = None,
    *,
    port: int | None = None,
    overrides: dict[str, str] | None = None,
) -> Broker:
    """A running Mosquitto for the hall (the demo hall by default) with the dispatcher user and the
    demo devices; each test gets its own directory under tmp_path, port, persistence and auth files.
    `overrides` replaces directives of the shipped config, e.g. {"max_queued_messages": "100"}."""
    config = load_hall_config(hall_config_path or example_config_path())
    workdir = Path(tmp_path) / f"mosquitto-{os.getpid()}-{time.monotonic_ns()}"
    workdir.mkdir(parents=True)
    devices, _missing = hall_users(config, {}, demo=True)  # devices with unknown tokens: use add_device
    users = [dispatcher_user([config.hall.id], DISPATCHER_PASSWORD), *devices]
    broker = Broker(workdir, config.hall.id, users, port, overrides)
    broker.start()
    return broker
