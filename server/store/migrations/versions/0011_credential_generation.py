"""The credentials' generation: one counter every revocation moves (a token revoked, logins ended, a
password reset), so a dispatcher may keep verified tokens in memory and read this one row to know
whether any of them may have been taken away since.

Revision ID: 0010
Revises: 0008 (0009, the back office, is on another branch: re-chain at merge)
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_credential_generation"
down_revision = "0010_catalogue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "credential_generation",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("generation", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(table, [{"id": 1, "generation": 0}])


def downgrade() -> None:
    op.drop_table("credential_generation")
