"""the hub's register of halls (DESIGN §14): kind, parent, uplink token's sha256, acked_seq

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "hub_halls",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("parent", sa.String(32), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("acked_seq", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("last_event_at", TS, nullable=True),
        sa.Column("last_contact_at", TS, nullable=True),
        sa.Column("profile", sa.JSON, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("token_sha256"),
    )


def downgrade() -> None:
    op.drop_table("hub_halls")
