"""The hub's own table, on the store's metadata (created by migration 0009_hub).

`hub_halls` is the city's register of halls (`hallq hub add-hall`): each hall's kind and parent (the
tree the numbers roll up along), the sha256 of its uplink token (the token itself is shown once),
and how far its uplink has come: `acked_seq` (every event up to it is in the hub's `events` table,
stored in the same transaction), when its last event happened and when it last reached the hub.
`profile` is what the hall sent about itself (hallq.network_models.HallProfile): its services'
target waits and names, so the hub reads its events as the hall does.

The shipped events themselves live in the same `events` table a hall's store has ((hall, seq) is its
primary key), so the statistics fold and read them with the halls' own code.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.store.schema import UtcDateTime, metadata

hub_halls = sa.Table(
    "hub_halls",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(40), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("parent", sa.String(32), nullable=True),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("acked_seq", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("last_event_at", UtcDateTime(), nullable=True),
    sa.Column("last_contact_at", UtcDateTime(), nullable=True),
    sa.Column("profile", sa.JSON, nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)
