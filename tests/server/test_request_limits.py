"""What one request may cost the hall (issue 12), in-process on SQLite and PostgreSQL: body size
read with a cap, JSON with too many keys or too deep refused before pydantic, NUL characters
refused anywhere with 422, material indexes that overflow a database integer refused with 422."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from server.json_guard import json_shape_problem
from server.settings import RequestLimits
from tests.cases.conftest import DEMO_DEVICE, SAMPLE_CARD, submit_realestate_transfer
from tests.server.conftest import DEMO, make_settings, running_app

MB = 1024 * 1024


def run(database: str, scenario: Any) -> None:
    async def main() -> None:
        async with running_app(make_settings(database)) as (client, app):
            await scenario(client, app)

    asyncio.run(main())


def many_keys(count: int) -> bytes:
    return json.dumps({f"k{i}": 0 for i in range(count)}).encode()


async def clerk(client: httpx.AsyncClient, window: str) -> dict[str, str]:
    reply = await client.post("/auth/login", json={"username": f"clerk{window}", "password": "demo", "window": window})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


# ---- body size and JSON shape ---------------------------------------------------------------------


def test_a_huge_body_is_refused_while_it_arrives_and_health_answers_meanwhile(sqlite_url: str) -> None:
    total = 100 * MB
    sent = 0
    health_answered = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        chunk = b"[" + b"0," * (32 * 1024)
        while sent < total:
            if sent > 2 * MB:
                await health_answered.wait()  # the upload is still in flight while /health answers
            sent += len(chunk)
            yield chunk

    async def health(client: httpx.AsyncClient) -> httpx.Response:
        reply = await client.get("/health")
        health_answered.set()
        return reply

    async def scenario(client: httpx.AsyncClient, _: Any) -> None:
        huge, ok = await asyncio.gather(
            client.post("/halls/demo/tickets", content=body(), headers={**DEMO, "Content-Type": "application/json"}),
            health(client),
        )
        assert ok.status_code == 200
        assert huge.status_code == 413, huge.text[:300]
        assert "1 MB" in huge.json()["detail"]
        assert sent < 4 * MB, "the server stopped reading soon after the cap"

    run(sqlite_url, scenario)


def test_a_body_that_stops_arriving_is_408_and_health_answers_meanwhile(sqlite_url: str) -> None:
    never = asyncio.Event()

    async def stalled() -> AsyncIterator[bytes]:
        yield b'{"service": "A", "channel": '
        await never.wait()  # the rest never comes

    async def scenario(client: httpx.AsyncClient, _: Any) -> None:
        headers = {**DEMO, "Content-Type": "application/json"}
        stuck = asyncio.create_task(client.post("/halls/demo/tickets", content=stalled(), headers=headers))
        assert (await client.get("/health")).status_code == 200
        reply = await stuck
        assert reply.status_code == 408 and "stopped arriving" in reply.json()["detail"], reply.text
        never.set()

    settings = make_settings(sqlite_url).model_copy(update={"limits": RequestLimits(body_idle_timeout_s=0.5)})

    async def main() -> None:
        async with running_app(settings) as (client, app):
            await scenario(client, app)

    asyncio.run(main())


def test_a_declared_oversize_body_is_refused_before_reading(sqlite_url: str) -> None:
    async def scenario(client: httpx.AsyncClient, _: Any) -> None:
        reply = await client.post(
            "/auth/login", content=many_keys(1_000_000), headers={"Content-Type": "application/json"}
        )
        assert reply.status_code == 413 and "larger than 1 MB" in reply.json()["detail"]

    run(sqlite_url, scenario)


def test_many_keys_and_deep_nesting_are_refused_before_pydantic(sqlite_url: str) -> None:
    keys = many_keys(80_000)  # ~ 900 KB: under the size cap, far over the item cap
    assert len(keys) < MB
    deep = b"[" * 20_000 + b"]" * 20_000

    async def scenario(client: httpx.AsyncClient, _: Any) -> None:
        json_headers = {"Content-Type": "application/json"}
        first, second, nested, ok = await asyncio.gather(
            client.post("/auth/login", content=keys, headers=json_headers),
            client.post("/halls/demo/tickets", content=keys, headers={**DEMO, **json_headers}),
            client.post("/halls/demo/tickets", content=deep, headers={**DEMO, **json_headers}),
            client.get("/health"),
        )
        assert ok.status_code == 200
        for reply in (first, second):
            assert reply.status_code == 422, reply.text[:300]
            assert "more than 10000 keys and elements" in reply.json()["detail"]
        assert nested.status_code == 422 and "nested deeper than 32" in nested.json()["detail"], nested.text[:300]
        normal = await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)
        assert normal.status_code == 201, normal.text

    run(sqlite_url, scenario)


def test_a_body_that_is_not_utf8_is_422_with_a_sentence(sqlite_url: str) -> None:
    async def scenario(client: httpx.AsyncClient, _: Any) -> None:
        reply = await client.post(
            "/halls/demo/tickets",
            content=b'{"service": "\xe9\x01"}',
            headers={**DEMO, "Content-Type": "application/json"},
        )
        assert reply.status_code == 422 and "UTF-8" in reply.json()["detail"], reply.text

    run(sqlite_url, scenario)


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        (b'{"a": "[[[[[[:,:,:,"}', None),  # brackets, colons and commas in strings do not count
        (b'{"a": "\\"[[[[[[[[\\""}', None),  # nor after an escaped quote
        (b'{"a": [1, 2, 3]}', None),
        (b"[" * 33 + b"]" * 33, "deeper"),
        (b"[" * 32 + b"]" * 32, None),
        (b"[" * 40, None),  # unbalanced: left to the JSON parser, which says so
        (json.dumps(list(range(10_002))).encode(), "more than"),  # 10 001 separators
        (json.dumps(list(range(10_001))).encode(), None),
    ],
)
def test_json_shape_scan(body: bytes, refused: str | None) -> None:
    problem = json_shape_problem(body, max_items=10_000, max_depth=32)
    assert (problem is None) if refused is None else (problem is not None and refused in problem), problem


# ---- NUL characters -------------------------------------------------------------------------------


def test_nul_anywhere_is_422_and_reaches_neither_database_nor_log(
    database: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(client: httpx.AsyncClient, _: Any) -> None:
        staff_login = await client.post("/auth/login", json={"username": "supervisor", "password": "demo"})
        staff = {"Authorization": f"Bearer {staff_login.json()['access_token']}"}
        issued = (await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)).json()
        access = issued["status_url"].split("k=")[1]
        window = await clerk(client, "1")
        assert (await client.post("/halls/demo/windows/1/call-next", headers=window)).status_code == 200
        assert (await client.post("/halls/demo/windows/1/finish", headers=window)).status_code == 200

        attempts = [
            client.post("/auth/login", json={"username": "clerk1\u0000", "password": "demo"}),
            client.post("/auth/login", json={"username": "clerk1", "password": "de\u0000mo"}),
            client.get("/halls/demo/submissions/abc%00def", headers=DEMO),
            client.get("/halls/demo/cases/abc%00def", headers=staff),
            client.get(f"/halls/demo/tickets/{issued['id']}", params={"k": "x\u0000"}),
            client.post("/halls/demo/tickets", json={"service": "A\u0000"}, headers=DEMO),
            client.post(
                f"/halls/demo/tickets/{issued['id']}/evaluation",
                params={"k": access},
                json={"score": 2, "comment": "态度\u0000不好"},
            ),
        ]
        for reply in await asyncio.gather(*attempts):
            assert reply.status_code == 422, (reply.request.url, reply.text)
            assert "NUL" in reply.json()["detail"]
        # A backslash followed by the text u0000 is no NUL: it is checked like any other name.
        literal = await client.post("/auth/login", json={"username": "clerk\\u0000", "password": "demo"})
        assert literal.status_code == 401, literal.text
        rated = await client.post(
            f"/halls/demo/tickets/{issued['id']}/evaluation", params={"k": access}, json={"score": 5}
        )
        assert rated.status_code == 200, "the refused rating left the ticket ratable"
        assert (await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)).status_code == 201

    with caplog.at_level(logging.DEBUG):
        run(database, scenario)
    assert "\x00" not in caplog.text
    assert "503" not in caplog.text and "Traceback" not in caplog.text


# ---- material index -------------------------------------------------------------------------------


@pytest.mark.parametrize("index", [2**31, 2**63, -(2**31) - 1])
def test_a_material_index_beyond_a_database_integer_is_422(database: str, index: int) -> None:
    async def scenario(client: httpx.AsyncClient, _: Any) -> None:
        submitted = await client.post(
            "/halls/demo/submissions", json={"item": "realestate-transfer", "id_card": SAMPLE_CARD}, headers=DEMO
        )
        assert submitted.status_code == 201, submitted.text
        case_id, key = submitted.json()["id"], submitted.json()["access"]
        for path in (f"materials/{index}", f"materials/{index}/defer"):
            method = client.put if path.endswith(str(index)) else client.post
            reply = await method(
                f"/halls/demo/submissions/{case_id}/{path}",
                params={"k": key},
                content=b"%PDF-1.4\n%%EOF\n",
                headers={**DEMO, "Content-Type": "application/pdf"},
            )
            assert reply.status_code == 422, (path, reply.text)
            assert "idx" in reply.json()["detail"]

    run(database, scenario)


@pytest.mark.parametrize("index", [2**31, 2**63])
def test_a_material_number_beyond_a_database_integer_in_a_case_action_is_422(database: str, index: int) -> None:
    from fastapi.testclient import TestClient

    from server.app import create_app

    with TestClient(create_app(make_settings(database), start_bus=False)) as client:
        case_id, key = submit_realestate_transfer(client)
        base = "/api/v1/halls/demo"
        assert client.post(f"{base}/submissions/{case_id}/complete?k={key}", headers=DEMO_DEVICE).status_code == 200
        login = client.post("/api/v1/auth/login", json={"username": "clerk1", "password": "demo", "window": "1"})
        clerk = {"Authorization": f"Bearer {login.json()['access_token']}"}
        reply = client.post(f"{base}/cases/{case_id}/actions/correct", headers=clerk, json={"materials": [index]})
        assert reply.status_code == 422 and "materials" in reply.json()["detail"], reply.text
        fine = client.post(f"{base}/cases/{case_id}/actions/correct", headers=clerk, json={"materials": [2]})
        assert fine.status_code == 200, fine.text
