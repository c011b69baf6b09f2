"""Tables of the dispatcher store (SQLAlchemy Core). Alembic migrations in `migrations/` create them;
this metadata is what the code reads and writes, and what `alembic check` compares against."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()


class UtcDateTime(sa.TypeDecorator[dt.datetime]):
    """A moment in time: written as UTC, read back as UTC with its offset on every database (SQLite keeps
    no offset and would hand back a naive time that screens show 8 hours off in Asia/Shanghai). A naive
    value written is taken as UTC, as everything the dispatcher stores is."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# One row per hall: the last event seq (gap-free counter) and the engine's small hall-level state
# (numbering counters, service-time averages, priority streaks) as JSON.
halls = sa.Table(
    "halls",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("state", sa.JSON, nullable=True),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("day", sa.String(10), nullable=False),
    sa.Column("number", sa.String(16), nullable=False),
    sa.Column("service", sa.String(4), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("window", sa.String(16), nullable=True),
    sa.Column("id_hash", sa.String(64), nullable=True),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    # The engine's full ticket as JSON: restored into the engine at start.
    sa.Column("data", sa.JSON, nullable=False),
    sa.Index("ix_tickets_hall_day_number", "hall", "day", "number"),
    sa.Index("ix_tickets_hall_status", "hall", "status"),
)

windows = sa.Table(
    "windows",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
)

# The outbox: every event of every command, per hall numbered without gaps.
events = sa.Table(
    "events",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(48), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("published_at", UtcDateTime(), nullable=True),
    sa.Index("ix_events_unpublished", "hall", "published_at", "seq"),
)

# A retried request (same Idempotency-Key) gets the first answer, stored in the command's transaction.
idempotency = sa.Table(
    "idempotency",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("scope", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("body", sa.JSON, nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("username", sa.String(32), primary_key=True),
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("display_name", sa.String(32), nullable=False, server_default=""),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("disabled_at", UtcDateTime(), nullable=True),
)

device_tokens = sa.Table(
    "device_tokens",
    metadata,
    sa.Column("token_sha256", sa.String(64), primary_key=True),
    sa.Column("device", sa.String(48), nullable=False, index=True),
    sa.Column("kind", sa.String(24), nullable=False),
    sa.Column("windows", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
)

# Clerk logins: only the sha256 of the bearer token is kept; a login may be bound to one window.
sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_sha256", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(32), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("display_name", sa.String(32), nullable=False),
    sa.Column("hall", sa.String(32), nullable=True),
    sa.Column("window", sa.String(16), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("ended_at", UtcDateTime(), nullable=True),
    sa.Index("ix_sessions_window", "hall", "window"),
)

# One row (id 1): moved by every revocation in the same transaction, so a dispatcher's cache of
# verified tokens learns from one cheap read that something may have been taken away (auth.py).
credential_generation = sa.Table(
    "credential_generation",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("generation", sa.BigInteger, nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("hall", sa.String(32), nullable=True),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("target", sa.String(64), nullable=True),
    # Never personal data: ticket ids, numbers, windows, services only.
    sa.Column("detail", sa.JSON, nullable=False),
)

evaluations = sa.Table(
    "evaluations",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("ticket_id", sa.String(64), primary_key=True),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("comment", sa.String(500), nullable=False, server_default=""),
    sa.Column("window", sa.String(16), nullable=True),
    sa.Column("service", sa.String(4), nullable=True),
    sa.Column("clerk", sa.String(32), nullable=True),
    sa.Column("at", UtcDateTime(), nullable=False),
)
