"""预约 tables, on the dispatcher store's metadata (created by migration 0008_appointments).

`appointment_slots` is one counter row per hall, service and slot start: a booking takes a place by an
UPDATE guarded by `booked < capacity` (the row is locked by the writer until it commits), so two phones
booking the last place at once cannot both win, on SQLite and PostgreSQL alike. `appointments` keeps
one row per booking; `active_key` (the person's ID HMAC, the service and the day) is set while the
booking stands and cleared when it is cancelled, so its unique index allows one standing booking per
person, service and day. Personal data: the ID number's HMAC and a masked phone, nothing else.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.store.schema import UtcDateTime, metadata

TS = UtcDateTime()

appointment_slots = sa.Table(
    "appointment_slots",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("service", sa.String(4), primary_key=True),
    sa.Column("start", TS, primary_key=True),
    sa.Column("booked", sa.Integer, nullable=False),
)

appointments = sa.Table(
    "appointments",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("code", sa.String(12), nullable=False),  # the booking code in its QR, typed at a kiosk
    sa.Column("access", sa.String(32), nullable=False),  # the citizen's key `k` for the booking's page
    sa.Column("service", sa.String(4), nullable=False),
    sa.Column("day", sa.Date, nullable=False),  # the hall's local day of the slot
    sa.Column("start", TS, nullable=False),
    sa.Column("end", TS, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),  # booked / checked_in / cancelled
    sa.Column("id_hash", sa.String(64), nullable=False),
    sa.Column("masked_phone", sa.String(16), nullable=False),
    sa.Column("active_key", sa.String(96), nullable=True),  # id_hash:service:day while it stands
    sa.Column("channel", sa.String(12), nullable=False),  # phone / kiosk / counter
    sa.Column("ticket_id", sa.String(32), nullable=True),
    sa.Column("request_key", sa.String(128), nullable=True),  # the Idempotency-Key it was booked with
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.UniqueConstraint("hall", "code", name="uq_appointments_code"),
    sa.UniqueConstraint("hall", "active_key", name="uq_appointments_one_per_day"),
    sa.UniqueConstraint("hall", "request_key", name="uq_appointments_request"),
    sa.Index("ix_appointments_person", "hall", "id_hash", "start"),
    sa.Index("ix_appointments_day", "hall", "day"),
)
