"""one-window cases: cases, their materials, uploaded files and history

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("receipt_no", sa.String(24), nullable=True),
        sa.Column("item", sa.String(48), nullable=False),
        sa.Column("service", sa.String(4), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("device", sa.String(48), nullable=True),
        sa.Column("id_hash", sa.String(64), nullable=True),
        sa.Column("masked_name", sa.String(32), nullable=False, server_default=""),
        sa.Column("masked_id", sa.String(24), nullable=False, server_default=""),
        sa.Column("phone", sa.String(20), nullable=False, server_default=""),
        sa.Column("access_sha256", sa.String(64), nullable=False),
        sa.Column("locker_slot", sa.String(8), nullable=True),
        sa.Column("delivery", sa.String(8), nullable=True),
        sa.Column("tracking_no", sa.String(40), nullable=True),
        sa.Column("correction", sa.JSON, nullable=True),
        sa.Column("decision_note", sa.String(500), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("received_at", TS, nullable=True),
        sa.Column("accepted_at", TS, nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("output_at", TS, nullable=True),
        sa.Column("delivered_at", TS, nullable=True),
        sa.Column("archived_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("hall", "receipt_no", name="uq_cases_receipt"),
    )
    op.create_index("ix_cases_hall_status", "cases", ["hall", "status"])
    op.create_table(
        "case_materials",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("case_id", sa.String(32), primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("form", sa.String(8), nullable=False),
        sa.Column("copies", sa.Integer, nullable=False),
        sa.Column("deferrable", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("signature_sha256", sa.String(64), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "case_files",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("case_id", sa.String(32), primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("mime", sa.String(32), nullable=False),
        sa.Column("uploaded_at", TS, nullable=False),
    )
    op.create_table(
        "case_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("hall", sa.String(32), nullable=False),
        sa.Column("case_id", sa.String(32), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("note", sa.String(500), nullable=False, server_default=""),
    )
    op.create_index("ix_case_history_case", "case_history", ["hall", "case_id"])


def downgrade() -> None:
    op.drop_index("ix_case_history_case", "case_history")
    op.drop_table("case_history")
    op.drop_table("case_files")
    op.drop_table("case_materials")
    op.drop_index("ix_cases_hall_status", "cases")
    op.drop_table("cases")
