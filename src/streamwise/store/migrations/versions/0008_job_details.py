"""Jobs the dashboard starts: what they work on, who started them, their arguments and process.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("target", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("actor", sa.String(100), nullable=False, server_default=""))
        batch.add_column(sa.Column("args", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True))
    op.create_index("ix_jobs_target", "jobs", ["kind", "target"])


def downgrade() -> None:
    op.drop_index("ix_jobs_target", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        for column in ("pid", "args", "actor", "target"):
            batch.drop_column(column)
