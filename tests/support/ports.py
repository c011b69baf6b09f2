"""Free ports for the processes tests start.

The kernel may hand out a port again as soon as its probe socket closes, and a test asks for
several ports before any process binds them (a dispatcher's HTTP port and its embedded broker's),
so each port handed out here is remembered and never handed out again in this test run. With the
suite split over pytest-xdist workers, each worker takes only the ports of its own lane (half the port
modulo the number of workers), so two workers never hand out the same port either.
"""

from __future__ import annotations

import os

from hallq.ports import free_ports

_handed_out: set[int] = set()


def _lane() -> tuple[int, int]:
    """(this worker's lane, the number of lanes): (0, 1) when the suite runs in one process."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1 …
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if not worker.startswith("gw") or count < 2:
        return 0, 1
    return int(worker[2:]) % count, count


def free_port() -> int:
    lane, lanes = _lane()
    for _ in range(400):
        [port] = free_ports([0])
        # bind(0) on Linux hands out odd ports only (even ones are kept for connect()): lane by port // 2.
        if port not in _handed_out and (port // 2) % lanes == lane:
            _handed_out.add(port)
            return port
    raise RuntimeError("no fresh free TCP port on 127.0.0.1 in this worker's lane after 400 tries")
