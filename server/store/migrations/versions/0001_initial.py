"""initial dispatcher store: halls, tickets, windows, events (outbox), idempotency, users, device
tokens, sessions, audit log, evaluations

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "halls",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("state", sa.JSON, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "tickets",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("service", sa.String(4), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("window", sa.String(16), nullable=True),
        sa.Column("id_hash", sa.String(64), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_index("ix_tickets_hall_day_number", "tickets", ["hall", "day", "number"])
    op.create_index("ix_tickets_hall_status", "tickets", ["hall", "status"])
    op.create_table(
        "windows",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("published_at", TS, nullable=True),
    )
    op.create_index("ix_events_unpublished", "events", ["hall", "published_at", "seq"])
    op.create_table(
        "idempotency",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("scope", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("body", sa.JSON, nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("username", sa.String(32), primary_key=True),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("display_name", sa.String(32), nullable=False, server_default=""),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("disabled_at", TS, nullable=True),
    )
    op.create_table(
        "device_tokens",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column("device", sa.String(48), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("windows", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
    )
    op.create_index("ix_device_tokens_device", "device_tokens", ["device"])
    op.create_table(
        "sessions",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(32), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("display_name", sa.String(32), nullable=False),
        sa.Column("hall", sa.String(32), nullable=True),
        sa.Column("window", sa.String(16), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
    )
    op.create_index("ix_sessions_window", "sessions", ["hall", "window"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("hall", sa.String(32), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(64), nullable=True),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_table(
        "evaluations",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("comment", sa.String(500), nullable=False, server_default=""),
        sa.Column("window", sa.String(16), nullable=True),
        sa.Column("service", sa.String(4), nullable=True),
        sa.Column("clerk", sa.String(32), nullable=True),
        sa.Column("at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "evaluations",
        "audit_log",
        "sessions",
        "device_tokens",
        "users",
        "idempotency",
        "events",
        "windows",
        "tickets",
        "halls",
    ):
        op.drop_table(table)
