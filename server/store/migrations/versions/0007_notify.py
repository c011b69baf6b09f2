"""Phone queue notifier: the phones left for tickets, the events cursor and the messages' outbox

Revision ID: 0007
Revises: 0005 (0006, the appointments, is on another branch: re-chain at merge)
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notify_phones",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("ahead_sent", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "notify_cursor",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "notify_outbox",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("text", sa.String(280), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("hall", "key", name="uq_notify_outbox_key"),
    )


def downgrade() -> None:
    op.drop_table("notify_outbox")
    op.drop_table("notify_cursor")
    op.drop_table("notify_phones")
