"""Fixtures for the dispatcher tests: SQLite always, the machine's PostgreSQL when reachable (a fresh
database per test, dropped afterwards), and an in-process app driven through httpx over ASGI."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hallq.config import HallConfig, example_config_path, load_hall_config
from server.settings import DEMO_HMAC_SECRET, ServerSettings
from tests.support.postgres import fresh_pg_database

DEMO = {"Authorization": "Bearer demo-device-token"}


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hallq.sqlite3'}"
    else:
        with fresh_pg_database() as url:
            yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hallq.sqlite3'}"


@functools.cache
def _cheap_demo_hash() -> str:
    """argon2 of `demo` with small parameters: the shipped ones cost ~0.1-2 s per login on this machine."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("demo")


def demo_config(**hall_changes: Any) -> HallConfig:
    config = load_hall_config(example_config_path())
    data = config.model_dump()
    data["hall"].update({"around_the_clock": True, **hall_changes})
    for user in data["credentials"]["users"]:
        user["password_hash"] = _cheap_demo_hash()
    return HallConfig.model_validate(data)


def with_service(config: HallConfig, code: str, **changes: Any) -> HallConfig:
    """A copy of the config with one service changed, validated like a file would be."""
    data = config.model_dump()
    for service in data["services"]:
        if service["code"] == code:
            service.update(changes)
    return HallConfig.model_validate(data)


def make_settings(database: str, config: HallConfig | None = None, demo: bool = True) -> ServerSettings:
    return ServerSettings(
        hall_config=config or demo_config(),
        config_path=str(example_config_path()),
        database=database,
        demo=demo,
        hmac_secret=DEMO_HMAC_SECRET if demo else "x" * 40,  # type: ignore[arg-type]
    )


@contextlib.asynccontextmanager
async def running_app(settings: ServerSettings) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """The real app with its lifespan, driven in-process (no MQTT)."""
    from server.app import create_app

    app = create_app(settings, start_bus=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hall/api/v1", timeout=30) as client:
            yield client, app


AppFactory = Callable[..., Any]
