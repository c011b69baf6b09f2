"""Carry a simulator's bytes over a pseudo-terminal or TCP, so real drivers open it like hardware.

`PtyEndpoint(device)` makes a pty; the driver opens `serial://{endpoint.path}`. Give it a `link`
path and it keeps a symlink there pointing at the current pty, like udev's /dev/serial/by-id links:
an unplug closes the pty (the driver's reads fail as on a pulled USB cable), a replug makes a new
one and moves the link, so a driver that reopens the link recovers.

`SocketEndpoint(device, port=0)` listens on 127.0.0.1; the driver opens `socket://127.0.0.1:PORT`.
While unplugged it drops every connection and closes new ones at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import threading
import time
import tty
from pathlib import Path

from hardware.sim import DeviceSimulator, Endpoint

log = logging.getLogger(__name__)
CHUNK_GAP_S = 0.002  # pause between emitted chunks so split frames arrive split


class PtyEndpoint(Endpoint):
    def __init__(self, device: DeviceSimulator, link: str | Path | None = None) -> None:
        self.device = device
        self.link = Path(link) if link else None
        self._lock = threading.Lock()
        self._master = -1
        self._slave = -1
        self._full = False
        self.path = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        device.add_sink(self._write)
        device.add_endpoint(self)
        if not device.unplugged:
            self._open_pty()

    @property
    def url(self) -> str:
        return f"serial://{self.link or self.path}"

    def _open_pty(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        # never block the simulator when nobody reads the line: a real device's bytes are lost too
        os.set_blocking(master, False)
        with self._lock:
            self._master, self._slave = master, slave
            self.path = os.ttyname(slave)
        if self.link:
            tmp = self.link.with_name(self.link.name + ".new")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(self.path)
            tmp.replace(self.link)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._pump, args=(master, self._stop), daemon=True, name=f"sim-pty-{self.device.kind}"
        )
        self._thread.start()

    def _pump(self, master: int, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                ready, _, _ = select.select([master], [], [], 0.1)
                if not ready:
                    continue
                data = os.read(master, 4096)
            except OSError:
                # EIO: nobody has the slave open right now; wait for the driver to (re)open it
                time.sleep(0.02)
                continue
            if data:
                try:
                    self.device.receive(data)
                except Exception:  # a simulator bug must not kill the line
                    log.exception("%s simulator failed on %r", self.device.kind, data[:32])

    def _write(self, chunk: bytes) -> None:
        with self._lock:
            master = self._master
            if master < 0:
                return
            # once the line is full, drop at once until it drains (as a real device would)
            if not _write_all(master, chunk, patience=0.0 if self._full else 0.5):
                if not self._full:
                    log.info("%s simulator: nobody reads %s, dropping bytes", self.device.kind, self.path)
                self._full = True
                return
            self._full = False
        time.sleep(CHUNK_GAP_S)

    def disconnect(self) -> None:
        self._stop.set()
        with self._lock:
            for fd in (self._master, self._slave):
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self._master = self._slave = -1
        if self._thread:
            self._thread.join(timeout=1)
        if self.link:
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()

    def reconnect(self) -> None:
        if self._master < 0:
            self._open_pty()

    def close(self) -> None:
        self.device.remove_sink(self._write)
        self.device.remove_endpoint(self)
        self.disconnect()


def _write_all(fd: int, data: bytes, patience: float = 0.5) -> bool:
    """Write everything to a non-blocking fd, waiting up to `patience` s for room; False if dropped."""
    deadline = time.monotonic() + patience
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            written = 0
        except OSError:
            return False
        view = view[written:]
        if view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            select.select([], [fd], [], min(remaining, 0.05))
    return True


class SocketEndpoint(Endpoint):
    def __init__(self, device: DeviceSimulator, port: int = 0, host: str = "127.0.0.1") -> None:
        self.device = device
        self._server = socket.create_server((host, port), reuse_port=False)
        self._server.settimeout(0.2)
        self.host, self.port = self._server.getsockname()[:2]
        self._clients: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        device.add_sink(self._write)
        device.add_endpoint(self)
        self._acceptor = threading.Thread(target=self._accept, daemon=True, name=f"sim-sock-{device.kind}")
        self._acceptor.start()

    @property
    def url(self) -> str:
        return f"socket://{self.host}:{self.port}"

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.device.unplugged:
                conn.close()
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._clients.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            while not self._closed.is_set():
                try:
                    data = conn.recv(4096)
                except OSError:
                    break
                if not data:
                    break
                try:
                    self.device.receive(data)
                except Exception:
                    log.exception("%s simulator failed on %r", self.device.kind, data[:32])
        with self._lock:
            if conn in self._clients:
                self._clients.remove(conn)

    def _write(self, chunk: bytes) -> None:
        with self._lock:
            clients = list(self._clients)
        for conn in clients:
            with contextlib.suppress(OSError):
                conn.sendall(chunk)
        if clients:
            time.sleep(CHUNK_GAP_S)

    def disconnect(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for conn in clients:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def reconnect(self) -> None:
        """New connections are accepted again."""

    def close(self) -> None:
        self._closed.set()
        self.device.remove_sink(self._write)
        self.device.remove_endpoint(self)
        self.disconnect()
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._acceptor.join(timeout=1)
        self._server.close()
