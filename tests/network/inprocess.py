"""The hub app in this process, for the fast tests: `hub_client(database, demo)` (its lifespan run,
an httpx client on it) and `in_loop` (an async test body in its own event loop: the suite has no
asyncio plugin)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import httpx

from server.network.hub_app import create_hub_app
from server.network.settings import build_hub_settings


@contextlib.asynccontextmanager
async def hub_client(database: str, demo: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    settings = build_hub_settings(database=database, demo=demo, environ={})
    app = create_hub_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub/api/v1", timeout=30) as client:
            yield client


def in_loop(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test body in its own event loop (the suite has no asyncio plugin)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run
