"""statistics: time waited per hour (queue length over the day); indexes for the cases' numbers

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CASE_INDEXES = {
    "ix_cases_hall_received": "received_at",
    "ix_cases_hall_accepted": "accepted_at",
    "ix_cases_hall_decided": "decided_at",
}


def upgrade() -> None:
    for table in ("stats_hourly", "stats_daily"):
        op.add_column(table, sa.Column("queue_s", sa.BigInteger, nullable=False, server_default="0"))
    for name, column in CASE_INDEXES.items():
        op.create_index(name, "cases", ["hall", column])


def downgrade() -> None:
    for name in CASE_INDEXES:
        op.drop_index(name, "cases")
    for table in ("stats_hourly", "stats_daily"):
        op.drop_column(table, "queue_s")
