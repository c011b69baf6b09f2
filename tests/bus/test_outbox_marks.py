"""After a burst, every event of the outbox is marked published promptly (issue 12).

On SQLite the last events of a burst stayed unmarked until the next event came (24-60 s later in a
quiet hall; checked on PostgreSQL too): marking is a write that waits for the burst's commits, and
events acknowledged by the broker while a mark was under way were never scheduled for a mark of
their own. Here the real app, store and publisher run against a real Mosquitto; the first mark is
held until more events have been acknowledged (the burst's end meeting a mark in flight), then
everything must be marked."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from hallq.config import example_config_path
from server.settings import DEMO_HMAC_SECRET, ServerSettings
from tests.server.conftest import DEMO, database, demo_config
from tests.support.broker import Broker

__all__ = ["database"]  # the SQLite / PostgreSQL fixture, used by the test below
MARKED_WITHIN_S = 10.0  # far below the 24 s a quiet hall waited; marks are due every 0.5 s


def _settings(database: str, mqtt_url: str) -> ServerSettings:
    return ServerSettings(
        hall_config=demo_config(),
        config_path=str(example_config_path()),
        database=database,
        demo=True,
        hmac_secret=DEMO_HMAC_SECRET,  # type: ignore[arg-type]
        mqtt_url=mqtt_url,
    )


def _hold_first_mark(store: Any) -> tuple[threading.Event, threading.Event]:
    """Make the store's first mark wait (as a mark waits for a burst's commits on SQLite)."""
    entered, release = threading.Event(), threading.Event()
    real_mark = store.mark_published_many

    def mark_published_many(marks: dict[str, int]) -> None:
        if not entered.is_set():
            entered.set()
            release.wait(30)
        real_mark(marks)

    store.mark_published_many = mark_published_many
    return entered, release


def _unmarked(store: Any) -> int:
    return len(store.fetch_unpublished("demo", 100_000))


async def _wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await asyncio.to_thread(predicate):
        assert asyncio.get_running_loop().time() < deadline, f"timed out after {timeout}s waiting for {what}"
        await asyncio.sleep(0.05)


def test_events_acknowledged_during_a_mark_are_marked_too(database: str, mosquitto: Broker) -> None:
    import httpx

    from server.app import create_app
    from server.publisher import run_bus
    from server.usecases.bus import DispatcherBusPort

    async def main() -> None:
        app = create_app(_settings(database, mosquitto.url), start_bus=False)
        async with (
            app.router.lifespan_context(app),
            run_bus(DispatcherBusPort(app.state.dispatcher), mqtt_url=mosquitto.url) as buses,
        ):
            publisher = buses[0].publisher
            store = app.state.dispatcher.store
            entered, release = _hold_first_mark(store)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hall/api/v1", timeout=30) as client:

                async def issue(count: int) -> None:
                    for _ in range(count):
                        response = await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEMO)
                        assert response.status_code == 201, response.text

                await issue(5)
                await asyncio.to_thread(entered.wait, 20)
                assert entered.is_set(), "the publisher marks what the broker acknowledged"
                await issue(20)  # the burst's end: acknowledged while the first mark is under way
                last = app.state.dispatcher.runtime("demo").last_seq
                await _wait_for(lambda: publisher._acked_seq >= last, 20, "the burst acknowledged by the broker")
                release.set()
                # no later event comes to push the marks along: the burst's own events must be marked
                await _wait_for(lambda: _unmarked(store) == 0, MARKED_WITHIN_S, "every event marked published")

    asyncio.run(main())
