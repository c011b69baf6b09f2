"""Call-next and issuing served below FastAPI's router (server/api/hot_routes.py) answer exactly as
the declared routes do: the same requests, each through an app with the hot routes and through one
without them, give the same status, headers and body (a ticket's id, access key and times aside,
which no two halls share)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.api import hot_routes
from server.api.hot_routes import HotRoutes
from server.app import create_app
from server.usecases import windows as usecase_windows
from tests.server.conftest import DEMO, make_settings

VOLATILE = {"id", "issued_at", "called_at", "waited_s", "status_url"}
HEADERS = ("content-type", "www-authenticate", "idempotent-replayed", "retry-after", "location", "allow")
CALL = "/halls/demo/windows/{window}/call-next"


@contextlib.asynccontextmanager
async def hall(database: str, hot: bool) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(database), start_bus=False)
    if not hot:  # the middleware stack is built at the first request: without it, the router answers
        app.user_middleware = [m for m in app.user_middleware if m.cls is not HotRoutes]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # a 500 is an answer here
        async with httpx.AsyncClient(transport=transport, base_url="http://hall/api/v1", timeout=30) as client:
            yield client


Answers = list[tuple[int, dict[str, str], Any]]


async def both_ways(
    tmp_path: Path, requests: Callable[[httpx.AsyncClient], Awaitable[Answers]]
) -> tuple[Answers, Answers]:
    """The same requests through an app with the hot routes, then through one without them."""
    async with hall(f"sqlite:///{tmp_path / 'hot.sqlite3'}", hot=True) as client:
        hot = await requests(client)
    async with hall(f"sqlite:///{tmp_path / 'router.sqlite3'}", hot=False) as client:
        routed = await requests(client)
    return hot, routed


def seen(response: httpx.Response) -> tuple[int, dict[str, str], Any]:
    headers = {name: response.headers[name] for name in HEADERS if name in response.headers}
    body = response.json() if response.content else None
    if isinstance(body, dict) and isinstance(body.get("ticket"), dict):
        body = {**body, "ticket": _steady(body["ticket"])}
    elif isinstance(body, dict) and "status_url" in body:  # an issued ticket
        body = _steady(body)
    return response.status_code, headers, body


def _steady(ticket: dict[str, Any]) -> dict[str, Any]:
    return {k: ("…" if k in VOLATILE else v) for k, v in ticket.items()}


async def scenario(client: httpx.AsyncClient) -> Answers:
    answers = []

    async def call(window: str, headers: dict[str, str], path: str = CALL, method: str = "POST") -> None:
        answers.append(seen(await client.request(method, path.format(window=window), headers=headers)))

    await call("1", {})  # no token
    await call("1", {"Authorization": "Bearer not-a-token"})
    await call("1", {"Authorization": "Basic abc"})
    await call("1", DEMO)  # a device, at a window nobody has logged in to
    for _ in range(2):
        issued = await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)
        assert issued.status_code == 201, issued.text
    login = await client.post("/auth/login", json={"username": "clerk1", "password": "demo", "hall": "demo",
                                                   "window": "1"})  # fmt: skip
    clerk = {"Authorization": f"Bearer {login.json()['access_token']}"}
    await call("2", clerk)  # another window's
    await call("99", clerk)  # no such window
    answers.append(seen(await client.post("/halls/nowhere/windows/1/call-next", headers=clerk)))
    await call("1", {**clerk, "Idempotency-Key": "not a key!"})
    await call("1", {**clerk, "Idempotency-Key": "k-1"})
    await call("1", {**clerk, "Idempotency-Key": "k-1"})  # the retry: the first answer, replayed
    await call("1", clerk)
    await call("1", clerk)  # nobody left
    await call("1", clerk, CALL + "/")  # not the route: the router's redirect
    await call("1", clerk, method="GET")
    await call("1", clerk, CALL + "?x=1")  # a query the route ignores
    return answers


def test_the_hot_call_next_answers_as_the_declared_route(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    taken: list[str] = []
    served = hot_routes.call_next

    async def counted(request: Any, hall: str, window: str) -> Any:
        taken.append(window)
        return await served(request, hall, window)

    monkeypatch.setattr(hot_routes, "call_next", counted)

    hot, routed = asyncio.run(both_ways(tmp_path, scenario))
    assert len(taken) == 13, "all but the trailing slash and the GET went below the router"
    assert [a[0] for a in hot] == [401, 401, 401, 409, 403, 404, 404, 422, 200, 200, 200, 204, 307, 405, 204]
    assert hot == routed
    assert hot[9][1].get("idempotent-replayed") == "true" and hot[9][2] == hot[8][2]


ISSUE = "/halls/{hall}/tickets"
JSON = {"Content-Type": "application/json"}


async def issuing(client: httpx.AsyncClient) -> Answers:
    answers = []

    async def issue(body: Any, headers: dict[str, str], hall: str = "demo", **kwargs: Any) -> None:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        url = ISSUE.format(hall=hall)
        answers.append(seen(await client.post(url, content=content, headers={**JSON, **headers}, **kwargs)))

    await issue({"service": "A"}, {})  # no token
    await issue({"service": "A"}, {"Authorization": "Bearer not-a-token"})
    await issue({"service": "A"}, DEMO, hall="nowhere")
    await issue({"service": "A"}, {**DEMO, "Idempotency-Key": "not a key!"})
    await issue({"service": "A", "priority": "urgent"}, DEMO)  # not the model: the router's 422
    await issue({"service": "A", "priority": "urgent"}, {})  # …but the token is checked before it
    await issue(b"", DEMO)  # no body
    await issue({}, DEMO)
    await issue({"service": "Z"}, DEMO)  # no such service
    await issue({"service": "A"}, {**DEMO, "Idempotency-Key": "t-1"})
    await issue({"service": "A"}, {**DEMO, "Idempotency-Key": "t-1"})  # the retry: the first ticket
    await issue({"service": "B", "priority": "green", "green_reason": "elderly"}, DEMO)
    await issue({"service": "A"}, {**DEMO, "Content-Type": "text/plain"})  # read as the router reads it
    await issue({"service": "A"}, DEMO, params={"x": "1"})
    answers.append(seen(await client.post(ISSUE.format(hall="demo") + "/", json={"service": "A"}, headers=DEMO)))
    answers.append(seen(await client.put(ISSUE.format(hall="demo"), json={"service": "A"}, headers=DEMO)))
    return answers


def test_the_hot_issue_answers_as_the_declared_route(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    taken: list[str] = []
    served = hot_routes.issue_ticket

    async def counted(request: Any, hall: str, body: bytes) -> Any:
        try:
            answer = await served(request, hall, body)
        except Exception:
            taken.append("refused")
            raise
        taken.append("hot" if answer is not None else "router")
        return answer

    monkeypatch.setattr(hot_routes, "issue_ticket", counted)

    hot, routed = asyncio.run(both_ways(tmp_path, issuing))
    statuses = [a[0] for a in hot]
    assert statuses == [401, 401, 404, 422, 422, 401, 422, 422, 404, 201, 201, 201, 422, 201, 307, 405], hot
    assert hot == routed
    assert hot[10][1].get("idempotent-replayed") == "true" and hot[10][2] == hot[9][2]
    assert hot[11][2]["priority"] == "green" and hot[11][2]["number"].startswith("B")
    # the token, the hall, the key and the service are refused below the router, the bodies that are
    # not the route's model go on to it; the text/plain one, the slash and the PUT never came here
    assert taken == ["refused"] * 4 + ["router", "refused", "router", "router", "refused"] + ["hot"] * 4


def test_an_unexpected_error_is_the_same_500_either_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(_call: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(usecase_windows, "call_next", broken)

    async def answer(hot: bool) -> tuple[int, dict[str, str], Any]:
        async with hall(f"sqlite:///{tmp_path / f'{hot}.sqlite3'}", hot) as client:
            return seen(await client.post(CALL.format(window="1"), headers=DEMO))

    hot, routed = asyncio.run(answer(True)), asyncio.run(answer(False))
    assert hot == routed and hot[0] == 500 and "Internal error" in hot[2]["detail"]
