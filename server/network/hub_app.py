"""The hub's FastAPI application: `create_hub_app(settings)`; nothing is built at import time.

Lifespan: open the hub's database (the dispatcher's Alembic chain: the same `events` and statistics
tables, plus `hub_halls`), load the staff sessions, start the folding worker. `app.state.hub`
(server/network/hub.py) is what the routers share. The routers come from `HUB_ROUTERS`: an area
that serves the city (the /city page, the catalogue, forwarded cases) adds its router there, or
passes more with `extra_routers`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

from fastapi import APIRouter, FastAPI
from fastapi_offline import FastAPIOffline

from server.api.errors import ERROR_RESPONSES, install_error_handlers
from server.api.limits import install_request_guard
from server.http_protocol import quiet_resource_errors
from server.network import city_api, city_page, forward_api, hub_api, hub_stats_api
from server.network.hub import Hub
from server.network.settings import HubSettings

API_PREFIX = "/api/v1"
HUB_ROUTERS: tuple[APIRouter, ...] = (
    hub_api.auth_router,
    hub_api.uplink_router,
    hub_api.halls_router,
    hub_stats_api.router,
    forward_api.catalogue_router,  # 统一事项
    forward_api.transfers_router,  # 转报: store and forward
    city_api.router,
)
HUB_PAGES: tuple[APIRouter, ...] = (city_page.router,)  # pages and their files, outside /api/v1


def create_hub_app(settings: HubSettings, extra_routers: Sequence[APIRouter] = ()) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        quiet_resource_errors(asyncio.get_running_loop())
        hub = Hub(settings)
        await hub.start()
        app.state.hub = hub
        try:
            yield
        finally:
            await hub.stop()

    app = FastAPIOffline(
        title="hallq hub",
        version="1",
        description="The city's hub (DESIGN.md §14): the halls' events, once each; the city's numbers.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
        telemetry={"tracing": False, "metrics": False, "logs": False},  # as the dispatcher's (server/app.py)
    )
    install_error_handlers(app)
    install_request_guard(app, settings.limits)
    for router in (*HUB_ROUTERS, *extra_routers):
        app.include_router(router, prefix=API_PREFIX)
    for page in HUB_PAGES:
        app.include_router(page)
    return app
