"""Journeys: definitions, entries (the durable schedule), the steps run, state-trigger snapshots,
read cursors, customer attributes; the send ledger keyed by journey step run too.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_ACTIVE = sa.text("state = 'active'")


def upgrade() -> None:
    # A campaign's own sends keep journey_step_id 0, so (campaign, customer) stays unique for
    # them; a journey's send step adds one row per run of the step.
    with op.batch_alter_table("campaign_sends") as batch:
        batch.add_column(sa.Column("journey_step_id", _BigId, nullable=False, server_default="0"))
        batch.drop_constraint("uq_campaign_sends_recipient", type_="unique")
        batch.create_unique_constraint(
            "uq_campaign_sends_recipient", ["campaign_id", "customer_id", "journey_step_id"]
        )
    op.create_table(
        "journeys",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("seed", sa.String(64), nullable=False),
        sa.Column("campaigns", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fingerprint", sa.String(200), nullable=True),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.UniqueConstraint("name", name="uq_journeys_name"),
    )
    op.create_table(
        "journey_entries",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("journey_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("step", sa.String(100), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("woken_by", sa.String(100), nullable=True),
        sa.Column("trigger_key", sa.String(100), nullable=False),
        sa.Column("event_mark", sa.BigInteger(), nullable=False),
        sa.Column("email_mark", sa.BigInteger(), nullable=False),
        sa.Column("step_event_mark", sa.BigInteger(), nullable=False),
        sa.Column("step_email_mark", sa.BigInteger(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("exited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exit_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["journey_id"], ["journeys.id"], name="fk_journey_entries_journey_id",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "journey_id", "customer_id", "trigger_key", name="uq_journey_entries_trigger"
        ),
    )  # fmt: skip
    # Never twice at once: one active entry per journey and customer.
    op.create_index(
        "uq_journey_entries_active", "journey_entries", ["journey_id", "customer_id"],
        unique=True, sqlite_where=_ACTIVE, postgresql_where=_ACTIVE,
    )  # fmt: skip
    op.create_index(
        "ix_journey_entries_due", "journey_entries", ["due_at", "id"],  # claimed in this order
        sqlite_where=_ACTIVE, postgresql_where=_ACTIVE,
    )  # fmt: skip
    if op.get_bind().dialect.name == "postgresql":
        # A queue: every step run rewrites its entry. Vacuum and analyze it often, so that dead
        # versions leave the due index and the claim's plan keeps using it.
        op.execute(
            "ALTER TABLE journey_entries SET (autovacuum_vacuum_scale_factor = 0.02, "
            "autovacuum_analyze_scale_factor = 0.02)"
        )
    op.create_table(
        "journey_steps",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("journey_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journey_entries.id"], name="fk_journey_steps_entry_id",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("entry_id", "seq", name="uq_journey_steps_entry_seq"),
    )  # fmt: skip
    op.create_index("ix_journey_steps_journey", "journey_steps", ["journey_id", "step"])
    op.create_table(
        "journey_states",
        sa.Column("journey_id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.String(200), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["journey_id"], ["journeys.id"], name="fk_journey_states_journey_id",
            ondelete="CASCADE",
        ),
    )  # fmt: skip
    op.create_table(
        "journey_cursors",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "customer_attributes",
        sa.Column("customer_id", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("customer_attributes")
    op.drop_table("journey_cursors")
    op.drop_table("journey_states")
    op.drop_index("ix_journey_steps_journey", table_name="journey_steps")
    op.drop_table("journey_steps")
    op.drop_index("ix_journey_entries_due", table_name="journey_entries")
    op.drop_index("uq_journey_entries_active", table_name="journey_entries")
    op.drop_table("journey_entries")
    op.drop_table("journeys")
    # Journey sends (journey_step_id > 0) would break the old key; they go with the journeys.
    op.execute("DELETE FROM campaign_sends WHERE journey_step_id <> 0")
    op.execute("DELETE FROM campaigns WHERE state = 'journey'")
    with op.batch_alter_table("campaign_sends") as batch:
        batch.drop_constraint("uq_campaign_sends_recipient", type_="unique")
        batch.create_unique_constraint(
            "uq_campaign_sends_recipient", ["campaign_id", "customer_id"]
        )
        batch.drop_column("journey_step_id")
