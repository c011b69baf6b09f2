"""好差评 platform feed: the ratings' outbox, its per-hall sequence and the sinks' cursors

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rating_feed",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "rating_outbox",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("rating_id", sa.String(32), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("hall", "rating_id", "revision", name="uq_rating_outbox_revision"),
    )
    op.create_table(
        "rating_sink_cursor",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("sink", sa.String(16), primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rating_sink_cursor")
    op.drop_table("rating_outbox")
    op.drop_table("rating_feed")
