"""Tables of the operational database. Every change here needs a migration in ``migrations/``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "Campaign",
    "CampaignSend",
    "Comment",
    "CustomerAttribute",
    "Engagement",
    "Job",
    "Journey",
    "JourneyCursor",
    "JourneyEntry",
    "JourneyState",
    "JourneyStep",
    "Plan",
    "PlanVersion",
    "Suppression",
    "TrackedEvent",
    "User",
    "WebSession",
    "WorkspaceMeta",
]

# A 64-bit key on PostgreSQL; SQLite's INTEGER PRIMARY KEY is already 64-bit (and its rowid).
_BigId = BigInteger().with_variant(Integer(), "sqlite")


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every operational table."""


class WorkspaceMeta(Base):
    """Facts about the workspace (schema version of the analytics file, creation time, ...)."""

    __tablename__ = "workspace_meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Job(Base):
    """Long work (imports, model fits, sends) with its progress and outcome."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(50), index=True)
    status: Mapped[str] = mapped_column(String(20), default="running")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    target: Mapped[str] = mapped_column(String(200), default="")  # e.g. the campaign's name
    actor: Mapped[str] = mapped_column(String(100), default="")  # who started it
    args: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the process doing it

    __table_args__ = (Index("ix_jobs_target", "kind", "target"),)


class Plan(Base):
    """A marketing plan by name; its content lives in immutable :class:`PlanVersion` rows."""

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("name", name="uq_plans_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class PlanVersion(Base):
    """One saved version of a plan: the whole document (JSON), never updated after insert.

    ``version`` counts from 1 per plan; ``content_hash`` is the SHA-256 of the document's
    canonical JSON (sorted keys, no spaces), so an unchanged document is not saved twice.
    """

    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "version", name="uq_plan_versions_plan_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE", name="fk_plan_versions_plan_id"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    author: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class Suppression(Base):
    """An address that must not be contacted on a channel, and why.

    ``address`` is normalised (stripped, lower-cased); ``reason`` is one of ``unsubscribe``,
    ``hard_bounce``, ``complaint`` or ``manual``. One row per channel and address.
    """

    __tablename__ = "suppressions"
    __table_args__ = (
        UniqueConstraint("channel", "address", name="uq_suppressions_channel_address"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(50))
    address: Mapped[str] = mapped_column(String(320))
    customer_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    reason: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Campaign(Base):
    """A campaign: channel, lifecycle state, audience filter, the plan it serves, and its
    settings (variants with their templates, holdout, send window, sender, UTM, budget)."""

    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("name", name="uq_campaigns_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(50))
    state: Mapped[str] = mapped_column(String(20), default="draft")
    plan_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_versions.id", name="fk_campaigns_plan_version_id"), nullable=True
    )
    goal: Mapped[str | None] = mapped_column(String(200), nullable=True)
    persona: Mapped[str | None] = mapped_column(String(200), nullable=True)
    audience: Mapped[str] = mapped_column(Text)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    seed: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CampaignSend(Base):
    """The send ledger: one row per recipient of a campaign, with its arm (variant or holdout),
    its deterministic Message-ID and where its message is (pending → sending → sent, or
    held_out, bounced, deferred, failed, unknown).

    ``journey_step_id`` is 0 for a campaign's own sends. A journey's send step writes one row
    per run of the step (the ``journey_steps`` row that queued it), so a customer who enters a
    journey again, or goes round a loop, gets the step's message again as a new row with a new
    Message-ID, while one run can never queue it twice.
    """

    __tablename__ = "campaign_sends"
    __table_args__ = (
        UniqueConstraint(
            "campaign_id", "customer_id", "journey_step_id", name="uq_campaign_sends_recipient"
        ),
        UniqueConstraint("message_id", name="uq_campaign_sends_message_id"),
        Index("ix_campaign_sends_status", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE", name="fk_campaign_sends_campaign_id")
    )
    customer_id: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(320))
    arm: Mapped[str] = mapped_column(String(100))
    message_id: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    send_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    journey_step_id: Mapped[int] = mapped_column(_BigId, default=0, server_default="0")


class ApiKey(Base):
    """An API key: only its SHA-256 is stored, with a short public prefix to find it by.

    ``scopes`` is a space-separated subset of ``ingest``, ``read`` and ``admin`` (``admin``
    implies the others); ``rate_limit`` is requests per second for this key (0: the server's
    default); a revoked key keeps its row (``revoked_at``) so that logs stay explainable.
    """

    __tablename__ = "api_keys"
    __table_args__ = (UniqueConstraint("prefix", name="uq_api_keys_prefix"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(100))
    rate_limit: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class TrackedEvent(Base):
    """A Segment-style call (identify, track, page, screen, group, alias) as received, before
    it is compacted into the analytics database's ``events`` table.

    ``message_id`` is unique: a retried call is stored once. ``timestamp`` is corrected for the
    sender's clock skew (``received_at − (sent_at − original_timestamp)``);
    ``original_timestamp`` keeps what the sender said. ``properties``, ``traits`` and
    ``context`` hold JSON text. ``compacted`` is set once the row is in the analytics database;
    compacted rows are deleted after the de-duplication window.
    """

    __tablename__ = "tracked_events"
    __table_args__ = (
        UniqueConstraint("message_id", name="uq_tracked_events_message_id"),
        Index("ix_tracked_events_compacted", "compacted", "id"),
    )

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    anonymous_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    event: Mapped[str | None] = mapped_column(String(200), nullable=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    properties: Mapped[str | None] = mapped_column(Text, nullable=True)
    traits: Mapped[str | None] = mapped_column(Text, nullable=True)
    context: Mapped[str | None] = mapped_column(Text, nullable=True)
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    original_timestamp: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    compacted: Mapped[bool] = mapped_column(Boolean, default=False)


class Engagement(Base):
    """What a recipient did with a campaign's message: ``open``, ``click``, ``unsubscribe`` or
    ``conversion``, with the campaign, variant (arm) and recipient from the signed token.

    ``machine`` is true when a rule flagged the request as a machine (privacy prefetch,
    security scanner, link pre-fetcher); ``rule`` names the rule. Machine rows are kept (for
    deliverability) but are not counted as human engagement. ``ip`` and ``user_agent`` are
    stored as configured (kept, hashed or dropped). ``revenue`` and ``event_message_id`` belong
    to conversions.
    """

    __tablename__ = "engagements"
    __table_args__ = (
        Index("ix_engagements_campaign", "campaign_id", "kind"),
        Index("ix_engagements_customer", "customer_id", "ts"),
    )

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    campaign_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    variant: Mapped[str | None] = mapped_column(String(100), nullable=True)
    customer_id: Mapped[str] = mapped_column(String(200))
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    machine: Mapped[bool] = mapped_column(Boolean, default=False)
    rule: Mapped[str | None] = mapped_column(String(50), nullable=True)
    ip: Mapped[str | None] = mapped_column(String(100), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(Text, nullable=True)
    revenue: Mapped[float | None] = mapped_column(Float, nullable=True)
    event_message_id: Mapped[str | None] = mapped_column(String(200), nullable=True)


_ACTIVE = text("state = 'active'")


class Journey(Base):
    """A triggered journey: its validated definition (JSON), the YAML it came from, whether it
    runs (``active``) or not (``paused``), and the campaign row of each send step (``campaigns``:
    step id → campaign id; those campaigns have the state ``journey``).

    ``checked_at``, ``fingerprint`` and ``rounds`` belong to a state trigger: when the analytics
    tables were last evaluated, what they looked like then, and how many evaluations there were.
    """

    __tablename__ = "journeys"
    __table_args__ = (UniqueConstraint("name", name="uq_journeys_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), default="active")
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(Text, default="")
    seed: Mapped[str] = mapped_column(String(64))
    campaigns: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    fingerprint: Mapped[str | None] = mapped_column(String(200), nullable=True)
    rounds: Mapped[int] = mapped_column(Integer, default=0)


class JourneyEntry(Base):
    """One customer's pass through a journey, and the durable schedule of its next step.

    An ``active`` entry is at ``step``, due at ``due_at`` (the worker claims due entries);
    ``exited`` (an exit condition), ``completed`` (an exit step) and ``failed`` entries have no
    due time. ``seq`` counts the steps run. A customer has at most one active entry per journey
    (a partial unique index), and one trigger (``trigger_key``: the event, e-mail engagement or
    state evaluation) admits them once. The marks are the highest ``tracked_events`` and
    ``engagements`` ids when the customer entered and when the current step began: "since
    entry" and "while waiting" mean "with a higher id".
    """

    __tablename__ = "journey_entries"
    __table_args__ = (
        UniqueConstraint(
            "journey_id", "customer_id", "trigger_key", name="uq_journey_entries_trigger"
        ),
        Index(
            "uq_journey_entries_active", "journey_id", "customer_id", unique=True,
            sqlite_where=_ACTIVE, postgresql_where=_ACTIVE,
        ),
        Index(
            "ix_journey_entries_due", "due_at", "id", sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        ),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    journey_id: Mapped[int] = mapped_column(
        ForeignKey("journeys.id", ondelete="CASCADE", name="fk_journey_entries_journey_id")
    )
    customer_id: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default="active")
    step: Mapped[str] = mapped_column(String(100))
    seq: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    woken_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    trigger_key: Mapped[str] = mapped_column(String(100))
    event_mark: Mapped[int] = mapped_column(BigInteger, default=0)
    email_mark: Mapped[int] = mapped_column(BigInteger, default=0)
    step_event_mark: Mapped[int] = mapped_column(BigInteger, default=0)
    step_email_mark: Mapped[int] = mapped_column(BigInteger, default=0)
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    exited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    exit_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class JourneyStep(Base):
    """A step that ran: which entry, its number in the entry (``seq``, unique per entry, so a
    step can never be recorded twice), the step, its kind, its outcome and when (the worker's
    clock). Written in the transaction that made the step's effect and moved the entry on."""

    __tablename__ = "journey_steps"
    __table_args__ = (
        UniqueConstraint("entry_id", "seq", name="uq_journey_steps_entry_seq"),
        Index("ix_journey_steps_journey", "journey_id", "step"),
    )

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("journey_entries.id", ondelete="CASCADE", name="fk_journey_steps_entry_id"),
    )
    journey_id: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[str] = mapped_column(String(200))
    seq: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class JourneyState(Base):
    """What a state trigger saw of a customer at its last evaluation (``"1"`` for a filter the
    customer matched, else the field's value or tier); a change admits the customer."""

    __tablename__ = "journey_states"

    journey_id: Mapped[int] = mapped_column(
        ForeignKey("journeys.id", ondelete="CASCADE", name="fk_journey_states_journey_id"),
        primary_key=True,
    )
    customer_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class JourneyCursor(Base):
    """How far the worker has read an append-only table (``tracked_events``, ``engagements``)."""

    __tablename__ = "journey_cursors"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class CustomerAttribute(Base):
    """A customer attribute set by a journey's ``update`` step (JSON value), by name."""

    __tablename__ = "customer_attributes"

    customer_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    source: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class User(Base):
    """A person on the team: a role (``product``, ``sales``, ``marketing`` or ``admin``) and an
    Argon2id password hash (never the password). A disabled user keeps its row for the audit log.
    """

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("username", name="uq_users_username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WebSession(Base):
    """A signed-in browser: only the SHA-256 of the session token is stored."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE", name="fk_web_sessions_user_id"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Comment(Base):
    """A comment on an item of the plan (``item`` is its key, e.g. ``goal:active``)."""

    __tablename__ = "plan_comments"
    __table_args__ = (Index("ix_plan_comments_item", "plan_name", "item"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    plan_name: Mapped[str] = mapped_column(String(200))
    item: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", name="fk_plan_comments_user_id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class AuditEntry(Base):
    """Who changed what, when: one row per change made through the dashboard or the CLI."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
