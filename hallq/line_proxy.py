"""A TCP relay standing for a hall's WAN line to the hub, which `hallq demo --network` can cut and
restore: the hall's uplink talks to the relay's port as if it were the hub.

    line = LineProxy(("127.0.0.1", hub_port), port=free_port).start()
    line.cut()        # open connections dropped, new ones refused: the hall is cut off
    line.restore()    # the line is back on the same port; the uplink resumes by itself

One thread accepts, two pump each connection (`_pump_up` towards the hub, `_pump_down` back): the
network tests' tests/support/tcp_proxy.py overrides them to cut mid-request, lose answers and
throttle; the demo needs only the line up or down.
"""

from __future__ import annotations

import contextlib
import socket
import threading

CHUNK = 16 * 1024


class LineProxy:
    def __init__(self, target: tuple[str, int], port: int, host: str = "127.0.0.1") -> None:
        self.target = target
        self.host = host
        self.port = port
        self._listener: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._guard = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def is_up(self) -> bool:
        return self._listener is not None

    def start(self) -> LineProxy:
        listener = socket.create_server((self.host, self.port))
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name="line-proxy", daemon=True).start()
        return self

    restore = start

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            close_quietly(listener)  # shutdown first: a bare close() leaves the blocked accept() accepting
        with self._guard:
            conns, self._conns = set(self._conns), set()
        for conn in conns:
            close_quietly(conn)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                close_quietly(client)
                continue
            upstream.settimeout(None)
            with self._guard:
                self._conns |= {client, upstream}
            threading.Thread(target=self._pump_up, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump_down, args=(upstream, client), daemon=True).start()

    def _pump_up(self, client: socket.socket, upstream: socket.socket) -> None:
        self._pump(client, upstream)

    def _pump_down(self, upstream: socket.socket, client: socket.socket) -> None:
        self._pump(upstream, client)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        while True:
            try:
                data = source.recv(CHUNK)
                if not data:
                    break
                sink.sendall(data)
            except OSError:
                break
        close_quietly(source)
        close_quietly(sink)
        with self._guard:
            self._conns -= {source, sink}


def close_quietly(sock: socket.socket) -> None:
    """Shut down and close, whatever state the socket is in."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
