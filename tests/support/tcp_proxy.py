"""A TCP proxy between a hall's uplink and the hub, to break the line the ways a WAN breaks.

    proxy = TcpProxy(("127.0.0.1", hub.port)).start()     # proxy.url: give it to the hall as --hub
    proxy.stop()                  # the line is down: connections cut, new ones refused
    proxy.start()                 # up again, on the same port
    proxy.cut_after(40_000)       # the next request is cut after 40 kB went up (mid-batch)
    proxy.lose_next_answer()      # the next answer never comes back (the hub stored, the ack is lost)
    proxy.throttle(64_000)        # at most 64 kB/s towards the hub (a slow line: shipping takes a while)
    proxy.bytes_up                # bytes forwarded towards the hub so far

One thread accepts, two pump each connection; a cut closes both sides of the connection it hits.
"""

from __future__ import annotations

import socket
import time

from hallq.line_proxy import CHUNK, LineProxy, close_quietly
from tests.support.ports import free_port


class TcpProxy(LineProxy):
    """The demo's line relay (hallq/line_proxy.py) with the ways a WAN breaks besides going down."""

    def __init__(self, target: tuple[str, int]) -> None:
        super().__init__(target, free_port())
        self.bytes_up = 0
        self.cuts = 0  # requests cut in the middle (cut_after)
        self.answers_lost = 0  # answers dropped on the way back (lose_next_answer)
        self._cut_after: int | None = None
        self._lose_answer = False
        self._rate: float | None = None

    def start(self) -> TcpProxy:
        super().start()
        return self

    stop = LineProxy.cut

    def cut_after(self, nbytes: int) -> None:
        with self._guard:
            self._cut_after = nbytes

    def lose_next_answer(self) -> None:
        with self._guard:
            self._lose_answer = True

    def throttle(self, bytes_per_s: float | None) -> None:
        self._rate = bytes_per_s

    def _pump_up(self, client: socket.socket, upstream: socket.socket) -> None:
        while data := _recv(client):
            with self._guard:
                limit = self._cut_after
                if limit is not None and len(data) >= limit:
                    self._cut_after = None
                elif limit is not None:
                    self._cut_after = limit - len(data)
            if limit is not None and len(data) >= limit:
                _send(upstream, data[:limit])
                self.bytes_up += limit
                self.cuts += 1
                break  # the line drops in the middle of the request
            self._wait_for_rate(len(data))
            if not _send(upstream, data):
                break
            self.bytes_up += len(data)
        close_quietly(client)
        close_quietly(upstream)

    def _pump_down(self, upstream: socket.socket, client: socket.socket) -> None:
        while data := _recv(upstream):
            with self._guard:
                lose, self._lose_answer = self._lose_answer, False
            if lose:
                self.answers_lost += 1
                break
            if not _send(client, data):
                break
        close_quietly(client)
        close_quietly(upstream)

    def _wait_for_rate(self, nbytes: int) -> None:
        rate = self._rate
        if rate:
            time.sleep(nbytes / rate)


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(CHUNK)
    except OSError:
        return b""


def _send(sock: socket.socket, data: bytes) -> bool:
    try:
        sock.sendall(data)
        return True
    except OSError:
        return False
