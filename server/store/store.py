"""SQL access for the dispatcher. One transaction per engine command: rows, events, idempotency answer."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from server.store import schema as t

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class HallTaken(Exception):
    """Another dispatcher holds this hall's advisory lock (PostgreSQL); this one stands by."""


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


@dataclass
class HallRows:
    last_seq: int
    state: dict[str, Any] | None
    tickets: list[dict[str, Any]]
    windows: list[dict[str, Any]]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite returns naive datetimes; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def normalize_url(url: str) -> str:
    """postgresql:// and postgres:// use psycopg 3 (hallq[pg]); sqlite stays as given."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Store:
    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL") -> None:
        self.url = normalize_url(url)
        self.engine: Engine = self._create_engine(sqlite_synchronous)
        self._lock_conns: dict[str, Connection] = {}
        # Called (hall, last_seq) in the event loop after each committed command (by the Dispatcher).
        self.commit_listeners: list[Callable[[str, int], None]] = []
        self._lock_guard = threading.Lock()

    def add_commit_listener(self, callback: Callable[[str, int], None]) -> None:
        self.commit_listeners.append(callback)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def _create_engine(self, synchronous: str) -> Engine:
        if not self.url.startswith("sqlite"):
            return sa.create_engine(
                self.url,
                pool_size=8,
                max_overflow=8,
                pool_pre_ping=True,
                hide_parameters=True,
                connect_args={"connect_timeout": 5},
            )
        path = self.url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: an error message must never carry row values into a log line.
        engine = sa.create_engine(
            self.url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL: readers never block the writer; FULL: a commit survives power loss (durable).
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine

    # ---- schema -------------------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (idempotent)."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        logging.getLogger("alembic").setLevel(logging.WARNING)
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def close(self) -> None:
        for hall in list(self._lock_conns):
            self.release_hall(hall)
        self.engine.dispose()

    # ---- hall ownership (PostgreSQL advisory lock) ----------------------------------------------

    def try_take_hall(self, hall: str) -> bool:
        """Take the hall's session advisory lock on PostgreSQL (always True on SQLite, whose file lock
        already serializes writers). The lock lives as long as this process's dedicated connection."""
        if self.is_sqlite:
            return True
        with self._lock_guard:
            if hall in self._lock_conns:
                return True
            conn = self.engine.connect()
            key = zlib.crc32(f"hallq:{hall}".encode())
            taken = bool(conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
            conn.commit()
            if not taken:
                conn.close()
                return False
            self._lock_conns[hall] = conn
            return True

    def hall_lock_alive(self, hall: str) -> bool:
        """Whether this process still holds the hall: the advisory lock dies with its connection (a
        database restart, a network cut), and then another dispatcher may already have taken over."""
        if self.is_sqlite:
            return True
        with self._lock_guard:
            conn = self._lock_conns.get(hall)
        if conn is None:
            return False
        try:
            conn.execute(sa.text("SELECT 1"))
            conn.commit()
            return True
        except sa.exc.SQLAlchemyError:
            self.release_hall(hall)
            return False

    def holds_hall(self, hall: str) -> bool:
        return self.is_sqlite or hall in self._lock_conns

    def release_hall(self, hall: str) -> None:
        with self._lock_guard:
            conn = self._lock_conns.pop(hall, None)
        if conn is not None:
            try:
                conn.close()
            except sa.exc.SQLAlchemyError:
                log.warning("closing the advisory-lock connection of hall %s failed", hall)

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
        now = utcnow()
        batches: list[list[EventRow]] = []
        seq = last_seq
        for write in writes:
            batches.append([EventRow(hall, seq + 1 + i, kind, payload, now) for i, (kind, payload) in
                            enumerate(write.events)])  # fmt: skip
            seq += len(write.events)
        hall_state = next((w.hall_state for w in reversed(writes) if w.hall_state is not None), None)
        with self.engine.begin() as conn:
            self._advance_seq(conn, hall, last_seq, seq - last_seq, hall_state, now)
            for write, rows in zip(writes, batches, strict=True):
                self._write(conn, hall, write, rows, now)
        return batches

    def _write(self, conn: Connection, hall: str, write: CommandWrite, rows: list[EventRow], now: dt.datetime) -> None:
        for ticket in write.tickets:
            self._upsert(conn, t.tickets, {**ticket, "hall": hall, "updated_at": now}, ("hall", "id"))
        for window in write.windows:
            self._upsert(conn, t.windows, {**window, "hall": hall, "updated_at": now}, ("hall", "id"))
        if rows:
            conn.execute(
                t.events.insert(),
                [{"hall": hall, "seq": r.seq, "kind": r.kind, "payload": r.payload, "created_at": now} for r in rows],
            )
        if write.idempotency is not None:
            scope, key, status, body = write.idempotency
            # An upsert: a key older than the dispatcher's memory (36 h) answers anew, it never fails.
            row = {"hall": hall, "scope": scope, "key": key, "status_code": status, "body": body, "created_at": now}
            self._upsert(conn, t.idempotency, row, ("hall", "scope", "key"))
        for entry in write.audit:
            conn.execute(t.audit_log.insert().values(at=now, hall=hall, **entry))
        if write.evaluation is not None:
            conn.execute(t.evaluations.insert().values(hall=hall, at=now, **write.evaluation))

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
        result = conn.execute(
            t.halls.update().where(t.halls.c.hall == hall).where(t.halls.c.last_seq == expected).values(**values)
        )
        if result.rowcount != 1:
            raise HallTaken(f"hall {hall}: the event sequence moved under this dispatcher (another writer?)")

    def _upsert(self, conn: Connection, table: sa.Table, row: dict[str, Any], keys: tuple[str, ...]) -> None:
        if self.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert  # type: ignore[assignment]
        stmt = dialect_insert(table).values(**row)
        update = {k: stmt.excluded[k] for k in row if k not in keys}
        conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=update))

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
            self._upsert(conn, t.idempotency, row, ("hall", "scope", "key"))

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
        with self.engine.begin() as conn:
            conn.execute(
                t.events.update()
                .where(t.events.c.hall == hall, t.events.c.seq <= up_to_seq, t.events.c.published_at.is_(None))
                .values(published_at=utcnow())
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

    def add_user(self, username: str, password_hash: str, role: str, display_name: str) -> None:
        with self.engine.begin() as conn:
            self._upsert(
                conn,
                t.users,
                {
                    "username": username,
                    "password_hash": password_hash,
                    "role": role,
                    "display_name": display_name,
                    "created_at": utcnow(),
                    "disabled_at": None,
                },
                ("username",),
            )
            # a new password (or role) ends every login made with the old one
            conn.execute(
                t.sessions.update()
                .where(t.sessions.c.username == username, t.sessions.c.ended_at.is_(None))
                .values(ended_at=utcnow())
            )

    def user(self, username: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.users).where(t.users.c.username == username, t.users.c.disabled_at.is_(None))
            ).first()
        return dict(row._mapping) if row else None

    def add_device_token(self, device: str, kind: str, token_sha256: str, windows: list[str]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                t.device_tokens.insert().values(
                    token_sha256=token_sha256, device=device, kind=kind, windows=windows, created_at=utcnow()
                )
            )

    def device_token(self, token_sha256: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.device_tokens).where(
                    t.device_tokens.c.token_sha256 == token_sha256, t.device_tokens.c.revoked_at.is_(None)
                )
            ).first()
        return dict(row._mapping) if row else None

    def device_windows(self, device: str) -> list[str] | None:
        """Windows a device registered with `hallq token create` may command (None: unknown device)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.device_tokens.c.windows).where(
                    t.device_tokens.c.device == device, t.device_tokens.c.revoked_at.is_(None)
                )
            ).all()
        if not rows:
            return None
        return sorted({w for r in rows for w in (r.windows or [])})

    def device_kinds(self, device: str) -> list[str]:
        """Kinds of the live tokens `hallq token create` made for a device (empty: none)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.device_tokens.c.kind).where(
                    t.device_tokens.c.device == device, t.device_tokens.c.revoked_at.is_(None)
                )
            ).all()
        return sorted({r.kind for r in rows})

    def revoke_device(self, device: str, configured: list[dict[str, Any]] | None = None) -> int:
        """Revoke every token of a device: those `hallq token create` made, and the hall config's own
        (`configured`: rows of token_sha256, kind, windows), which are written here as revoked so the
        dispatcher refuses them although the config still lists them. Returns how many were revoked."""
        now = utcnow()
        with self.engine.begin() as conn:
            result = conn.execute(
                t.device_tokens.update()
                .where(t.device_tokens.c.device == device, t.device_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            count = int(result.rowcount)
            for credential in configured or []:
                known = conn.execute(
                    sa.select(t.device_tokens.c.revoked_at).where(
                        t.device_tokens.c.token_sha256 == credential["token_sha256"]
                    )
                ).first()
                if known is None:
                    conn.execute(
                        t.device_tokens.insert().values(device=device, created_at=now, revoked_at=now, **credential)
                    )
                    count += 1
        return count

    def token_revoked(self, token_sha256: str) -> bool:
        """Is this device token on the revocation list (a config token revoked with `hallq token revoke`)?"""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.device_tokens.c.revoked_at).where(t.device_tokens.c.token_sha256 == token_sha256)
            ).first()
        return row is not None and row.revoked_at is not None

    def session_live(self, token_sha256: str, now: dt.datetime) -> bool:
        """Is this clerk login still open in the store (not logged out, reset or expired)?"""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.sessions.c.token_sha256).where(
                    t.sessions.c.token_sha256 == token_sha256,
                    t.sessions.c.ended_at.is_(None),
                    t.sessions.c.expires_at > now,
                )
            ).first()
        return row is not None

    def add_session(self, row: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(t.sessions.insert().values(**row))

    def active_sessions(self, now: dt.datetime) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.sessions).where(t.sessions.c.ended_at.is_(None), t.sessions.c.expires_at > now)
            ).all()
        result = []
        for r in rows:
            row = dict(r._mapping)
            row["expires_at"] = aware(row["expires_at"])
            row["created_at"] = aware(row["created_at"])
            result.append(row)
        return result

    def end_sessions(self, token_sha256s: list[str]) -> None:
        if not token_sha256s:
            return
        with self.engine.begin() as conn:
            conn.execute(
                t.sessions.update().where(t.sessions.c.token_sha256.in_(token_sha256s)).values(ended_at=utcnow())
            )

    def audit(self, hall: str | None, actor: str, role: str, action: str, target: str | None, detail: dict) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                t.audit_log.insert().values(
                    at=utcnow(), hall=hall, actor=actor, role=role, action=action, target=target, detail=detail
                )
            )

    def audit_entries(self, hall: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        query = sa.select(t.audit_log).order_by(t.audit_log.c.id.desc()).limit(limit)
        if hall is not None:
            query = query.where(t.audit_log.c.hall == hall)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query).all()]

    def ticket_rows(self, hall: str, day: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.tickets.c.data).where(t.tickets.c.hall == hall, t.tickets.c.day == day)
            ).all()
        return [r.data for r in rows]
