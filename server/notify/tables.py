"""The notifier's tables (SQLAlchemy Core, on the store's metadata; migration 0007).

Personal data (DESIGN.md §7): the phone a citizen leaves for a ticket is kept only while it is needed
to send: in `notify_phones` until the ticket ends (done, cancelled, expired), and copied into each
message of `notify_outbox` until that message is delivered; both rows are deleted then. It never goes
into the tickets' rows, the events, an answer, an export, MQTT or a log line.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.store.schema import UtcDateTime, metadata

# A ticket whose citizen left a phone for messages; deleted when the ticket ends.
notify_phones = sa.Table(
    "notify_phones",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("ticket_id", sa.String(64), primary_key=True),
    sa.Column("phone", sa.String(20), nullable=False),
    sa.Column("ahead_sent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

# How far the notifier has read the hall's events (the queue's outbox).
notify_cursor = sa.Table(
    "notify_cursor",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

# Messages planned and not yet delivered, in order; a delivered one is deleted with its phone.
notify_outbox = sa.Table(
    "notify_outbox",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("key", sa.String(120), nullable=False),
    sa.Column("ticket_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),  # ahead | call
    sa.Column("phone", sa.String(20), nullable=False),
    sa.Column("text", sa.String(280), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("hall", "key", name="uq_notify_outbox_key"),
)
