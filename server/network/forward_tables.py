"""Tables of the city's catalogue and of cases across halls (migration 0010_catalogue).

At the hub:
- `hub_catalogue`: the city's items (统一事项), one row per item code, the whole item as JSON.
- `hub_transfers`: what one hall sends another through the hub (store and forward): a forwarded case
  (转报) or news of it (its progress and result at the deciding hall), once per idempotency `key`,
  kept until the destination hall acknowledges it (`delivered_at`).

At a hall:
- `case_transfers_out`: the outbox of what this hall sends, written in the same transaction as the
  case's change, sent by the forwarder thread (`sent_at` once the hub holds it).
- `case_transfers_in`: the keys this hall has applied, written with the change they made, so a
  transfer fetched twice is applied once.
- `case_links`: a case that went to, or came from, another hall: where it is and its state there.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.store.schema import UtcDateTime, metadata

TS = UtcDateTime()

hub_catalogue = sa.Table(
    "hub_catalogue",
    metadata,
    sa.Column("code", sa.String(48), primary_key=True),
    sa.Column("department", sa.String(40), nullable=False),
    sa.Column("item", sa.JSON, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

hub_transfers = sa.Table(
    "hub_transfers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),  # the order they arrived in
    sa.Column("key", sa.String(160), nullable=False, unique=True),
    sa.Column("from_hall", sa.String(32), nullable=False),
    sa.Column("to_hall", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # case / status
    sa.Column("case_id", sa.String(32), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),  # masked personal data only (server/network/forwarding.py)
    sa.Column("created_at", TS, nullable=False),
    sa.Column("delivered_at", TS, nullable=True),
    sa.Index("ix_hub_transfers_to", "to_hall", "delivered_at", "id"),
)

case_transfers_out = sa.Table(
    "case_transfers_out",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(160), nullable=False, unique=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("to_hall", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("case_id", sa.String(32), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("sent_at", TS, nullable=True),
    sa.Index("ix_case_transfers_out_unsent", "hall", "sent_at", "id"),
)

case_transfers_in = sa.Table(
    "case_transfers_in",
    metadata,
    sa.Column("key", sa.String(160), primary_key=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("applied_at", TS, nullable=False),
)

case_links = sa.Table(
    "case_links",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("case_id", sa.String(32), primary_key=True),
    sa.Column("direction", sa.String(4), nullable=False),  # out: forwarded from here; in: forwarded here
    sa.Column("peer_hall", sa.String(32), nullable=False),
    sa.Column("peer_name", sa.String(40), nullable=False, server_default=""),
    sa.Column("remote_status", sa.String(16), nullable=True),  # out: the case's state at the deciding hall
    sa.Column("remote_label", sa.String(40), nullable=True),
    sa.Column("remote_at", TS, nullable=True),
    sa.Column("updated_at", TS, nullable=False),
)
