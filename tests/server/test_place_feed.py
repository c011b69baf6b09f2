"""The live place feed inside the dispatcher (server/usecases/places.py): a burst of commits is a few
passes, not one per commit; only the streams whose ticket moved are woken; two phones on one ticket
share one watch, and the watch goes when the last stream ends."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
import uvicorn

from server.api import ticket_events
from server.app import create_app
from server.engine import commands as c
from server.usecases.common import nothing
from server.usecases.places import PlaceFeed
from tests.server.conftest import make_settings
from tests.stats.scenario import hall_app, local
from tests.support.dispatcher import DEMO_TOKEN
from tests.support.ports import free_port

KEY = "k" * 16  # the scenario's access key
DEVICE = {"Authorization": f"Bearer {DEMO_TOKEN}"}


def test_a_burst_is_coalesced_and_only_moved_tickets_wake(database: str) -> None:
    async def main() -> None:
        async with hall_app(database) as (_client, app, hall):
            dispatcher = app.state.dispatcher
            feed = PlaceFeed(dispatcher, min_interval_s=0.2)
            dispatcher.on_commit.append(feed.on_commit)
            numbers = [await hall.issue("09:00:00", "A") for _ in range(3)] + [await hall.issue("09:00:00", "B")]
            ids = [hall.tickets[n] for n in numbers]
            watches = [feed.open("demo", ticket_id, KEY) for ticket_id in ids]
            twice = feed.open("demo", ids[2], KEY)  # a second phone on the third ticket
            assert twice is watches[2] and feed.watched("demo") == 4
            streams = [feed.places(w, None) for w in watches]
            firsts = [(await anext(s))[1] for s in streams]
            assert [p.ahead for p in firsts[:3]] == [0, 1, 2] and firsts[3].status == "waiting"
            passes = feed.passes

            behind = [hall.issue("09:01:00", "A") for _ in range(20)]  # moves nobody already waiting
            cancel = dispatcher.execute("demo", c.Cancel(ids[0]), nothing, now=local("09:01:00"))
            await asyncio.gather(*behind, cancel)
            async with asyncio.timeout(5):
                assert (await anext(streams[0]))[1].status == "cancelled"
                assert (await anext(streams[1]))[1].ahead == 0
                assert (await anext(streams[2]))[1].ahead == 1
            assert 1 <= feed.passes - passes < 21  # 21 commits, far fewer passes
            assert not watches[3].wake.is_set() and watches[3].place == firsts[3]  # B did not move

            for stream in streams:
                await stream.aclose()
            assert feed.watched("demo") == 1  # the second phone still holds the third ticket
            feed.close(twice)
            assert feed.watched("demo") == 0

    asyncio.run(main())


def test_a_quiet_stream_gets_the_heartbeat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through a real uvicorn: with nothing changing, a comment line comes every PING_S."""
    monkeypatch.setattr(ticket_events, "PING_S", 0.3)

    async def main() -> None:
        app = create_app(make_settings(f"sqlite:///{tmp_path / 'hall.db'}"), start_bus=False)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        serving = asyncio.create_task(server.serve())
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=10) as client:
            while not server.started:
                await asyncio.sleep(0.05)
            issued = await client.post("/halls/demo/tickets", json={"service": "A"}, headers=DEVICE)
            ticket = issued.json()
            key = ticket["status_url"].rsplit("k=", 1)[1]
            lines: list[str] = []
            async with client.stream("GET", f"/halls/demo/tickets/{ticket['id']}/events?k={key}") as stream:
                async with asyncio.timeout(5):
                    async for line in stream.aiter_lines():
                        lines.append(line)
                        if sum(1 for seen in lines if seen.startswith(":")) == 2:
                            break
        server.should_exit = True
        await serving
        data = [x for x in lines if x.startswith("data:")]
        assert "event: place" in lines and len(data) == 1 and '"waiting"' in data[0]  # nothing changed: once
        assert lines[-1].startswith(": ping")

    asyncio.run(main())
