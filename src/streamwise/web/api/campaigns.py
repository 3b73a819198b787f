"""``/campaigns``: list, read, create, and move campaigns through their lifecycle.

Reading needs the ``read`` scope, everything else ``admin``. A campaign's state changes only as
:mod:`~streamwise.downstream.campaigns.lifecycle` allows; any other move answers 409.

Sending is not an HTTP call. ``POST /campaigns/{id}/schedule`` (with no time: now) queues a
draft and ``/resume`` puts a paused campaign back to *sending*; the sender, ``streamwise
campaign run-due`` run from cron or a systemd timer (or ``streamwise campaign send``), then
delivers it. A send runs for minutes to hours, renders messages in worker processes, needs the
SMTP password from its own environment and holds the campaign's sender lease; a web worker that
is restarted, scaled or killed for a slow request must not be the thing doing that.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from streamwise.downstream.audiences import Audience, FilterError
from streamwise.downstream.campaigns.ledger import counts, move
from streamwise.downstream.campaigns.lifecycle import TRANSITIONS, State
from streamwise.downstream.campaigns.service import create_campaign
from streamwise.downstream.campaigns.service import schedule as schedule_campaign
from streamwise.downstream.campaigns.settings import CampaignSettings
from streamwise.downstream.channels import channel_names
from streamwise.errors import ConfigError
from streamwise.store.db import session_factory
from streamwise.store.models import Campaign, PlanVersion
from streamwise.web.auth import AdminKey, ReadKey
from streamwise.web.problems import ProblemError, problem_responses

__all__ = [
    "CampaignCreate",
    "CampaignDetail",
    "CampaignId",
    "CampaignList",
    "CampaignSummary",
    "ScheduleRequest",
    "filter_problem",
    "find_campaign",
    "redact",
    "router",
]

router = APIRouter(prefix="/campaigns", tags=["campaigns"])

#: A campaign id in a path (ids are 32-bit integers in the operational database).
CampaignId = Annotated[int, PathParam(ge=1, le=2_147_483_647, description="The campaign's id.")]

_SECRET = re.compile(r"pass|secret|token|key|auth|cookie|credential", re.IGNORECASE)
REDACTED = "(redacted)"


class CampaignSummary(BaseModel):
    """A campaign without its settings."""

    id: int
    name: str
    channel: str
    state: State
    audience: str = Field(description="The audience filter (resolved when sending).")
    persona: str | None
    goal: str | None
    plan_version_id: int | None
    scheduled_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CampaignDetail(CampaignSummary):
    """A campaign with its settings (secrets redacted), its send ledger's counts and what can
    be done with it next."""

    settings: dict[str, Any] = Field(description="Variants, sender, window, ... (no secrets).")
    ledger: dict[str, int] = Field(description="Recipients per ledger status (sent, pending, …).")
    next: dict[str, State] = Field(description="Allowed moves: command → the state it leads to.")


class CampaignList(BaseModel):
    """A page of campaigns, newest first."""

    total: int
    items: list[CampaignSummary]


class CampaignCreate(BaseModel):
    """A new draft campaign (the same fields as the YAML file of ``streamwise campaign
    create``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=r"\S")
    channel: str = Field("email", min_length=1, max_length=50, description="email, webhook, …")
    audience: str = Field(
        "", max_length=10_000, description='Filter, e.g. `segment = "Weekend Campers"`.'
    )
    settings: CampaignSettings
    persona: str | None = Field(None, max_length=200)
    goal: str | None = Field(None, max_length=200)
    plan_version_id: int | None = Field(None, ge=1, description="The plan version it serves.")


class ScheduleRequest(BaseModel):
    """When to send: an ISO 8601 time (UTC when it has no zone), or nothing for now."""

    model_config = ConfigDict(extra="forbid")

    at: datetime | None = None


def redact(value: Any, *, hide: bool = False) -> Any:
    """``value`` with every secret-looking entry (password, secret, token, key, auth) and every
    header value replaced by ``"(redacted)"``."""
    if isinstance(value, dict):
        return {
            k: redact(v, hide=hide or k.lower() == "headers" or bool(_SECRET.search(k)))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v, hide=hide) for v in value]
    return REDACTED if hide and value is not None else value


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _summary(c: Campaign) -> CampaignSummary:
    return CampaignSummary(
        id=c.id, name=c.name, channel=c.channel, state=c.state,  # type: ignore[arg-type]
        audience=c.audience, persona=c.persona, goal=c.goal, plan_version_id=c.plan_version_id,
        scheduled_at=_aware(c.scheduled_at), created_at=_aware(c.created_at),  # type: ignore[arg-type]
        updated_at=_aware(c.updated_at),  # type: ignore[arg-type]
    )  # fmt: skip


def find_campaign(engine: Engine, campaign_id: int) -> Campaign:
    """The campaign with this id (a 404 problem when there is none)."""
    with session_factory(engine)() as session:
        c = session.get(Campaign, campaign_id)
        if c is None:
            raise ProblemError(
                404, "Not found",
                f"no campaign with id {campaign_id}; GET /campaigns lists them",
                kind="no-such-campaign",
            )  # fmt: skip
        session.expunge(c)
    return c


def filter_problem(exc: FilterError) -> ProblemError:
    """A 422 problem for an audience filter that does not parse or check."""
    extra = {"line": exc.line, "column": exc.column} if exc.line is not None else {}
    return ProblemError(422, "Invalid audience filter", exc.reason, kind="invalid-filter",
                        **extra)  # fmt: skip


def _detail(engine: Engine, campaign_id: int) -> CampaignDetail:
    c = find_campaign(engine, campaign_id)
    return CampaignDetail(
        **_summary(c).model_dump(),
        settings=redact(c.settings),
        ledger=counts(engine, c.id),
        next={cmd: st for st, cmd in TRANSITIONS.get(c.state, {}).items()},  # type: ignore[call-overload]
    )


def _move(request: Request, campaign_id: int, target: State) -> CampaignDetail:
    engine = request.app.state.engine
    find_campaign(engine, campaign_id)
    try:
        move(engine, campaign_id, target)
    except ConfigError as exc:
        raise ProblemError(409, "Illegal transition", str(exc), kind="illegal-transition") from None
    return _detail(engine, campaign_id)


_READ = problem_responses(401, 403, 422, 429)
_ONE = problem_responses(401, 403, 404, 422, 429)
_MOVE = problem_responses(401, 403, 404, 409, 422, 429)


@router.get("", response_model=CampaignList, responses=_READ, summary="List campaigns.")
def list_campaigns(
    request: Request,
    _: ReadKey,
    state: Annotated[State | None, Query(description="Only campaigns in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> CampaignList:
    """Campaigns, newest first, without their settings."""
    query = select(Campaign)
    if state is not None:
        query = query.where(Campaign.state == state)
    with session_factory(request.app.state.engine)() as session:
        rows = session.scalars(query.order_by(Campaign.id.desc())).all()
        items = [_summary(c) for c in rows[offset : offset + limit]]
    return CampaignList(total=len(rows), items=items)


@router.post(
    "",
    response_model=CampaignDetail,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(400, 401, 403, 409, 413, 422, 429),
    summary="Create a draft campaign.",
)
def create(request: Request, body: CampaignCreate, _: AdminKey) -> CampaignDetail:
    """Save a draft campaign; the audience filter is checked now and resolved when it is sent.
    409 when a campaign of that name exists."""
    engine = request.app.state.engine
    if body.channel not in channel_names():
        raise ProblemError(
            422, "Invalid request",
            f"unknown channel {body.channel!r}; use one of {', '.join(channel_names())}",
            kind="validation", errors=[{"field": "channel", "message": "unknown channel",
                                        "type": "value_error"}],
        )  # fmt: skip
    if not body.settings.posts or body.audience.strip():
        try:
            Audience(name=body.name, filter=body.audience)
        except FilterError as exc:
            raise filter_problem(exc) from None
    if body.plan_version_id is not None:
        with session_factory(engine)() as session:
            if session.get(PlanVersion, body.plan_version_id) is None:
                raise ProblemError(
                    422, "Invalid request",
                    f"no plan version with id {body.plan_version_id}; GET /plans lists them",
                    kind="validation", errors=[{"field": "plan_version_id",
                                                "message": "no such plan version",
                                                "type": "value_error"}],
                )  # fmt: skip
    try:
        cid = create_campaign(
            request.app.state.workspace, body.name, audience=body.audience,
            settings=body.settings, channel=body.channel, persona=body.persona, goal=body.goal,
            plan_version_id=body.plan_version_id,
        )  # fmt: skip
    except (ConfigError, IntegrityError):
        raise ProblemError(
            409, "Conflict", f"a campaign named {body.name!r} exists already; choose another name",
            kind="duplicate-name",
        ) from None  # fmt: skip
    return _detail(engine, cid)


@router.get("/{campaign_id}", response_model=CampaignDetail, responses=_ONE,
            summary="One campaign.")  # fmt: skip
def get_campaign(request: Request, campaign_id: CampaignId, _: ReadKey) -> CampaignDetail:
    """The campaign: state, channel, audience, persona, goal, plan version, settings without
    secrets, the send ledger's counts and the moves allowed now."""
    return _detail(request.app.state.engine, campaign_id)


@router.post("/{campaign_id}/pause", response_model=CampaignDetail, responses=_MOVE,
             summary="Pause a sending campaign.")  # fmt: skip
def pause(request: Request, campaign_id: CampaignId, _: AdminKey) -> CampaignDetail:
    """*sending* → *paused*; the sender stops after its current batch."""
    return _move(request, campaign_id, "paused")


@router.post("/{campaign_id}/resume", response_model=CampaignDetail, responses=_MOVE,
             summary="Resume a paused campaign.")  # fmt: skip
def resume(request: Request, campaign_id: CampaignId, _: AdminKey) -> CampaignDetail:
    """*paused* → *sending*; the next ``streamwise campaign run-due`` sends the rest (each
    recipient once)."""
    return _move(request, campaign_id, "sending")


@router.post("/{campaign_id}/cancel", response_model=CampaignDetail, responses=_MOVE,
             summary="Cancel a campaign for good.")  # fmt: skip
def cancel(request: Request, campaign_id: CampaignId, _: AdminKey) -> CampaignDetail:
    """Any state but *done* → *cancelled*; nothing more is sent."""
    return _move(request, campaign_id, "cancelled")


@router.post("/{campaign_id}/unschedule", response_model=CampaignDetail, responses=_MOVE,
             summary="Put a scheduled campaign back to draft.")  # fmt: skip
def unschedule(request: Request, campaign_id: CampaignId, _: AdminKey) -> CampaignDetail:
    """*scheduled* → *draft*."""
    return _move(request, campaign_id, "draft")


@router.post(
    "/{campaign_id}/schedule",
    response_model=CampaignDetail,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429),
    summary="Schedule a draft campaign (or queue it now).",
)
def schedule(
    request: Request, campaign_id: CampaignId, _: AdminKey, body: ScheduleRequest | None = None
) -> CampaignDetail:
    """*draft* → *scheduled* for ``at`` (default: now). The sender, ``streamwise campaign
    run-due`` run from cron, sends it when the time has come."""
    engine = request.app.state.engine
    at = (body.at if body else None) or datetime.now(UTC)
    # In UTC: SQLite keeps a time's wall clock and drops its offset.
    at = at.astimezone(UTC) if at.tzinfo is not None else at.replace(tzinfo=UTC)
    c = find_campaign(engine, campaign_id)
    try:
        schedule_campaign(request.app.state.workspace, c.name, at)
    except ConfigError as exc:
        raise ProblemError(409, "Illegal transition", str(exc), kind="illegal-transition") from None
    return _detail(engine, campaign_id)
