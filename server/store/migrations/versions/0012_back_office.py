"""The back office of the one-window reform: hand-over sheets, 一件事 bundles, 网上预审, 代办, the cases' new columns

Revision ID: 0012_back_office
Revises: 0011_credential_generation
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_back_office"
down_revision = "0011_credential_generation"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
CASE_COLUMNS = (
    ("received_window", sa.String(16)),
    ("handed_over_at", TS),
    ("decision", sa.String(8)),
    ("result_sent_at", TS),
    ("result_refused_at", TS),
    ("receipt_returned_at", TS),
    ("bundle_id", sa.String(32)),
    ("prereview_at", TS),
    ("prereviewed_at", TS),
    ("agency", sa.JSON),
)


def upgrade() -> None:
    for name, kind in CASE_COLUMNS:
        op.add_column("cases", sa.Column(name, kind, nullable=True))
    op.add_column("cases", sa.Column("prereview_rounds", sa.Integer, nullable=False, server_default="0"))
    op.create_index("ix_cases_bundle", "cases", ["hall", "bundle_id"])
    op.create_table(
        "case_bundles",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("receipt_no", sa.String(24), nullable=False),
        sa.Column("access_sha256", sa.String(64), nullable=False),
        sa.Column("masked_name", sa.String(32), nullable=False),
        sa.Column("form", sa.JSON, nullable=False),
        sa.Column("received_window", sa.String(16), nullable=True),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("hall", "receipt_no", name="uq_case_bundles_receipt"),
    )
    op.create_table(
        "case_handovers",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("department", sa.String(24), nullable=False),
        sa.Column("window", sa.String(16), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("signed_at", TS, nullable=True),
        sa.Column("signed_by", sa.String(64), nullable=True),
    )
    op.create_index("ix_case_handovers_open", "case_handovers", ["hall", "kind", "department", "signed_at"])
    op.create_table(
        "case_handover_items",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("handover_id", sa.String(24), primary_key=True),
        sa.Column("case_id", sa.String(32), primary_key=True),
        sa.Column("due_at", TS, nullable=True),
        sa.Column("materials", sa.JSON, nullable=False),
    )
    op.create_index("ix_case_handover_items_case", "case_handover_items", ["hall", "case_id"])


def downgrade() -> None:
    op.drop_index("ix_case_handover_items_case", table_name="case_handover_items")
    op.drop_table("case_handover_items")
    op.drop_index("ix_case_handovers_open", table_name="case_handovers")
    op.drop_table("case_handovers")
    op.drop_table("case_bundles")
    op.drop_index("ix_cases_bundle", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("prereview_rounds")
        for name, _ in reversed(CASE_COLUMNS):
            batch.drop_column(name)
