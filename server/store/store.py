"""The halls' rows and the events outbox. One transaction per group of engine commands: rows, events,
idempotency answers."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from server.store import schema as t
from server.store.database import aware, migrate, normalize_url, open_engine, upsert, utcnow
from server.store.rows import (
    GUARD,
    GUARD_WITH_STATE,
    Guard,
    SqliteRows,
    TableRows,
    guard_params,
    moved,
    row_writer,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventRow:
    hall: str
    seq: int
    kind: str
    payload: dict[str, Any]
    created_at: dt.datetime
    published_at: dt.datetime | None = None


@dataclass(frozen=True)
class IdempotentAnswer:
    status_code: int
    body: Any


@dataclass
class CommandWrite:
    """Everything one command changes, written in one transaction."""

    tickets: list[dict[str, Any]] = field(default_factory=list)  # rows for schema.tickets
    windows: list[dict[str, Any]] = field(default_factory=list)  # rows for schema.windows
    hall_state: dict[str, Any] | None = None
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (kind, payload)
    idempotency: tuple[str, str, int, Any] | None = None  # (scope, key, status_code, body)
    audit: list[dict[str, Any]] = field(default_factory=list)
    evaluation: dict[str, Any] | None = None
    # Rows of an area's own table written with the command, (table name, row without `hall`): e.g. the
    # phone left for a ticket's messages, which must exist exactly when the ticket does.
    inserts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@dataclass
class HallRows:
    last_seq: int
    state: dict[str, Any] | None
    tickets: list[dict[str, Any]]
    windows: list[dict[str, Any]]


def _table_rows(
    hall: str, writes: list[CommandWrite], batches: list[list[EventRow]], now: dt.datetime
) -> list[TableRows]:
    """Every table's rows for the whole group, each table once (one statement each): a row touched by
    several commands of the group is written as the last one left it."""
    tickets: dict[str, dict[str, Any]] = {}
    windows: dict[str, dict[str, Any]] = {}
    answers: dict[tuple[str, str], dict[str, Any]] = {}
    events: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []
    evaluations: list[dict[str, Any]] = []
    for write, rows in zip(writes, batches, strict=True):
        for ticket in write.tickets:
            tickets[ticket["id"]] = {**ticket, "hall": hall, "updated_at": now}
        for window in write.windows:
            windows[window["id"]] = {**window, "hall": hall, "updated_at": now}
        events += [{"hall": hall, "seq": r.seq, "kind": r.kind, "payload": r.payload, "created_at": now} for r in rows]
        if write.idempotency is not None:
            scope, key, status, body = write.idempotency
            # An upsert: a key older than the dispatcher's memory (36 h) answers anew, it never fails.
            answers[(scope, key)] = {"hall": hall, "scope": scope, "key": key, "status_code": status,
                                     "body": body, "created_at": now}  # fmt: skip
        audit += [{"at": now, "hall": hall, **entry} for entry in write.audit]
        if write.evaluation is not None:
            evaluations.append({"hall": hall, "at": now, **write.evaluation})
    upserts = [(t.tickets, list(tickets.values())), (t.windows, list(windows.values())),
               (t.idempotency, list(answers.values()))]  # fmt: skip
    plain = [(t.events, events), (t.audit_log, audit), (t.evaluations, evaluations)]
    return [(table, rows, True) for table, rows in upserts if rows] + [
        (table, rows, False) for table, rows in plain if rows
    ]


@dataclass(frozen=True)
class _Group:
    """A group commit's rows, events numbered on from the last committed one."""

    batches: list[list[EventRow]]  # each command's events
    guard: Guard
    tables: list[TableRows]
    inserts: list[tuple[str, dict[str, Any]]]  # an area's rows, on the way through SQLAlchemy

    @property
    def usual(self) -> bool:
        """Not the hall's first group, no area's rows: the whole transaction can run on the driver."""
        return self.guard.expected > 0 and not self.inserts

    @classmethod
    def of(cls, hall: str, writes: list[CommandWrite], last_seq: int) -> _Group:
        now = utcnow()
        batches: list[list[EventRow]] = []
        seq = last_seq
        for write in writes:
            batches.append([EventRow(hall, seq + 1 + i, kind, payload, now) for i, (kind, payload) in
                            enumerate(write.events)])  # fmt: skip
            seq += len(write.events)
        hall_state = next((w.hall_state for w in reversed(writes) if w.hall_state is not None), None)
        inserts = [(name, {**row, "hall": hall}) for write in writes for name, row in write.inserts]
        guard = Guard(hall, last_seq, seq, hall_state, now)
        return cls(batches, guard, _table_rows(hall, writes, batches, now), inserts)


class Store:
    """One database: the halls' rows, the events outbox and the idempotency answers. The hall locks,
    the credentials and the audit log are their own modules on the same engine (locks.py,
    credentials.py, audit.py)."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL") -> None:
        self.url = normalize_url(url)
        self.engine: Engine = open_engine(url, sqlite_synchronous)
        self._rows = row_writer(self.engine.dialect.name)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    # ---- schema -------------------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (idempotent)."""
        migrate(self.engine)

    def close(self) -> None:
        self._rows.close()
        self.engine.dispose()

    # ---- loading --------------------------------------------------------------------------------

    def load_hall(self, hall: str, since_day: str) -> HallRows:
        """The rows the engine is rebuilt from: today's tickets plus any still open from earlier days."""
        with self.engine.connect() as conn:
            head = conn.execute(sa.select(t.halls).where(t.halls.c.hall == hall)).first()
            ticket_rows = conn.execute(
                sa.select(t.tickets.c.data)
                .where(t.tickets.c.hall == hall)
                .where(
                    sa.or_(
                        t.tickets.c.day >= since_day,
                        t.tickets.c.status.in_(("waiting", "called", "parked")),
                    )
                )
            ).all()
            window_rows = conn.execute(sa.select(t.windows.c.data).where(t.windows.c.hall == hall)).all()
        return HallRows(
            last_seq=int(head.last_seq) if head else 0,
            state=head.state if head else None,
            tickets=[r.data for r in ticket_rows],
            windows=[r.data for r in window_rows],
        )

    # ---- the command transaction ----------------------------------------------------------------

    def commit(self, hall: str, write: CommandWrite, first_seq: int) -> list[EventRow]:
        """Write one command's rows and events atomically (see commit_batch)."""
        return self.commit_batch(hall, [write], first_seq - 1)[0]

    def commit_batch(self, hall: str, writes: list[CommandWrite], last_seq: int) -> list[list[EventRow]]:
        """Write several commands (in the order the engine handled them) in ONE transaction: group
        commit, one fsync for all. Events are numbered on from `last_seq`, which the single writer
        knows; the halls row is checked so a second writer fails instead of forking the sequence."""
        group = _Group.of(hall, writes, last_seq)
        if group.usual:  # on the driver, without SQLAlchemy's Connection
            self._rows.commit_guarded(self.engine, group.guard, group.tables)
            return group.batches
        with self.engine.begin() as conn:
            guard = group.guard
            self._advance_seq(conn, hall, last_seq, guard.last_seq - last_seq, guard.state, guard.now)
            for table, rows, is_upsert in group.tables:
                self._rows.write(conn, table, rows, upsert=is_upsert)
            for name, row in group.inserts:
                conn.execute(t.metadata.tables[name].insert(), row)
        return group.batches

    def commit_batch_at_once(self, hall: str, writes: list[CommandWrite], last_seq: int) -> list[list[EventRow]] | None:
        """commit_batch, only where it cannot wait for a lock: SQLite's usual group while no other
        connection holds the write lock. None: nothing was written (PostgreSQL, a hall's first group
        or one with an area's rows, or the lock was held), so commit it with commit_batch."""
        if not isinstance(self._rows, SqliteRows):
            return None
        group = _Group.of(hall, writes, last_seq)
        if not group.usual or not self._rows.commit_guarded_at_once(self.engine, group.guard, group.tables):
            return None
        return group.batches

    def _advance_seq(
        self, conn: Connection, hall: str, expected: int, count: int, state: dict[str, Any] | None, now: dt.datetime
    ) -> None:
        values: dict[str, Any] = {"last_seq": expected + count, "updated_at": now}
        if state is not None:
            values["state"] = state
        if expected == 0:
            exists = conn.execute(sa.select(t.halls.c.last_seq).where(t.halls.c.hall == hall)).first()
            if exists is None:
                conn.execute(t.halls.insert().values(hall=hall, **values))
                return
        params = guard_params(Guard(hall, expected, values["last_seq"], state, now))
        result = conn.execute(GUARD_WITH_STATE if state is not None else GUARD, params)
        if result.rowcount != 1:
            raise moved(hall)

    def idempotent_answer(self, hall: str, scope: str, key: str) -> IdempotentAnswer | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.idempotency.c.status_code, t.idempotency.c.body).where(
                    t.idempotency.c.hall == hall, t.idempotency.c.scope == scope, t.idempotency.c.key == key
                )
            ).first()
        return IdempotentAnswer(row.status_code, row.body) if row else None

    def idempotent_answers_since(self, hall: str, since: dt.datetime) -> dict[tuple[str, str], IdempotentAnswer]:
        """Recent answers by (scope, key): the dispatcher keeps them in memory so a retry costs no query."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.idempotency).where(t.idempotency.c.hall == hall, t.idempotency.c.created_at >= since)
            ).all()
        return {(r.scope, r.key): IdempotentAnswer(r.status_code, r.body) for r in rows}

    def record_idempotent(self, hall: str, scope: str, key: str, status_code: int, body: Any) -> None:
        """For answers that changed nothing (204 nobody waiting): remembered so a retry agrees."""
        row = {"hall": hall, "scope": scope, "key": key, "status_code": status_code, "body": body,
               "created_at": utcnow()}  # fmt: skip
        with self.engine.begin() as conn:
            upsert(conn, t.idempotency, row, ("hall", "scope", "key"))

    # ---- outbox (used by server/publisher.py) ---------------------------------------------------

    def fetch_unpublished(self, hall: str, limit: int = 500) -> list[EventRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.events)
                .where(t.events.c.hall == hall, t.events.c.published_at.is_(None))
                .order_by(t.events.c.seq)
                .limit(limit)
            ).all()
        return [EventRow(r.hall, int(r.seq), r.kind, r.payload, aware(r.created_at) or utcnow(), None) for r in rows]

    def mark_published(self, hall: str, up_to_seq: int) -> None:
        self.mark_published_many({hall: up_to_seq})

    def mark_published_many(self, marks: dict[str, int]) -> None:
        """Several halls' marks in one transaction (one fsync, however many halls a dispatcher serves)."""
        now = utcnow()
        with self.engine.begin() as conn:
            for hall, up_to_seq in marks.items():
                conn.execute(
                    t.events.update()
                    .where(t.events.c.hall == hall, t.events.c.seq <= up_to_seq, t.events.c.published_at.is_(None))
                    .values(published_at=now)
                )

    def last_seq(self, hall: str) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(t.halls.c.last_seq).where(t.halls.c.hall == hall)).scalar()
        return int(value or 0)

    def events_since(self, hall: str, after_seq: int, limit: int = 1000) -> list[EventRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.events)
                .where(t.events.c.hall == hall, t.events.c.seq > after_seq)
                .order_by(t.events.c.seq)
                .limit(limit)
            ).all()
        return [
            EventRow(r.hall, int(r.seq), r.kind, r.payload, aware(r.created_at) or utcnow(), aware(r.published_at))
            for r in rows
        ]

    # ---- credentials ----------------------------------------------------------------------------

    def ticket_rows(self, hall: str, day: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.tickets.c.data).where(t.tickets.c.hall == hall, t.tickets.c.day == day)
            ).all()
        return [r.data for r in rows]
