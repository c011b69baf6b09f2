"""The header deadline on both of uvicorn's HTTP parsers (server/http_protocol.py): httptools, which
the dispatcher runs, and h11, its fallback. A tiny ASGI app behind a real uvicorn on a real socket."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from server.http_protocol import guarded_protocol
from tests.support.ports import free_port

DEADLINE_S = 0.5


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers `hello`; /slow takes three deadlines to answer (a report being drawn, a big upload)."""
    if scope["type"] != "http":
        return
    if scope["path"] == "/slow":
        await asyncio.sleep(DEADLINE_S * 3)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]})
    await send({"type": "http.response.body", "body": b"hello"})


@pytest.fixture(params=["httptools", "h11"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, int]]:
    port = free_port()
    protocol = guarded_protocol(DEADLINE_S, parser=request.param)
    config = uvicorn.Config(hello, host="127.0.0.1", port=port, http=protocol, log_level="warning", lifespan="off")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(running.serve()), daemon=True)
    thread.start()
    while not running.started:
        time.sleep(0.01)
    yield "127.0.0.1", port
    running.should_exit = True
    thread.join(10)


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """True once the server closes the socket (EOF or reset), waiting at most `seconds`."""
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
        return True
    except TimeoutError:
        return False
    except OSError:
        return True


def answers(sock: socket.socket, count: int) -> int:
    sock.settimeout(5)
    data = b""
    while data.count(b"hello") < count:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.count(b"HTTP/1.1 200")


def test_half_sent_headers_are_closed_after_the_deadline(server: tuple[str, int]) -> None:
    with socket.create_connection(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: hall\r\nX-Slow: ")
        assert closed_within(sock, DEADLINE_S * 10)


def test_answered_then_idle_connection_gets_the_same_deadline(server: tuple[str, int]) -> None:
    with socket.create_connection(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: hall\r\n\r\n")
        assert answers(sock, 1) == 1
        sock.sendall(b"GET / HTTP/1.1\r\nHo")  # the next request starts and stops
        assert closed_within(sock, DEADLINE_S * 10)


def test_a_slow_but_complete_client_is_answered_and_pipelined_requests_too(server: tuple[str, int]) -> None:
    with socket.create_connection(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n")
        time.sleep(DEADLINE_S / 5)  # well inside the deadline
        sock.sendall(b"Host: hall\r\n\r\n")
        assert answers(sock, 1) == 1
        sock.sendall(b"GET / HTTP/1.1\r\nHost: hall\r\n\r\n" * 3)
        assert answers(sock, 3) == 3
        assert not closed_within(sock, DEADLINE_S / 5), "a connection that has had its answers is not cut at once"


def test_a_request_whose_answer_takes_longer_than_the_deadline_is_not_cut(server: tuple[str, int]) -> None:
    """The deadline is for headers: once they are complete, the route may take its time."""
    with socket.create_connection(server) as sock:
        sock.sendall(b"GET /slow HTTP/1.1\r\nHost: hall\r\n\r\n")
        assert answers(sock, 1) == 1


def test_unknown_parser_is_refused() -> None:
    with pytest.raises(ValueError, match="parser"):
        guarded_protocol(1.0, parser="quic")
