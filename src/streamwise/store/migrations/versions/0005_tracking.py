"""Tracking: API keys, received events (before compaction) and e-mail engagement.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(100), nullable=False),
        sa.Column("rate_limit", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"),
    )
    op.create_table(
        "tracked_events",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=True),
        sa.Column("anonymous_id", sa.String(200), nullable=True),
        sa.Column("event", sa.String(200), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("properties", sa.Text(), nullable=True),
        sa.Column("traits", sa.Text(), nullable=True),
        sa.Column("context", sa.Text(), nullable=True),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("original_timestamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("compacted", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("message_id", name="uq_tracked_events_message_id"),
    )
    op.create_index("ix_tracked_events_compacted", "tracked_events", ["compacted", "id"])
    op.create_index("ix_tracked_events_user_id", "tracked_events", ["user_id"])
    op.create_table(
        "engagements",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("variant", sa.String(100), nullable=True),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("machine", sa.Boolean(), nullable=False),
        sa.Column("rule", sa.String(50), nullable=True),
        sa.Column("ip", sa.String(100), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("revenue", sa.Float(), nullable=True),
        sa.Column("event_message_id", sa.String(200), nullable=True),
    )
    op.create_index("ix_engagements_campaign", "engagements", ["campaign_id", "kind"])
    op.create_index("ix_engagements_customer", "engagements", ["customer_id", "ts"])


def downgrade() -> None:
    op.drop_index("ix_engagements_customer", table_name="engagements")
    op.drop_index("ix_engagements_campaign", table_name="engagements")
    op.drop_table("engagements")
    op.drop_index("ix_tracked_events_user_id", table_name="tracked_events")
    op.drop_index("ix_tracked_events_compacted", table_name="tracked_events")
    op.drop_table("tracked_events")
    op.drop_table("api_keys")
