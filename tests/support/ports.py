"""Free ports for the processes tests start.

Ports are chosen below the kernel's ephemeral range (net.ipv4.ip_local_port_range), where the
kernel never hands one out by itself: neither to a process that binds port 0 (a demo that picks its
own ports, a server's embedded broker) nor to an outgoing connection. So a port chosen here and
released until its process binds it cannot be taken meanwhile by anything but another test. Each
port handed out is remembered and never handed out again in this test run, and with the suite split
over pytest-xdist workers each worker takes only the ports of its own lane (port modulo the number
of workers), so two workers never hand out the same one either.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from hallq.ports import free_ports

LOWEST = 10_000  # below are well-known and registered services' ports
RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_handed_out: set[int] = set()


def _lane() -> tuple[int, int]:
    """(this worker's lane, the number of lanes): (0, 1) when the suite runs in one process."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1 …
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if not worker.startswith("gw") or count < 2:
        return 0, 1
    return int(worker[2:]) % count, count


def _ephemeral_start() -> int:
    try:
        return int(RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def _candidates() -> list[int]:
    lane, lanes = _lane()
    ports = [p for p in range(LOWEST, _ephemeral_start()) if p % lanes == lane and p not in _handed_out]
    random.shuffle(ports)  # two test runs at once on one machine rarely meet
    return ports


def free_port() -> int:
    for port in _candidates()[:400]:
        if free_ports([port]) == [port]:  # nothing listens there now
            _handed_out.add(port)
            return port
    raise RuntimeError("no free TCP port below the ephemeral range in this worker's lane after 400 tries")
