"""好差评: ratings (the national record), rectification orders and their history

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ratings",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("subject", sa.String(8), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("number", sa.String(24), nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("comment", sa.String(500), nullable=False, server_default=""),
        sa.Column("channel", sa.String(12), nullable=False),
        sa.Column("pf", sa.Integer, nullable=False),
        sa.Column("window", sa.String(16), nullable=True),
        sa.Column("clerk", sa.String(32), nullable=True),
        sa.Column("service", sa.String(4), nullable=True),
        sa.Column("task_code", sa.String(48), nullable=False),
        sa.Column("task_name", sa.String(64), nullable=False),
        sa.Column("masked_phone", sa.String(16), nullable=False, server_default=""),
        sa.Column("phone_hmac", sa.String(64), nullable=True),
        sa.Column("counts", sa.Boolean, nullable=False),
        sa.Column("void_reason", sa.String(500), nullable=True),
        sa.Column("served_at", TS, nullable=False),
        sa.Column("rated_at", TS, nullable=False),
        sa.UniqueConstraint("hall", "subject", "subject_id", "round", name="uq_ratings_once"),
    )
    op.create_index("ix_ratings_hall_rated", "ratings", ["hall", "rated_at"])
    op.create_table(
        "rectifications",
        sa.Column("hall", sa.String(32), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("rating_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("window", sa.String(16), nullable=True),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("rectified_on", sa.Date, nullable=True),
        sa.Column("reopened", sa.Integer, nullable=False, server_default="0"),
        sa.Column("facts", sa.String(1000), nullable=False, server_default=""),
        sa.Column("measures", sa.String(1000), nullable=False, server_default=""),
        sa.Column("call_back", sa.String(500), nullable=False, server_default=""),
        sa.Column("satisfied", sa.Boolean, nullable=True),
        sa.Column("appeal", sa.String(500), nullable=False, server_default=""),
        sa.Column("appealed_by", sa.String(64), nullable=True),
        sa.Column("decision", sa.String(500), nullable=False, server_default=""),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("hall", "rating_id", name="uq_rectifications_rating"),
    )
    op.create_index("ix_rectifications_hall_status", "rectifications", ["hall", "status"])
    op.create_table(
        "rectification_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("hall", sa.String(32), nullable=False),
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("from_status", sa.String(12), nullable=True),
        sa.Column("to_status", sa.String(12), nullable=False),
        sa.Column("note", sa.String(1000), nullable=False, server_default=""),
    )
    op.create_index("ix_rectification_history_order", "rectification_history", ["hall", "order_id"])


def downgrade() -> None:
    op.drop_table("rectification_history")
    op.drop_table("rectifications")
    op.drop_table("ratings")
