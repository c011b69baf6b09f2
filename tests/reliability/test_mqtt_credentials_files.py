"""`hallq mqtt-credentials` run as root writes files the broker can read (issue 12): a real Mosquitto,
started as root so that it drops to its own user before it opens them, starts and lets the
dispatcher in."""

from __future__ import annotations

import contextlib
import grp
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from hallq.cli import build_parser
from hallq.config import example_config_path
from tests.support.ports import free_port

PASSWORD = "dispatcher-broker-password"


def _has_broker_group() -> bool:
    try:
        return grp.getgrnam("mosquitto") is not None
    except KeyError:
        return False


pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("mosquitto") is None or not _has_broker_group(),
    reason="needs root and Mosquitto with its `mosquitto` account",
)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder the `mosquitto` user can reach (pytest's tmp_path is root-only)."""
    base = Path(tempfile.mkdtemp(prefix="hallq-broker-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base)


def write_credentials(out: Path) -> None:
    args = build_parser().parse_args(
        ["mqtt-credentials", str(example_config_path()), "--out", str(out), "--demo", "--dispatcher-password", PASSWORD]
    )
    assert args.func(args) == 0


def connect_code(port: int, username: str, password: str) -> int:
    answered = threading.Event()
    codes: list[int] = []

    def on_connect(client: mqtt.Client, userdata: object, flags: object, reason: object, props: object) -> None:
        codes.append(int(getattr(reason, "value", reason)))  # type: ignore[call-overload]
        answered.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="hallq-credentials-test")
    client.username_pw_set(username, password)
    client.on_connect = on_connect
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        assert answered.wait(10), "no CONNACK"
    finally:
        client.loop_stop()
        client.disconnect()
    return codes[0]


def test_files_written_as_root_are_readable_by_mosquitto(shared_dir: Path) -> None:
    out = shared_dir / "hallq"
    write_credentials(out)
    broker_gid = grp.getgrnam("mosquitto").gr_gid
    for name in ("passwd", "acl"):
        info = (out / name).stat()
        assert stat.S_IMODE(info.st_mode) == 0o640 and info.st_gid == broker_gid, (name, oct(info.st_mode))
    assert (out.stat().st_gid, stat.S_IMODE(out.stat().st_mode)) == (broker_gid, 0o750)

    port = free_port()
    log = shared_dir / "mosquitto.log"
    conf = shared_dir / "mosquitto.conf"
    conf.write_text(  # no `user` line: started as root, Mosquitto becomes user mosquitto, then reads the files
        f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {out / 'passwd'}\n"
        f"acl_file {out / 'acl'}\npersistence false\nlog_dest stderr\n",
        encoding="utf-8",
    )
    with log.open("wb") as sink:
        broker = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and broker.poll() is None:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            time.sleep(0.05)
        assert broker.poll() is None, log.read_text(errors="replace")
        assert connect_code(port, "hallq-dispatcher", PASSWORD) == 0, log.read_text(errors="replace")
        assert connect_code(port, "hallq-dispatcher", "wrong") != 0
    finally:
        broker.terminate()
        broker.wait(10)
