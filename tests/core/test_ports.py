"""Ports chosen together are distinct; the dispatcher refuses one port for both HTTP and MQTT."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from hallq.ports import free_ports


def test_ports_chosen_together_are_distinct_and_free() -> None:
    ports = free_ports([0] * 20)
    assert len(set(ports)) == 20
    for port in ports:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))


def test_a_taken_preferred_port_is_replaced_and_a_free_one_kept() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        [replacement] = free_ports([busy])
        assert replacement != busy
    [kept] = free_ports([busy])  # released now
    assert kept == busy


def test_dispatcher_refuses_the_same_port_for_http_and_the_embedded_broker(tmp_path: Path) -> None:
    [port] = free_ports([0])
    result = subprocess.run(
        [sys.executable, "-m", "hallq.cli", "server", "--demo", "--port", str(port), "--broker-port", str(port)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={"HALLQ_HMAC_SECRET": "x" * 40, "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 2
    assert f"cannot both use port {port}" in result.stderr
