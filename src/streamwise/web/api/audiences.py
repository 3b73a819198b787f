"""``/audiences``: preview who a filter reaches now, and list the fields a filter can use.

A preview resolves the filter in the analytics database, then applies the send rules a campaign
applies (consent, address checks, the suppression list, an optional frequency cap, duplicate
addresses) and reports how many each removed. It returns customer ids, never addresses.

The server opens the workspace's DuckDB file read-only for each preview and closes it after, so
that ``streamwise`` commands (imports, model runs, ``campaign run-due``) can write to it while
the server runs; while one of them holds it, a preview answers 503 with ``Retry-After``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Literal

import duckdb
import pandas as pd
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, select

from streamwise.downstream.audiences import (
    FIELDS,
    Audience,
    FilterError,
    FrequencyCap,
    apply_rules,
    field_table,
    resolve,
    suppressed,
)
from streamwise.engine import connect_duckdb
from streamwise.errors import ConfigError, WorkspaceError
from streamwise.plan.store import load_plan
from streamwise.store.db import session_factory
from streamwise.store.models import Campaign, CampaignSend
from streamwise.web.api.campaigns import filter_problem
from streamwise.web.auth import ReadKey
from streamwise.web.problems import ProblemError, problem_responses
from streamwise.workspace import Workspace

__all__ = [
    "AudienceField",
    "AudienceFields",
    "PreviewRequest",
    "PreviewResponse",
    "analytics_view",
    "router",
]

router = APIRouter(prefix="/audiences", tags=["audiences"])

# One analytics connection at a time per server process (DuckDB connections are not meant to
# be shared between threads, and previews are rare, heavy calls).
_LOCK = threading.Lock()
RETRY_SECONDS = 5


class PreviewRequest(BaseModel):
    """A filter in the audience language and the send rules to apply."""

    model_config = ConfigDict(extra="forbid")

    filter: str = Field(
        max_length=10_000,
        description='E.g. `segment = "Weekend Campers" and last_order within 90 days`.',
    )
    channel: Literal["email"] = "email"
    frequency_cap: tuple[int, int] | None = Field(
        None, description="(messages, days): leave out people sent this many in the last days."
    )
    limit: int = Field(20, ge=0, le=1_000, description="How many customer ids to return.")


class PreviewResponse(BaseModel):
    """Who the filter reaches now, and who the rules remove."""

    filter: str
    channel: str
    at: datetime = Field(description="When it was resolved.")
    population: int = Field(description="Customers in the workspace.")
    members: int = Field(description="Customers the filter selects.")
    kept: int = Field(description="Members a campaign would send to.")
    removed: int
    reasons: dict[str, int] = Field(
        description="Removed per reason, in rule order (no e-mail consent, suppressed: …, "
        "frequency cap: …, duplicate address)."
    )
    customer_ids: list[str] = Field(description="The first kept members' ids, by id.")


class AudienceField(BaseModel):
    """One field a filter can use, and whether this workspace has it now."""

    name: str
    type: Literal["text", "integer", "number", "date", "boolean"]
    source: str
    description: str
    available: bool
    hint: str | None = Field(None, description="What to run to make it available.")


class AudienceFields(BaseModel):
    """The filter fields."""

    items: list[AudienceField]


@contextmanager
def analytics_view(workspace: Workspace) -> Iterator[Workspace]:
    """The workspace with its analytics database open for reading, one caller at a time.

    A DuckDB file is opened read-only for the duration and closed after (unless this process
    has it open already); a PostgreSQL engine's connection is shared.

    Raises
    ------
    ProblemError
        503 when another process holds the DuckDB file for writing.
    """
    with _LOCK:
        settings = workspace.settings
        if settings.engine != "duckdb" or workspace._analytics is not None:
            yield workspace
            return
        try:
            backend = connect_duckdb(
                workspace.analytics_path, memory_limit=settings.memory_limit,
                threads=settings.threads, read_only=True,
            )  # fmt: skip
        except duckdb.Error:
            raise ProblemError(
                503, "Busy",
                "the analytics database is being written by another streamwise command (an "
                "import, a model run or a send); retry in a few seconds",
                kind="analytics-busy", headers={"Retry-After": str(RETRY_SECONDS)},
            ) from None  # fmt: skip
        view = Workspace(workspace.root, settings, backend, workspace.operational())
        try:
            yield view
        finally:
            backend.disconnect()


def _recent_sends(engine: Engine, at: datetime, days: int) -> pd.DataFrame:
    with session_factory(engine)() as session:
        rows = session.execute(
            select(CampaignSend.customer_id, Campaign.channel, CampaignSend.sent_at)
            .join(Campaign, Campaign.id == CampaignSend.campaign_id)
            .where(CampaignSend.status == "sent", CampaignSend.sent_at >= at - timedelta(days))
        ).all()
    return pd.DataFrame(rows, columns=["customer_id", "channel", "sent_at"])


def _personas(engine: Engine) -> dict[str, str]:
    try:
        plan = load_plan(engine)
    except WorkspaceError:
        return {}
    return {card.segment: card.name for card in plan.personas}


def _not_ready(exc: ConfigError) -> ProblemError:
    return ProblemError(409, "Not ready", str(exc), kind="workspace-not-ready")


_ERRORS = problem_responses(401, 403, 409, 429, 503)


@router.post(
    "/preview",
    response_model=PreviewResponse,
    responses=problem_responses(400, 401, 403, 409, 413, 422, 429, 503),
    summary="Preview an audience filter.",
)
def preview(request: Request, body: PreviewRequest, _: ReadKey) -> PreviewResponse:
    """Resolve the filter now and apply consent, suppression, the frequency cap (when given)
    and de-duplication, as a campaign would. 422 for a filter that does not parse or names an
    unknown field, with its line and column; 409 when the workspace lacks the data a field
    needs (the detail says which command makes it)."""
    try:
        audience = Audience(name="preview", filter=body.filter, channel=body.channel)
        cap = FrequencyCap(*body.frequency_cap) if body.frequency_cap else None
    except FilterError as exc:
        raise filter_problem(exc) from None
    except ConfigError as exc:
        raise ProblemError(422, "Invalid request", str(exc), kind="validation") from None
    engine = request.app.state.engine
    at = datetime.now(UTC)
    try:
        with analytics_view(request.app.state.workspace) as view:
            found = resolve(view, audience, at=at)
    except FilterError as exc:
        raise filter_problem(exc) from None
    except ConfigError as exc:
        raise _not_ready(exc) from None
    recent = _recent_sends(engine, at, cap.days) if cap else None
    rules = apply_rules(found.members, channel=body.channel,
                        suppressed=suppressed(engine, body.channel), recent_sends=recent,
                        cap=cap, at=at)  # fmt: skip
    ids = rules.kept["customer_id"].astype(str).head(body.limit).tolist()
    return PreviewResponse(
        filter=body.filter, channel=body.channel, at=at, population=found.population,
        members=rules.members, kept=len(rules.kept), removed=len(rules.removed),
        reasons=rules.report, customer_ids=ids,
    )  # fmt: skip


@router.get("/fields", response_model=AudienceFields, responses=_ERRORS,
            summary="The fields a filter can use.")  # fmt: skip
def fields(request: Request, _: ReadKey) -> AudienceFields:
    """Every filter field with its type and meaning, and whether this workspace has its data
    (``hint`` says what to run when it does not)."""
    personas = _personas(request.app.state.engine)
    try:
        with analytics_view(request.app.state.workspace) as view:
            table = field_table(view.analytics(), personas=personas)
    except ConfigError as exc:
        raise _not_ready(exc) from None
    return AudienceFields(
        items=[
            AudienceField(
                name=f.name,
                type=f.type,
                source=f.source,
                description=f.description,
                available=f.name in table.available,
                hint=table.missing.get(f.name),
            )
            for f in FIELDS
        ]
    )
