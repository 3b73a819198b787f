"""Create, send, pause and resume campaigns: the thin layer between the ledger, the audience,
the composer and a channel. The CLI calls these functions and nothing else."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import select

from streamwise.downstream.audiences import Audience
from streamwise.downstream.audiences.suppression import suppress
from streamwise.downstream.campaigns.enrolment import CONTEXT_FIELDS, enrol_audience, enrol_posts
from streamwise.downstream.campaigns.lease import sender_lease
from streamwise.downstream.campaigns.ledger import (
    Outcome,
    campaign_by_name,
    claim,
    counts,
    move,
    record,
    recover,
    release,
)
from streamwise.downstream.campaigns.lifecycle import check_transition
from streamwise.downstream.campaigns.parallel import Composition as _Composition
from streamwise.downstream.campaigns.settings import CampaignSettings
from streamwise.downstream.channels import Channel, channel_from_config, channel_names
from streamwise.errors import ConfigError
from streamwise.store.db import session_factory
from streamwise.store.models import Campaign, CampaignSend

__all__ = [
    "CONTEXT_FIELDS",
    "WEBHOOK_SECRET_ENV",
    "SendReport",
    "campaign_channel",
    "content_calendar",
    "create_campaign",
    "deliver_chunks",
    "pause",
    "run_due",
    "run_send",
    "schedule",
    "status",
]

#: Where a webhook campaign's HMAC secret comes from, unless its channel names another variable
#: in ``secret_env`` (secrets never go into the campaign's settings, which the database keeps).
WEBHOOK_SECRET_ENV = "STREAMWISE_WEBHOOK_SECRET"  # noqa: S105 (a variable's name, not a secret)


@dataclass(frozen=True)
class SendReport:
    """Where a send run left the campaign."""

    campaign: str
    state: str
    counts: dict[str, int]
    enrolled_now: int = 0
    recovered: int = 0
    removed: dict[str, int] = field(default_factory=dict)
    note: str = ""
    segments: int = 0  # SMS segments (billed messages) sent in this run; 0 for other channels


def create_campaign(
    workspace: Any,
    name: str,
    *,
    audience: str,
    settings: CampaignSettings | dict[str, Any],
    channel: str = "email",
    persona: str | None = None,
    goal: str | None = None,
    plan_version_id: int | None = None,
    seed: str | None = None,
) -> int:
    """Save a draft campaign (the audience filter is checked now, resolved when sending; a
    content campaign — settings with ``posts`` — has no audience).

    ``seed`` draws the variant and holdout arms (:mod:`.assignment`); by default a fresh random
    one (128 bits), so no two campaigns share their arms. Give one only to reproduce an
    assignment, as the demo does."""
    try:
        s = settings if isinstance(settings, CampaignSettings) else CampaignSettings(**settings)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"campaign {name!r} settings: {problems}") from None
    _check_channel(name, channel, s)
    if not s.posts or audience.strip():
        Audience(name=name, filter=audience)  # refuses a bad filter with its position
    with session_factory(workspace.operational())() as session, session.begin():
        if session.scalar(select(Campaign.id).where(Campaign.name == name)) is not None:
            raise ConfigError(f"a campaign named {name!r} exists already; choose another name")
        c = Campaign(name=name, channel=channel, state="draft", audience=audience,
                     settings=s.model_dump(mode="json"), seed=seed or secrets.token_hex(16),
                     persona=persona, goal=goal, plan_version_id=plan_version_id)  # fmt: skip
        session.add(c)
        session.flush()
        return int(c.id)


def _check_channel(name: str, channel: str, s: CampaignSettings) -> None:
    """Refuse settings that do not fit the channel (before anything is stored)."""
    if channel not in channel_names():
        known = ", ".join(channel_names())
        raise ConfigError(f"campaign {name!r}: unknown channel {channel!r}; use one of {known}")
    if channel == "webhook":
        if s.text_message is None:
            raise ConfigError(
                f"campaign {name!r}: a webhook campaign needs settings.text_message with "
                "address_field (e.g. phone) and consent_field (a true/false customers column "
                "recording consent to this channel); consent is never assumed"
            )
        if "secret" in s.channel:
            raise ConfigError(
                f"campaign {name!r}: take `secret` out of the channel settings (they are stored "
                f"in the database); set it in the environment variable {WEBHOOK_SECRET_ENV}, "
                "or name another variable in channel.secret_env"
            )
        if "url" not in s.channel:
            raise ConfigError(f"campaign {name!r}: the webhook channel needs a `url` to POST to")
    elif s.text_message is not None:
        raise ConfigError(
            f"campaign {name!r}: text_message settings need channel webhook, not {channel!r}"
        )


def _campaign(workspace: Any, name: str) -> tuple[Campaign, CampaignSettings]:
    with session_factory(workspace.operational())() as session:
        c = campaign_by_name(session, name)
        session.expunge(c)
    return c, CampaignSettings(**c.settings)


def _channel(workspace: Any, c: Campaign, s: CampaignSettings) -> Channel:
    config = {"type": c.channel, **s.channel}
    if c.channel == "social" and "path" not in config:
        config["path"] = str(workspace.root / "outbox" / "social.jsonl")
    password = os.environ.get("STREAMWISE_SMTP_PASSWORD")
    if c.channel == "email" and password and config.get("username"):
        config["password"] = password  # secrets come from the environment, never the database
    if c.channel == "webhook":
        variable = str(config.pop("secret_env", WEBHOOK_SECRET_ENV))
        secret = os.environ.get(variable)
        if not secret:
            raise ConfigError(
                f"campaign {c.name!r} posts signed webhooks; set the shared secret (16 characters "
                f"or more, the receiver verifies it) in the environment variable {variable}"
            )
        config["secret"] = secret
    return channel_from_config(config)


def campaign_channel(workspace: Any, c: Campaign, s: CampaignSettings) -> Channel:
    """The channel ``c`` sends on, built from its settings with its secrets (SMTP password,
    webhook secret) from the environment; the journey worker sends its steps through this too.

    Raises
    ------
    ConfigError
        When a webhook's secret is missing from the environment, or a setting is wrong.
    """
    return _channel(workspace, c, s)


def deliver_chunks(
    engine: Any, c: Campaign, ch: Channel, rows: list[CampaignSend], messages: list, chunk: int,
    policy: str = "resend",
) -> int:  # fmt: skip
    """Push ``messages`` (composed from the claimed ledger ``rows``) in chunks of ``chunk`` and
    record each chunk as soon as the channel reports it (see :func:`run_send`); hard bounces are
    suppressed. Returns the SMS segments sent."""
    return _deliver(engine, c, ch, rows, messages, chunk, policy)


def run_send(
    workspace: Any,
    name: str,
    *,
    channel: Channel | None = None,
    policy: Literal["resend", "skip"] = "resend",
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    on_progress: Callable[[dict[str, int]], None] | None = None,
    workers: int | None = None,
) -> SendReport:
    """Send (or go on sending) a campaign until it is done, paused or waiting for windows.

    ``workers`` processes render and sign messages (default: one per core for batches of 200
    or more, none for small ones); the main process delivers and keeps the ledger.

    A campaign found in ``sending`` was interrupted: the rows a crash left in flight are settled
    by ``policy`` (see :mod:`~streamwise.downstream.campaigns.ledger`) before going on.
    """
    engine = workspace.operational()
    c, s = _campaign(workspace, name)
    with sender_lease(workspace.root, int(c.id), engine=engine) as lease, ExitStack() as stack:
        if c.state == "scheduled" and c.scheduled_at is not None:
            at = c.scheduled_at if c.scheduled_at.tzinfo else c.scheduled_at.replace(tzinfo=UTC)
            if at > now():
                raise ConfigError(
                    f"campaign {name!r} is scheduled for {at:%Y-%m-%d %H:%M} UTC; "
                    "`streamwise campaign run-due` sends it then (or unschedule it)"
                )
        if c.state == "paused":
            raise ConfigError(
                f"campaign {name!r} is paused; resume it with `streamwise campaign resume`"
            )
        if c.state != "sending":
            check_transition(c.state, "sending")  # type: ignore[arg-type]
        own = channel is None
        ch = channel or _channel(workspace, c, s)  # before anything moves (a missing secret)
        if own:
            stack.callback(ch.close)
        recovered = recover(engine, int(c.id), policy=policy) if c.state == "sending" else 0
        enrolled, removed = 0, {}
        if not counts(engine, int(c.id)):  # enrol first: a refused audience leaves it a draft
            if s.posts:
                enrolled = enrol_posts(workspace, c, s)
            else:
                enrolled, removed = enrol_audience(workspace, c, s, now())
        if c.state != "sending":
            move(engine, int(c.id), "sending")
        secret = workspace.settings.secret_key.get_secret_value()
        note = ""
        chunk = max(1, int(getattr(ch, "pool_size", 1)))
        cid = int(c.id)
        compose = _Composition(cid, c.name, s, secret, workers)
        stack.callback(compose.close)

        def running() -> bool:
            with session_factory(engine)() as session:
                return session.scalar(select(Campaign.state).where(Campaign.id == cid)) == "sending"

        budget_left = [True]

        def allowed(in_flight: int) -> int:
            """How many more messages the budget allows (counting those claimed, not recorded)."""
            if s.budget is None or s.cost_per_message <= 0:
                return s.batch_size
            most = int(s.budget / s.cost_per_message + 1e-9)  # 2.5 / 0.1 is 24.999...
            left = most - counts(engine, cid).get("sent", 0) - in_flight
            if left <= 0:
                budget_left[0] = False
            return max(0, min(s.batch_size, left))

        def next_batch(in_flight: int = 0) -> tuple[list[CampaignSend], Any]:
            lease.verify()  # still ours (a PostgreSQL lock dies with its connection)
            if not running():
                return [], None  # paused or cancelled from elsewhere: stop between batches
            limit = allowed(in_flight)
            rows = claim(engine, cid, limit, now=now()) if limit else []
            return rows, (compose.submit(rows) if rows else None)

        segments = 0
        # While one batch is sent, the next is rendered and signed (in worker processes).
        rows, job = next_batch()
        while rows:
            following, following_job = next_batch(len(rows))
            messages, failed = compose.result(job)
            record(engine, failed, ambiguous=policy)  # rows that could not be rendered
            segments += _deliver(engine, c, ch, rows, messages, chunk, policy)
            if on_progress is not None:
                on_progress(counts(engine, cid))
            rows, job = following, following_job
            if rows and not running():
                release(engine, [r.id for r in rows])  # claimed ahead, never sent
                break
        if running() and not counts(engine, cid).get("pending"):
            move(engine, cid, "done")  # else the rest waits for its send window
        elif running() and not budget_left[0]:
            move(engine, cid, "paused")
            note = f"paused: the budget of {s.budget:,.2f} is spent"
    with session_factory(engine)() as session:
        final = session.scalar(select(Campaign.state).where(Campaign.id == c.id)) or ""
    return SendReport(c.name, final, counts(engine, int(c.id)), enrolled, recovered, removed, note,
                      segments)  # fmt: skip


def _deliver(
    engine: Any,
    c: Campaign,
    ch: Channel,
    rows: list[CampaignSend],
    messages: list,
    chunk: int,
    policy: str,
) -> int:
    """Push in chunks the size of the connection pool and record each chunk at once: a crash
    can then leave at most one chunk sent but not recorded. Hard bounces (and numbers a gateway
    calls invalid) are suppressed. Returns the SMS segments of the messages sent."""
    by_id = {r.message_id: r for r in rows}
    segments = 0
    for i in range(0, len(messages), chunk):
        done = []
        part = messages[i : i + chunk]
        for msg, res in zip(part, ch.push(part), strict=True):
            status = "ambiguous" if getattr(res, "ambiguous", False) else res.status
            done.append(Outcome(res.message_id, status, res.detail))
            if status == "sent" and isinstance(msg.payload, dict):
                segments += int(msg.payload.get("segments", 0)) if c.channel == "webhook" else 0
        record(engine, done, ambiguous=policy)  # type: ignore[arg-type]
        for o in done:
            if o.status == "bounced":  # the address does not exist: never again
                r = by_id[o.message_id]
                suppress(engine, c.channel, r.address, "hard_bounce",
                         customer_id=r.customer_id, source=f"campaign {c.name}")  # fmt: skip
    return segments


def schedule(workspace: Any, name: str, at: datetime) -> None:
    """Schedule a draft campaign for ``at`` (aware, or taken as UTC); stored in UTC, because
    SQLite keeps a timestamp's wall clock and drops its offset."""
    at = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)
    c, _ = _campaign(workspace, name)
    move(workspace.operational(), int(c.id), "scheduled")
    with session_factory(workspace.operational())() as session, session.begin():
        row = session.get(Campaign, int(c.id))
        assert row is not None
        row.scheduled_at = at


def run_due(
    workspace: Any, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> list[SendReport]:
    """Send every scheduled campaign whose time has come, and go on with sending campaigns whose
    recipients' send windows have opened (run it from cron or a timer)."""
    t = now()
    with session_factory(workspace.operational())() as session:
        rows = session.execute(
            select(Campaign.name, Campaign.state, Campaign.scheduled_at).order_by(Campaign.id)
        ).all()
    due = []
    for name, state, at in rows:
        at = at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at
        if (state == "scheduled" and (at is None or at <= t)) or state == "sending":
            due.append(name)
    return [run_send(workspace, name, now=now) for name in due]


def content_calendar(workspace: Any, name: str | None = None) -> bytes:
    """The social outbox's posts (of one campaign, or all) as an iCalendar file."""
    from streamwise.downstream.channels.social import SocialOutbox, to_icalendar

    outbox = SocialOutbox(workspace.root / "outbox" / "social.jsonl")
    try:
        posts = [p for p in outbox.scheduled_posts() if name is None or p.campaign == name]
    finally:
        outbox.close()
    title = f"{name} – content calendar" if name else "Content calendar"
    return to_icalendar(posts, name=title)


def pause(workspace: Any, name: str) -> None:
    """Ask a sending campaign to stop after its current batch."""
    c, _ = _campaign(workspace, name)
    move(workspace.operational(), int(c.id), "paused")


def status(workspace: Any, name: str) -> SendReport:
    """The campaign's state and its ledger counts."""
    c, _ = _campaign(workspace, name)
    return SendReport(c.name, c.state, counts(workspace.operational(), int(c.id)))
