"""The dispatcher's HTTP/1.1 connections (issue 12): uvicorn's protocol with a header deadline and a
cap on open connections, so sockets that send half a request cannot lock the hall out.

The protocol is uvicorn's httptools one (llhttp, in C) where httptools is installed, as `hallq`'s
dependencies have it; h11 (pure Python) otherwise. h11's parsing and writing were 10-15 % of the
dispatcher's CPU per request (issue 18); the guard below is the same on both.

uvicorn times out only idle keep-alive connections (`timeout_keep_alive`); a client that sends a
few header bytes and stops keeps its socket, and its file descriptor, forever. Here:
- each request's headers must be complete within `header_timeout_s` of the connection (or of the
  previous answer); a connection past that with no complete request is closed, silently;
- when the open connections reach the process's file limit less a reserve (database, broker,
  uploads, logs), the oldest connection still waiting for its headers is closed to make room, so a
  new client is always accepted and `accept()` never fails with EMFILE;
- what is dropped is counted and logged at most once a minute in one line, never one traceback
  per socket.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import time
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    import httptools  # noqa: F401  (uvicorn's httptools protocol needs it)
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - a dependency of hallq; h11 is the fallback
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

log = logging.getLogger("hallq.server.http")
FD_RESERVE_MIN = 64
REPORT_EVERY_S = 60.0


def connection_cap(reserve_min: int = FD_RESERVE_MIN) -> int:
    """Open HTTP connections allowed: the soft file limit less a tenth (at least `reserve_min`)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 1 << 20
    return max(16, soft - max(reserve_min, soft // 10))


class _DropReport:
    """Counts connections closed for slow headers or crowding; one log line per minute at most."""

    def __init__(self) -> None:
        self.slow = 0
        self.shed = 0
        self._last = 0.0

    def count(self, *, slow: int = 0, shed: int = 0) -> None:
        self.slow += slow
        self.shed += shed
        now = time.monotonic()
        if now - self._last >= REPORT_EVERY_S:
            self._last = now
            log.warning(
                "closed %d connection(s) whose request headers did not arrive in time and %d to make room "
                "(limit %d open connections)",
                self.slow,
                self.shed,
                connection_cap(),
            )
            self.slow = self.shed = 0


class HeaderDeadline:
    """Mixed into a uvicorn protocol: closes a connection whose request headers are overdue, and the
    oldest such connection when the open ones reach the cap. The protocol says `waiting_for_headers`."""

    header_timeout_s = 10.0
    max_connections = 1000
    report = _DropReport()
    connections: set[Any]
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    @property
    def waiting_for_headers(self) -> bool:
        raise NotImplementedError

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # type: ignore[misc]
        self.connected_at = time.monotonic()
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm_header_timer()
        if len(self.connections) > self.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)  # type: ignore[misc]

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        self._arm_header_timer()  # the next request on this connection has the same deadline

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_overdue)

    def _cancel_header_timer(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _headers_overdue(self) -> None:
        if self.waiting_for_headers:
            self.transport.close()
            self.report.count(slow=1)

    def _make_room(self) -> None:
        waiting = [c for c in self.connections if c is not self and isinstance(c, HeaderDeadline)]
        waiting = [c for c in waiting if c.waiting_for_headers]
        if waiting:
            oldest = min(waiting, key=lambda c: c.connected_at)
            oldest.transport.close()
            self.report.count(shed=1)


class GuardedH11Protocol(HeaderDeadline, H11Protocol):  # type: ignore[misc]  # uvicorn narrows the transport
    @property
    def waiting_for_headers(self) -> bool:
        return self.conn.their_state is h11.IDLE and not self.transport.is_closing()


if HttpToolsProtocol is not None:

    class GuardedHttpToolsProtocol(HeaderDeadline, HttpToolsProtocol):  # type: ignore[misc]
        """llhttp calls back when a request's headers are complete; until then, and again after each
        answer (unless a pipelined request is queued, its headers complete), the deadline runs."""

        headers_done = False

        def on_headers_complete(self) -> None:
            self.headers_done = True
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            self.headers_done = bool(self.pipeline)
            super().on_response_complete()

        @property
        def waiting_for_headers(self) -> bool:
            return not self.headers_done and not self.transport.is_closing()


def guarded_protocol(
    header_timeout_s: float, max_connections: int | None = None, *, parser: str = "auto"
) -> type[asyncio.Protocol]:
    """The protocol class to give uvicorn (`http=`), with this server's deadline and cap. `parser`:
    "httptools", "h11", or "auto" (httptools where installed)."""
    attributes: dict[str, Any] = {
        "header_timeout_s": header_timeout_s,
        "max_connections": max_connections if max_connections is not None else connection_cap(),
        "report": _DropReport(),
    }
    if parser not in ("auto", "httptools", "h11"):
        raise ValueError(f"unknown HTTP parser {parser!r}: auto, httptools or h11")
    use_httptools = parser == "httptools" or (parser == "auto" and HttpToolsProtocol is not None)
    if use_httptools and HttpToolsProtocol is None:
        raise RuntimeError("httptools is not installed (pip install httptools), or use the h11 parser")
    base: type[asyncio.Protocol] = GuardedHttpToolsProtocol if use_httptools else GuardedH11Protocol
    return type(f"Hallq{base.__name__}", (base,), attributes)


def quiet_resource_errors(loop: asyncio.AbstractEventLoop) -> None:
    """asyncio logs a full traceback each time accept() finds no file descriptor left; log one line
    a minute instead (the connection cap above keeps it rare). Other errors go where they went."""
    previous = loop.get_exception_handler()
    last_report = [0.0]

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
            if time.monotonic() - last_report[0] >= REPORT_EVERY_S:
                last_report[0] = time.monotonic()
                log.warning("%s: %s (raise LimitNOFILE; connections wait meanwhile)", context.get("message"), exc)
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
