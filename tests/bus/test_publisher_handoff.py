"""The publisher reads committed rows from what the dispatcher handed over, never past a gap: after a
start, a take-over or a long backlog only the database knows the rows, and it reads them there."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from server.publisher import Publisher
from server.store import EventRow
from tests.bus.helpers import FakeDispatcher

NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)


def rows(first: int, last: int) -> list[EventRow]:
    return [EventRow("demo", seq, "ticket_issued", {"number": f"A{seq:03d}"}, NOW) for seq in range(first, last + 1)]


def publisher(batch: int = 4) -> Publisher:
    return Publisher(cast(Any, FakeDispatcher()), "demo", cast(Any, None), batch=batch)


def test_handed_rows_serve_the_next_batch_up_to_the_newest_commit() -> None:
    pub = publisher()
    pub.take_rows("demo", rows(1, 3))
    assert [r.seq for r in pub._handed_after(0) or []] == [1, 2, 3]
    assert [r.seq for r in pub._handed_after(1) or []] == [2, 3]
    pub.take_rows("demo", rows(4, 9))
    assert [r.seq for r in pub._handed_after(3) or []] == [4, 5, 6, 7]  # a full batch


def test_a_gap_or_an_unknown_start_goes_to_the_database() -> None:
    pub = publisher()
    assert pub._handed_after(0) is None  # nothing handed yet (a start)
    pub.take_rows("demo", rows(5, 6))
    assert pub._handed_after(2) is None  # rows 3-4 were committed before the hand-over began
    pub.take_rows("demo", rows(20, 21))  # another dispatcher wrote 7-19 while this one stood by
    assert pub._handed_after(4) is None, "rows 5-6 lead to a gap: the database has 7-19"
    assert [r.seq for r in pub._handed_after(19) or []] == [20, 21]


def test_what_the_broker_acknowledged_is_let_go() -> None:
    """Snapshots and handed rows up to the acknowledged seq are never looked up again: a dispatcher of
    200 halls kept 256 boards and 5 000 rows per hall (issue 18)."""
    pub = publisher()
    pub.take_rows("demo", rows(1, 6))
    for seq in range(1, 7):
        pub._recent[seq] = cast(Any, object())
    pub._acked_seq = 4
    pub._forget_published()
    assert list(pub._recent) == [5, 6]
    assert [r.seq for r in pub._handed_after(4) or []] == [5, 6]
