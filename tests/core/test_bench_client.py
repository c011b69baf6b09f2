"""The benchmarks' keep-alive client (bench/http_bench.py `KeepAlive`): it must read whole answers,
however the server frames them, or a benchmark would count half-read requests as done."""

from __future__ import annotations

import asyncio

from bench.http_bench import KeepAlive

ANSWERS = [
    b'HTTP/1.1 201 Created\r\ncontent-length: 13\r\ncontent-type: application/json\r\n\r\n{"id": "t-1"}',
    b'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{"a":\r\n3\r\n 1}\r\n0\r\n\r\n',
    b"HTTP/1.1 204 No Content\r\n\r\n",
]


async def _exchange() -> tuple[list[tuple[int, object]], list[bytes]]:
    requests: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for answer in ANSWERS:  # one connection for all three: the client keeps it alive
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            requests.append(head + await reader.readexactly(length))
            for i in range(0, len(answer), 7):  # in small pieces, as TCP may deliver them
                writer.write(answer[i : i + 7])
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = KeepAlive(f"http://127.0.0.1:{port}/api/v1")
    try:
        answers = [await client.post("/halls/demo/tickets", {"Idempotency-Key": f"k{i}"}, {"n": i}) for i in range(3)]
    finally:
        await client.close()
        server.close()
    return answers, requests


def test_reads_whole_answers_on_one_connection() -> None:
    answers, requests = asyncio.run(_exchange())
    assert answers == [(201, {"id": "t-1"}), (200, {"a": 1}), (204, None)]
    assert requests[1].startswith(b"POST /api/v1/halls/demo/tickets HTTP/1.1\r\n")
    assert b"Idempotency-Key: k1\r\n" in requests[1] and requests[1].endswith(b'{"n": 1}')
