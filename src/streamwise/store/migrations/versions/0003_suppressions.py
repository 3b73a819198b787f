"""The suppression list: addresses not to contact per channel, and why.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "suppressions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(50), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=True),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("channel", "address", name="uq_suppressions_channel_address"),
    )
    op.create_index("ix_suppressions_customer_id", "suppressions", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_suppressions_customer_id", table_name="suppressions")
    op.drop_table("suppressions")
