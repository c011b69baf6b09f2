"""The platform feed's outbox (DESIGN.md §11): every rating, and every later change of its record, is
appended in the transaction that makes it; each sink reads on from its cursor.

Order and completeness: the per-hall `seq` comes from the hall's `rating_feed` row, updated in the same
transaction, which holds that row locked until it commits (SQLite: the database's write lock). So seqs
are gap-free in commit order, and a cursor that has passed seq N has seen every row up to N.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from server.evaluations import tables as t
from server.store.database import insert_missing


@dataclass(frozen=True)
class FeedRecord:
    """One record as the sinks send it: the export's fields plus the platform's keys."""

    hall: str
    seq: int
    key: str  # the idempotency key: a record sent twice is recognised by it
    body: dict[str, Any]


def record_key(hall: str, rating_id: str, revision: int) -> str:
    return f"{hall}-{rating_id}-{revision}"


def append(
    conn: Connection, hall: str, rating_id: str, record: dict[str, Any], now: dt.datetime, revision: int | None = None
) -> int:
    """Add the rating's record as it now stands; returns its seq. Call inside the change's transaction.
    `revision`: the record's number when the caller knows it (0: a new rating's first record)."""
    seq = _next_seq(conn, hall)
    if revision is None:
        revision = conn.execute(
            sa.select(sa.func.count()).where(t.rating_outbox.c.hall == hall, t.rating_outbox.c.rating_id == rating_id)
        ).scalar_one()
    conn.execute(
        t.rating_outbox.insert().values(
            hall=hall, seq=seq, rating_id=rating_id, revision=revision, record=record, created_at=now
        )
    )
    return seq


_BUMP = (
    t.rating_feed.update()
    .where(t.rating_feed.c.hall == sa.bindparam("feed_hall"))
    .values(last_seq=t.rating_feed.c.last_seq + 1)
    .returning(t.rating_feed.c.last_seq)
)


def _next_seq(conn: Connection, hall: str) -> int:
    bumped = conn.execute(_BUMP, {"feed_hall": hall}).scalar()
    if bumped is None:  # the hall's first record: its row is made once
        insert_missing(conn, t.rating_feed, {"hall": hall, "last_seq": 0}, ("hall",))
        bumped = conn.execute(_BUMP, {"feed_hall": hall}).scalar_one()
    return int(bumped)


def head(engine: Engine, hall: str) -> int:
    """The hall's newest seq (0: nothing yet)."""
    with engine.connect() as conn:
        value = conn.execute(sa.select(t.rating_feed.c.last_seq).where(t.rating_feed.c.hall == hall)).scalar()
    return int(value or 0)


def cursor(engine: Engine, hall: str, sink: str) -> int:
    with engine.connect() as conn:
        value = conn.execute(
            sa.select(t.rating_sink_cursor.c.last_seq).where(
                t.rating_sink_cursor.c.hall == hall, t.rating_sink_cursor.c.sink == sink
            )
        ).scalar()
    return int(value or 0)


def after(engine: Engine, hall: str, seq: int, limit: int) -> list[FeedRecord]:
    """The records after `seq`, in order, each with its keys."""
    query = (
        sa.select(t.rating_outbox)
        .where(t.rating_outbox.c.hall == hall, t.rating_outbox.c.seq > seq)
        .order_by(t.rating_outbox.c.seq)
        .limit(limit)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    out = []
    for row in rows:
        key = record_key(hall, row["rating_id"], row["revision"])
        body = {**row["record"], "recordid": key, "evaluationid": row["rating_id"], "revision": row["revision"]}
        out.append(FeedRecord(hall, int(row["seq"]), key, body))
    return out


def advance(engine: Engine, hall: str, sink: str, old: int, new: int, now: dt.datetime) -> None:
    """Move the sink's cursor from `old` to `new`; guarded by `old`, so two feeders cannot both move it."""
    with engine.begin() as conn:
        if old == 0:
            row = {"hall": hall, "sink": sink, "last_seq": 0, "updated_at": now}
            insert_missing(conn, t.rating_sink_cursor, row, ("hall", "sink"))
        moved = conn.execute(
            t.rating_sink_cursor.update()
            .where(
                t.rating_sink_cursor.c.hall == hall,
                t.rating_sink_cursor.c.sink == sink,
                t.rating_sink_cursor.c.last_seq == old,
            )
            .values(last_seq=new, updated_at=now)
        ).rowcount
        if moved != 1:
            raise CursorMoved(f"hall {hall}: the {sink} sink's cursor moved from {old} under this feeder")


class CursorMoved(Exception):
    """Another dispatcher's feeder advanced the cursor (a take-over); this one re-reads it."""
