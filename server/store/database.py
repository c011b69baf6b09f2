"""The database under the dispatcher: its engine (PostgreSQL, or SQLite in WAL mode), the schema's
migrations, and the small helpers every store module shares."""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite returns naive datetimes; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def json_text(value: Any) -> str:
    """JSON columns (events, rows, answers) written by orjson: the group commit's serializer."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")


def normalize_url(url: str) -> str:
    """postgresql:// and postgres:// use psycopg 3 (hallq[pg]); sqlite stays as given."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def open_engine(raw_url: str, synchronous: str = "FULL") -> Engine:
    """The SQLAlchemy engine for a database URL: PostgreSQL with a small pool, or SQLite in WAL mode
    with `synchronous` (FULL: a commit survives power loss)."""
    url = normalize_url(raw_url)
    if not url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            json_serializer=json_text,
            json_deserializer=orjson.loads,
            pool_size=8,
            max_overflow=8,
            hide_parameters=True,
            connect_args={"connect_timeout": 5},
        )
        _ping_when_idle(engine)
        return engine
    path = url.removeprefix("sqlite:///")
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # hide_parameters: an error message must never carry row values into a log line.
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        hide_parameters=True,
        json_serializer=json_text,
        json_deserializer=orjson.loads,
    )

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # WAL: readers never block the writer; FULL: a commit survives power loss (durable).
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    return engine


# How long a SQLite write waits for another's write lock before it fails (SQLite's own busy handler).
BUSY_TIMEOUT_MS = 30_000

# A pooled connection idle this long is pinged before use (the database may have restarted meanwhile).
PING_AFTER_IDLE_S = 5.0


def _ping_when_idle(engine: Engine) -> None:
    """pool_pre_ping, but only for a connection that sat idle: pinging on every checkout was a round trip
    per commit (and per statistics query) under load, when connections are seconds old at most. A
    connection the database dropped while busy fails its statement instead; SQLAlchemy then discards
    the pool's connections, and the dispatcher answers that command 503 and rebuilds the hall (runtime.py)."""

    @sa.event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")  # none: connected just now
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # any failure: let the pool connect anew (it retries the checkout)
            raise sa.exc.DisconnectionError() from exc


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _dialect_insert(dialect: str) -> Any:
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        from sqlalchemy.dialects.postgresql import insert as dialect_insert  # type: ignore[assignment]
    return dialect_insert


def upsert(conn: Connection, table: sa.Table, row: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Insert the row, or update it where `keys` already name one (SQLite and PostgreSQL alike)."""
    stmt = _dialect_insert(conn.dialect.name)(table).values(**row)
    update = {k: stmt.excluded[k] for k in row if k not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=update))


def insert_missing(conn: Connection, table: sa.Table, row: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Insert the row unless `keys` already name one (SQLite and PostgreSQL alike)."""
    stmt = _dialect_insert(conn.dialect.name)(table).values(**row)
    conn.execute(stmt.on_conflict_do_nothing(index_elements=list(keys)))


class Upserts:
    """One insert-or-update statement per table, built once and run with many rows (executemany):
    the group commit's hot path. Every column not in the primary key is updated from the new row."""

    def __init__(self, dialect: str) -> None:
        self._insert = _dialect_insert(dialect)
        self._built: dict[str, Any] = {}

    def statement(self, table: sa.Table) -> Any:
        built = self._built.get(table.name)
        if built is None:
            stmt = self._insert(table)
            keys = {c.name for c in table.primary_key.columns}
            update = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
            built = self._built[table.name] = stmt.on_conflict_do_update(
                index_elements=[table.c[k] for k in keys], set_=update
            )
        return built
