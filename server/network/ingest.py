"""Storing a hall's shipped events at the hub, each (hall, seq) exactly once (DESIGN §14).

One transaction per batch: lock the hall's register row (PostgreSQL `FOR UPDATE`; SQLite has one
writer anyway), read its `acked_seq`, refuse a batch that starts after `acked_seq + 1` (a gap:
nothing is stored, the answer names the seq needed), skip the events already stored (a batch sent
again after a lost answer: acknowledged, not stored twice), insert the rest into `events` and move
`acked_seq` to the last one, compare-and-set. The events and the acknowledgement commit together,
so a hub killed at any moment has either both or neither.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from hallq.network_models import EventBatch
from server.network.tables import hub_halls
from server.store import schema as t
from server.store.database import utcnow

log = logging.getLogger(__name__)
ATTEMPTS = 3  # a batch racing another of the same hall (two uplinks at a take-over) is read again


class Gap(Exception):
    """The batch starts after the next seq the hub needs; nothing was stored."""

    def __init__(self, hall: str, acked_seq: int, from_seq: int) -> None:
        self.acked_seq = acked_seq
        self.expected_seq = acked_seq + 1
        super().__init__(
            f"大厅 {hall} 的事件不连续：中心已收到第 {acked_seq} 条，本批从第 {from_seq} 条开始。"
            f" Hall {hall}: the hub holds events up to seq {acked_seq}; this batch starts at {from_seq}."
            f" Send from seq {acked_seq + 1}."
        )


class HallNotRegistered(Exception):
    pass


class _Raced(Exception):
    """Another transaction moved the hall's acked_seq between our read and our write."""


@dataclass(frozen=True)
class Stored:
    acked_seq: int
    stored: int  # events new to the hub in this batch (0 for a heartbeat or a batch sent again)


def store_batch(engine: Engine, hall: str, batch: EventBatch) -> Stored:
    """Store the batch's new events and acknowledge; raises Gap, or HallNotRegistered."""
    for attempt in range(ATTEMPTS):
        try:
            with engine.begin() as conn:
                result = _store(conn, hall, batch)
        except (_Raced, IntegrityError):
            if attempt == ATTEMPTS - 1:
                raise
            log.info("hall %s: a concurrent batch was stored first; reading acked_seq again", hall)
            continue
        if isinstance(result, Gap):  # raised after the commit: the contact time is kept
            raise result
        return result
    raise AssertionError("unreachable")


def _store(conn: Connection, hall: str, batch: EventBatch) -> Stored | Gap:
    acked = _locked_acked_seq(conn, hall)
    now = utcnow()
    if batch.events and batch.from_seq > acked + 1:
        _touch(conn, hall, now)
        return Gap(hall, acked, batch.from_seq)
    new = [e for e in batch.events if e.seq > acked]
    if not new:
        _touch(conn, hall, now)
        return Stored(acked, 0)
    conn.execute(
        t.events.insert(),
        [{"hall": hall, "seq": e.seq, "kind": e.kind, "payload": e.payload, "created_at": e.created_at} for e in new],
    )
    moved = conn.execute(
        hub_halls.update()
        .where(hub_halls.c.hall == hall, hub_halls.c.acked_seq == acked)
        .values(acked_seq=new[-1].seq, last_event_at=new[-1].created_at, last_contact_at=now, updated_at=now)
    )
    if moved.rowcount != 1:
        raise _Raced(hall)
    return Stored(new[-1].seq, len(new))


def _locked_acked_seq(conn: Connection, hall: str) -> int:
    query = sa.select(hub_halls.c.acked_seq).where(hub_halls.c.hall == hall)
    if conn.dialect.name != "sqlite":
        query = query.with_for_update()
    acked = conn.execute(query).scalar()
    if acked is None:
        raise HallNotRegistered(hall)
    return int(acked)


def _touch(conn: Connection, hall: str, now: dt.datetime) -> None:
    """A heartbeat, a batch sent again or a gap still tells the hub the hall is reachable."""
    conn.execute(hub_halls.update().where(hub_halls.c.hall == hall).values(last_contact_at=now))
