"""The notifier's SQL: the phones left for tickets, its cursor over the hall's events, and the messages
waiting for the gateway.

Exactly once: a plan (its messages, the `ahead_sent` marks, the forgotten phones) and the cursor
past the events it read are one transaction, guarded by the cursor's old value, so a crash either
keeps all of it or none and a second notifier cannot plan the same events. A message is deleted (with
its copy of the phone) only after the gateway took it; a crash in between sends it again under the
same key, which the gateway (or the file sink) recognises.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from server.notify import tables as t
from server.notify.planner import Message, Phone, Plan
from server.store.database import insert_missing


@dataclass(frozen=True)
class Pending:
    seq: int
    message: Message


class CursorMoved(Exception):
    """Another dispatcher's notifier planned these events (a take-over); this one reads on."""


def cursor(engine: Engine, hall: str) -> int:
    with engine.connect() as conn:
        value = conn.execute(sa.select(t.notify_cursor.c.last_seq).where(t.notify_cursor.c.hall == hall)).scalar()
    return int(value or 0)


def phones(engine: Engine, hall: str) -> dict[str, Phone]:
    query = sa.select(t.notify_phones).where(t.notify_phones.c.hall == hall)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return {r.ticket_id: Phone(r.ticket_id, r.phone, bool(r.ahead_sent)) for r in rows}


def save_plan(engine: Engine, hall: str, old: int, plan: Plan, now: dt.datetime) -> None:
    with engine.begin() as conn:
        if old == 0:
            insert_missing(conn, t.notify_cursor, {"hall": hall, "last_seq": 0, "updated_at": now}, ("hall",))
        moved = conn.execute(
            t.notify_cursor.update()
            .where(t.notify_cursor.c.hall == hall, t.notify_cursor.c.last_seq == old)
            .values(last_seq=plan.last_seq, updated_at=now)
        ).rowcount
        if moved != 1:
            raise CursorMoved(f"hall {hall}: the notifier's cursor moved from {old} under this one")
        top = conn.execute(sa.select(sa.func.max(t.notify_outbox.c.seq)).where(t.notify_outbox.c.hall == hall))
        seq = int(top.scalar() or 0)
        rows = [
            {
                "hall": hall,
                "seq": seq + i,
                "key": m.key,
                "ticket_id": m.ticket_id,
                "kind": m.kind,
                "phone": m.phone,
                "text": m.text,
                "created_at": now,
            }  # fmt: skip
            for i, m in enumerate(plan.messages, start=1)
        ]
        if rows:
            conn.execute(t.notify_outbox.insert(), rows)
        phones_of_hall = t.notify_phones.c.hall == hall
        if plan.ahead_reset:
            conn.execute(
                t.notify_phones.update()
                .where(phones_of_hall, t.notify_phones.c.ticket_id.in_(plan.ahead_reset))
                .values(ahead_sent=False)
            )
        if plan.ahead_sent:
            conn.execute(
                t.notify_phones.update()
                .where(phones_of_hall, t.notify_phones.c.ticket_id.in_(plan.ahead_sent))
                .values(ahead_sent=True)
            )
        if plan.forget:
            conn.execute(t.notify_phones.delete().where(phones_of_hall, t.notify_phones.c.ticket_id.in_(plan.forget)))


def pending(engine: Engine, hall: str, limit: int) -> list[Pending]:
    query = (
        sa.select(t.notify_outbox).where(t.notify_outbox.c.hall == hall).order_by(t.notify_outbox.c.seq).limit(limit)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [Pending(int(r.seq), Message(r.key, r.ticket_id, r.kind, r.phone, r.text)) for r in rows]


def delivered(engine: Engine, hall: str, seqs: list[int]) -> None:
    """The gateway took these: delete them, and the phone with them."""
    with engine.begin() as conn:
        conn.execute(t.notify_outbox.delete().where(t.notify_outbox.c.hall == hall, t.notify_outbox.c.seq.in_(seqs)))


def waiting_count(engine: Engine, hall: str) -> int:
    with engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).where(t.notify_outbox.c.hall == hall)).scalar()
    return int(count or 0)


def phone_count(engine: Engine, hall: str) -> int:
    with engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).where(t.notify_phones.c.hall == hall)).scalar()
    return int(count or 0)
