"""The live place feed inside the dispatcher (server/usecases/places.py): a burst of commits is a few
passes, not one per commit; only the streams whose ticket moved are woken; two phones on one ticket
share one watch, and the watch goes when the last stream ends."""

from __future__ import annotations

import asyncio

from server.engine import commands as c
from server.usecases.common import nothing
from server.usecases.places import PlaceFeed
from tests.stats.scenario import hall_app, local

KEY = "k" * 16  # the scenario's access key


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
