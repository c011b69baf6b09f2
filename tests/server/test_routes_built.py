"""The routes are built while the dispatcher starts, not by the first request that reaches each router
(a first ticket, rating or login after a restart paid for it: 0.3 s of CPU in all, issue 18)."""

from __future__ import annotations

import asyncio
from typing import Any

import fastapi.routing
import pytest

from tests.server.conftest import DEMO, make_settings, running_app


def test_first_requests_after_a_start_build_no_route(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    builder = getattr(fastapi.routing, "_EffectiveRouteContext", None)
    if builder is None:
        pytest.skip("this FastAPI builds its routes when they are included")
    built: list[str] = []
    original = builder.from_api_route

    def counted(*args: Any, **kwargs: Any) -> Any:
        context = original(*args, **kwargs)
        built.append(context.path)
        return context

    async def main() -> None:
        async with running_app(make_settings(sqlite_url)) as (client, _app):
            monkeypatch.setattr(builder, "from_api_route", counted)
            assert (await client.get("/halls/demo/evaluations/options")).status_code == 200
            ticket = await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)
            assert ticket.status_code == 201

    asyncio.run(main())
    assert built == []
