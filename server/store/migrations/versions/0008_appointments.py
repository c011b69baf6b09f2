"""预约: the slots' counters and the bookings

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "appointment_slots",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("service", sa.String(4), primary_key=True),
        sa.Column("start", TS, primary_key=True),
        sa.Column("booked", sa.Integer, nullable=False),
    )
    op.create_table(
        "appointments",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("access", sa.String(32), nullable=False),
        sa.Column("service", sa.String(4), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("start", TS, nullable=False),
        sa.Column("end", TS, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("masked_phone", sa.String(16), nullable=False),
        sa.Column("active_key", sa.String(96), nullable=True),
        sa.Column("channel", sa.String(12), nullable=False),
        sa.Column("ticket_id", sa.String(32), nullable=True),
        sa.Column("request_key", sa.String(128), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("hall", "code", name="uq_appointments_code"),
        sa.UniqueConstraint("hall", "active_key", name="uq_appointments_one_per_day"),
        sa.UniqueConstraint("hall", "request_key", name="uq_appointments_request"),
    )
    op.create_index("ix_appointments_person", "appointments", ["hall", "id_hash", "start"])
    op.create_index("ix_appointments_day", "appointments", ["hall", "day"])


def downgrade() -> None:
    op.drop_table("appointments")
    op.drop_table("appointment_slots")
