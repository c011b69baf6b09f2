"""statistics: hourly and daily roll-ups, the folding cursor, the tickets the folding remembers

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
COUNTERS = (
    "issued", "called", "served", "no_show", "cancelled", "expired", "transferred", "recalled",
    "wait_sum_s", "service_count", "service_sum_s", "open_s",
    "rating_count", "rating_sum", "rating_good", "rating_bad",
    "wait_max_s", "service_max_s",
)  # fmt: skip


def _rollup(name: str, hourly: bool) -> None:
    op.create_table(
        name,
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        *([sa.Column("hour", sa.SmallInteger, primary_key=True, autoincrement=False)] if hourly else []),
        sa.Column("service", sa.String(4), primary_key=True),
        sa.Column("window", sa.String(16), primary_key=True),
        sa.Column("clerk", sa.String(32), primary_key=True),
        *(sa.Column(name, sa.BigInteger, nullable=False, server_default="0") for name in COUNTERS),
        sa.Column("wait_hist", sa.JSON, nullable=False),
        sa.Column("service_hist", sa.JSON, nullable=False),
    )


def upgrade() -> None:
    _rollup("stats_hourly", hourly=True)
    _rollup("stats_daily", hourly=False)
    op.create_table(
        "stats_cursor",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("windows", sa.JSON, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "stats_tickets",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("issued_hour", sa.SmallInteger, nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("service", sa.String(4), nullable=False, server_default=""),
        sa.Column("first_called_at", TS, nullable=True),
        sa.Column("window", sa.String(16), nullable=True),
        sa.Column("clerk", sa.String(32), nullable=True),
    )
    op.create_index("ix_stats_tickets_day", "stats_tickets", ["hall", "day"])


def downgrade() -> None:
    op.drop_index("ix_stats_tickets_day", "stats_tickets")
    op.drop_table("stats_tickets")
    op.drop_table("stats_cursor")
    op.drop_table("stats_daily")
    op.drop_table("stats_hourly")
