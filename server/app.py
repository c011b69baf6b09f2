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
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from server.api import appointments as appointments_api
from server.api import auth as auth_api
from server.api import cases as cases_api
from server.api import evaluations as evaluations_api
from server.api import forward as forward_api
from server.api import halls as halls_api
from server.api import notify as notify_api
from server.api import reports as reports_api
from server.api import stats as stats_api
from server.api import stats_stream as stats_stream_api
from server.api import ticket_events as ticket_events_api
from server.api import tickets as tickets_api
from server.api import windows as windows_api
from server.api.errors import ERROR_RESPONSES, install_error_handlers
from server.api.hot_routes import HotRoutes
from server.api.limits import install_request_guard
from server.evaluations.feeder import RatingFeeder
from server.http_protocol import quiet_resource_errors
from server.network.catalogue_cache import CatalogueRefresher
from server.network.forwarder import Forwarder
from server.network.uplink import BACKOFF_MAX_S, HEARTBEAT_S, Uplink
from server.notify.notifier import Notifier
from server.publisher import run_bus
from server.runtime import Dispatcher
from server.settings import DEMO_PASSWORD, InsecureSettings, ServerSettings
from server.stats.metrics import HallMetrics
from server.stats.worker import StatsFolder
from server.store import Store
from server.usecases.bus import DispatcherBusPort
from server.usecases.day import run_ticker
from server.web import routes as web_routes

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"


def create_app(settings: ServerSettings, *, embedded_mqtt_port: int = 1883, start_bus: bool = True) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        quiet_resource_errors(asyncio.get_running_loop())
        store = Store(settings.database, sqlite_synchronous=settings.sqlite_synchronous)
        dispatcher = Dispatcher(settings, store)
        await dispatcher.start()
        app.state.dispatcher = dispatcher
        app.state.stats_metrics = metrics = HallMetrics()
        app.state.stats_folder = folder = StatsFolder(dispatcher, on_folded=metrics.count)  # off the request path
        folder.start()
        stats_stream_api.attach(app, dispatcher)  # /stats/live/stream, woken by every commit
        ticket_events_api.attach(app, dispatcher)  # the phones' live place, woken likewise
        app.state.rating_feeder = feeder = RatingFeeder(dispatcher)  # 好差评 records → the platform
        feeder.start()
        app.state.notifier = notifier = Notifier(dispatcher)  # the phone queue's SMS, from the outbox
        notifier.start()
        uplink = _start_uplink(settings, dispatcher)  # the city's hub (DESIGN §14), off the request path
        app.state.uplink = uplink
        network = _start_forwarding(app, settings, dispatcher)  # 转报 and the catalogue's copy, likewise
        ticker = asyncio.create_task(run_ticker(dispatcher))
        build_routes(app)
        async with contextlib.AsyncExitStack() as stack:
            if start_bus:
                await _start_bus(stack, dispatcher, embedded_mqtt_port)
            try:
                yield
            finally:
                ticker.cancel()
        await asyncio.to_thread(folder.stop)
        await asyncio.to_thread(feeder.stop)
        if uplink is not None:
            await asyncio.to_thread(uplink.stop)
        for worker in network:
            await asyncio.to_thread(worker.stop)
        await notifier.stop()
        await dispatcher.stop()

    app = FastAPIOffline(  # /docs and /redoc from the package's own Swagger UI files: no CDN
        title="hallq dispatcher",
        version="1",
        description="Queue calling for government service halls (DESIGN.md §6). Errors: {detail: sentence}.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
        # The hall's metrics are Prometheus' (/metrics); FastAPI's OpenTelemetry bridge, left on, looked
        # for a configured provider on every request (2 % of the dispatcher's time during call-next).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_error_handlers(app)
    app.add_middleware(HotRoutes, prefix=API_PREFIX, errors=lambda: app.exception_handlers)  # inside the guard
    install_request_guard(app, settings.limits)
    routers = (halls_api, tickets_api, windows_api, auth_api, stats_api, reports_api, notify_api)
    for module in routers:
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(stats_api.metrics_router)
    stats_stream_api.install(app, API_PREFIX)
    ticket_events_api.install(app, API_PREFIX)
    cases_api.install(app)
    app.include_router(forward_api.router, prefix=API_PREFIX)
    evaluations_api.install(app)
    appointments_api.install(app)
    web_routes.install(app)
    return app


def _start_uplink(settings: ServerSettings, dispatcher: Dispatcher) -> Uplink | None:
    if settings.hub_url is None:
        return None
    tokens = {hall: token.get_secret_value() for hall, token in settings.hub_tokens.items()}
    # One thread ships every hall of this dispatcher: the shortest retry cap and heartbeat any asks for.
    networks = [c.network for c in settings.halls if c.network is not None]
    uplink = Uplink(
        dispatcher, settings.hub_url, tokens,
        backoff_max_s=min((n.retry_max_s for n in networks), default=BACKOFF_MAX_S),
        heartbeat_s=min((n.heartbeat_s for n in networks), default=HEARTBEAT_S),
    )  # fmt: skip
    uplink.start()
    log.info("shipping the events of %s to the hub at %s", ", ".join(sorted(tokens)), settings.hub_url)
    return uplink


def _start_forwarding(app: FastAPI, settings: ServerSettings, dispatcher: Dispatcher) -> list[Any]:
    """With a hub: the forwarder (cases across halls) and the catalogue's refresher."""
    app.state.forwarder = None
    if settings.hub_url is None:
        return []
    tokens = {hall: token.get_secret_value() for hall, token in settings.hub_tokens.items()}
    forwarder = Forwarder(
        dispatcher,
        settings.hub_url,
        tokens,
        lambda hall: cases_api.case_service(app.state, dispatcher, hall),
        catalogue_path=settings.catalogue_path,
        poll_s=settings.forward_poll_s,
    )
    app.state.forwarder = forwarder
    forwarder.start()
    workers: list[Any] = [forwarder]
    if settings.catalogue_path:
        refresher = CatalogueRefresher(settings.hub_url, Path(settings.catalogue_path))
        refresher.start()
        workers.append(refresher)
    return workers


async def _start_bus(stack: contextlib.AsyncExitStack, dispatcher: Dispatcher, embedded_port: int) -> None:
    """The MQTT side: the embedded broker when no broker URL is set, the outbox publisher and the
    window-command server, all seeing the dispatcher through the bus port."""
    await stack.enter_async_context(
        run_bus(DispatcherBusPort(dispatcher), mqtt_url=dispatcher.settings.mqtt_url, embedded_port=embedded_port)
    )


def build_routes(app: FastAPI) -> None:
    """FastAPI builds an included router's routes (their models' validators) at the router's first
    request: 0.3 s of CPU in all, paid by the first ticket, the first rating, the first login… after
    every start or take-over. Matching a path no route has builds them all now, before the first
    request is taken."""
    nowhere: dict[str, Any] = {"type": "http", "path": "/\x00", "root_path": "", "method": "GET", "headers": []}
    for route in app.router.routes:
        route.matches(nowhere)


def refuse_demo_users(store: Store) -> None:
    """Users added with `hallq user add` count too: none may keep the demo password in production."""
    from server.auth import verify_password
    from server.store import schema as t

    with store.engine.connect() as conn:
        rows = conn.execute(t.users.select().where(t.users.c.disabled_at.is_(None))).all()
    weak = [r.username for r in rows if verify_password(r.password_hash, DEMO_PASSWORD)]
    if weak:
        raise InsecureSettings([f"user {name!r} has the demo password {DEMO_PASSWORD!r}" for name in weak])
