"""The dispatcher's FastAPI application: `create_app(settings)`; nothing is built at import time.

Lifespan: open the store (migrations), restore each hall's engine from its rows (or stand by while
another dispatcher holds the hall's PostgreSQL advisory lock), start the MQTT side (embedded broker +
publisher from server/publisher.py when present), and a ticker that rolls the day over at midnight.
`app.state.dispatcher` (server.runtime.Dispatcher) is what routes, publisher and MQTT commands share.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from server.api import auth as auth_api
from server.api import halls as halls_api
from server.api import tickets as tickets_api
from server.api import windows as windows_api
from server.api.errors import ERROR_RESPONSES, install_error_handlers
from server.api.limits import install_request_guard
from server.http_protocol import quiet_resource_errors
from server.runtime import Dispatcher, utcnow
from server.settings import DEMO_PASSWORD, InsecureSettings, ServerSettings
from server.store import Store

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"
DAY_TICK_S = 30.0


def create_app(settings: ServerSettings, *, embedded_mqtt_port: int = 1883, start_bus: bool = True) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        quiet_resource_errors(asyncio.get_running_loop())
        store = Store(settings.database, sqlite_synchronous=settings.sqlite_synchronous)
        dispatcher = Dispatcher(settings, store)
        await dispatcher.start()
        app.state.dispatcher = dispatcher
        ticker = asyncio.create_task(_day_ticker(dispatcher))
        async with contextlib.AsyncExitStack() as stack:
            if start_bus:
                await _start_bus(stack, dispatcher, embedded_mqtt_port)
            try:
                yield
            finally:
                ticker.cancel()
        await dispatcher.stop()

    app = FastAPIOffline(  # /docs and /redoc from the package's own Swagger UI files: no CDN
        title="hallq dispatcher",
        version="1",
        description="Queue calling for government service halls (DESIGN.md §6). Errors: {detail: sentence}.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    install_error_handlers(app)
    install_request_guard(app, settings.limits)
    for router in (halls_api.router, tickets_api.router, windows_api.router, auth_api.router):
        app.include_router(router, prefix=API_PREFIX)
    _include_optional_routers(app)
    return app


def _include_optional_routers(app: FastAPI) -> None:
    """Routers other areas own (cases, web pages, stats); each is optional so a missing one never
    stops the dispatcher."""
    import importlib

    for module_name, prefix in (
        ("server.api.cases", API_PREFIX),
        ("server.api.stats", API_PREFIX),
        ("server.api.appointments", API_PREFIX),
        ("server.web.routes", ""),
    ):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue
            raise
        install = getattr(module, "install", None)  # routes plus their own error handlers
        router = getattr(module, "router", None)
        if install is not None:
            install(app)
        elif router is not None:
            app.include_router(router, prefix=prefix)


async def _start_bus(stack: contextlib.AsyncExitStack, dispatcher: Dispatcher, embedded_port: int) -> None:
    """Hook for the MQTT side (server/publisher.py, bus engineer): `run_bus(dispatcher, mqtt_url=...,
    embedded_port=...)` is an async context manager that starts the embedded broker when mqtt_url is
    None, then the outbox publisher and the window-command server."""
    import importlib

    try:
        publisher = importlib.import_module("server.publisher")
    except ModuleNotFoundError as exc:
        if exc.name not in ("server.publisher",):
            raise
        log.warning("server/publisher.py is not installed: HTTP only, no MQTT")
        return
    run_bus: Any = getattr(publisher, "run_bus", None)
    if run_bus is None:
        log.warning("server.publisher has no run_bus(): HTTP only, no MQTT")
        return
    await stack.enter_async_context(
        run_bus(dispatcher, mqtt_url=dispatcher.settings.mqtt_url, embedded_port=embedded_port)
    )


def refuse_demo_users(store: Store) -> None:
    """Users added with `hallq user add` count too: none may keep the demo password in production."""
    from server.auth import verify_password
    from server.store import schema as t

    with store.engine.connect() as conn:
        rows = conn.execute(t.users.select().where(t.users.c.disabled_at.is_(None))).all()
    weak = [r.username for r in rows if verify_password(r.password_hash, DEMO_PASSWORD)]
    if weak:
        raise InsecureSettings([f"user {name!r} has the demo password {DEMO_PASSWORD!r}" for name in weak])


async def _day_ticker(dispatcher: Dispatcher) -> None:
    """At the hall's local midnight, close yesterday's queue (expire what still waits) even when no
    command arrives, so boards and statistics see the new day."""
    from server.engine import commands as c
    from server.runtime import Answer

    def nothing(_: Any, __: list[Any]) -> Answer:
        return Answer(200, None)

    while True:
        await asyncio.sleep(DAY_TICK_S)
        try:
            await dispatcher.check_ownership()
        except Exception:
            log.exception("checking hall ownership failed")
        for runtime in dispatcher.halls.values():
            if runtime.needs_restore:
                async with runtime.lock:
                    await dispatcher.recover(runtime)
            engine = runtime.engine
            if engine is None or engine.day is None:
                continue
            if engine.rules.local_day(utcnow()) > engine.day:
                try:
                    await dispatcher.execute(runtime.hall, c.CloseDay(), nothing)
                except Exception:
                    log.exception("closing the day of hall %s failed; the next command will do it", runtime.hall)
