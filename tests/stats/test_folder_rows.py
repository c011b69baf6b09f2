"""The folding worker folds the rows each commit hands it, without reading them back from the
database; what it was not handed (a start, a take-over, rows it let go) it reads from the database."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from typing import Any

from server.store import EventRow
from tests.stats.scenario import folded, hall_app, the_day


def test_the_folder_folds_the_handed_rows_and_reads_the_rest(database: str, monkeypatch: Any) -> None:
    async def main() -> None:
        async with hall_app(database) as (_client, app, hall):
            await folded(app)  # the start's catch-up: nothing committed yet
            store, folder = app.state.dispatcher.store, app.state.stats_folder
            read_by_the_folder: list[int] = []
            events_since = store.events_since

            def counted(hall_id: str, after_seq: int, limit: int = 1000) -> list[EventRow]:
                if threading.current_thread() is folder._thread:
                    read_by_the_folder.append(after_seq)
                return events_since(hall_id, after_seq, limit)

            monkeypatch.setattr(store, "events_since", counted)
            await the_day(hall)
            await folded(app)
            assert read_by_the_folder == [], "the folder read back rows it had been handed"

            last = app.state.dispatcher.runtime("demo").last_seq
            assert folder._events_after("demo", 0, 5) == events_since("demo", 0, 5)  # let go once folded
            assert read_by_the_folder == []  # (this thread's read is not the folder's)
            newer = [EventRow("demo", last + i, "ticket_issued", {}, row.created_at)
                     for i, row in enumerate(events_since("demo", 0, 2), start=1)]  # fmt: skip
            folder.take_rows("demo", newer)
            assert folder._events_after("demo", last, 10) == newer
            assert folder._events_after("demo", last, 1) == newer[:1]
            gap = dataclasses.replace(newer[0], seq=last + 5)
            folder.take_rows("demo", [gap])
            assert folder._events_after("demo", last + 2, 10) == events_since("demo", last + 2, 10) == []

    asyncio.run(main())
