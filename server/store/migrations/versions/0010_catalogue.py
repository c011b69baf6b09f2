"""the city's catalogue (hub_catalogue) and cases across halls (转报): the hub's store-and-forward
table, a hall's outbox, applied keys and links; cases keep the origin hall beside the receipt number

Revision ID: 0010_catalogue
Revises: 0009
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_catalogue"
down_revision = "0009"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "hub_catalogue",
        sa.Column("code", sa.String(48), primary_key=True),
        sa.Column("department", sa.String(40), nullable=False),
        sa.Column("item", sa.JSON, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "hub_transfers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("from_hall", sa.String(32), nullable=False),
        sa.Column("to_hall", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("delivered_at", TS, nullable=True),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_hub_transfers_to", "hub_transfers", ["to_hall", "delivered_at", "id"])
    op.create_table(
        "case_transfers_out",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("hall", sa.String(32), nullable=False),
        sa.Column("to_hall", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_case_transfers_out_unsent", "case_transfers_out", ["hall", "sent_at", "id"])
    op.create_table(
        "case_transfers_in",
        sa.Column("key", sa.String(160), primary_key=True),
        sa.Column("hall", sa.String(32), nullable=False),
        sa.Column("applied_at", TS, nullable=False),
    )
    op.create_table(
        "case_links",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("case_id", sa.String(32), primary_key=True),
        sa.Column("direction", sa.String(4), nullable=False),
        sa.Column("peer_hall", sa.String(32), nullable=False),
        sa.Column("peer_name", sa.String(40), nullable=False, server_default=""),
        sa.Column("remote_status", sa.String(16), nullable=True),
        sa.Column("remote_label", sa.String(40), nullable=True),
        sa.Column("remote_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )
    # A forwarded case keeps its receipt number at the deciding hall, where the same number may
    # already be one of its own: the number is unique per hall and origin ("" for its own cases).
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("origin_hall", sa.String(32), nullable=False, server_default=""))
        batch.drop_constraint("uq_cases_receipt", type_="unique")
        batch.create_unique_constraint("uq_cases_receipt", ["hall", "origin_hall", "receipt_no"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("uq_cases_receipt", type_="unique")
        batch.create_unique_constraint("uq_cases_receipt", ["hall", "receipt_no"])
        batch.drop_column("origin_hall")
    for table in ("case_links", "case_transfers_in", "case_transfers_out", "hub_transfers", "hub_catalogue"):
        op.drop_table(table)
