"""Free ports for the processes tests start.

The kernel may hand out a port again as soon as its probe socket closes, and a test asks for
several ports before any process binds them (a dispatcher's HTTP port and its embedded broker's),
so each port handed out here is remembered and never handed out again in this test run.
"""

from __future__ import annotations

from hallq.ports import free_ports

_handed_out: set[int] = set()


def free_port() -> int:
    for _ in range(100):
        [port] = free_ports([0])
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError("no fresh free TCP port on 127.0.0.1 after 100 tries")
