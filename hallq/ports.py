"""Choosing free TCP ports on the loopback interface.

Asking the kernel for port 0 twice can hand out the same port twice once the first probe socket
is closed, so ports wanted together are probed with every probe socket held open until all are chosen.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Sequence

LOOPBACK = "127.0.0.1"


def free_ports(preferred: Sequence[int], host: str = LOOPBACK) -> list[int]:
    """One distinct free port per entry: the preferred one if nothing listens there, else one the kernel picks."""
    with contextlib.ExitStack() as held:
        return [_hold_port(held, host, wanted) for wanted in preferred]


def _hold_port(held: contextlib.ExitStack, host: str, preferred: int) -> int:
    for port in (preferred, 0) if preferred else (0,):
        probe = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
        try:
            probe.bind((host, port))
        except OSError:
            continue
        return int(probe.getsockname()[1])
    raise RuntimeError(f"no free TCP port on {host}")
