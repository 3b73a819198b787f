"""``/campaigns/{id}/results`` (``read``) and ``/suppressions`` (``admin``).

Results are what recipients did with a campaign's messages (sends, human opens and clicks,
unsubscribes, conversions and revenue, per variant and for the holdout), computed by
:func:`streamwise.downstream.tracking.results.campaign_results`. The suppression list holds
addresses, which are personal data, so reading it needs the ``admin`` scope.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from streamwise.downstream.audiences import suppressed
from streamwise.downstream.tracking.results import campaign_results
from streamwise.web.api.campaigns import CampaignId, find_campaign
from streamwise.web.auth import AdminKey, ReadKey
from streamwise.web.problems import problem_responses

__all__ = ["ArmResultsOut", "CampaignResultsOut", "SuppressionItem", "SuppressionList", "router"]

router = APIRouter()


class ArmResultsOut(BaseModel):
    """One arm (a variant, or the holdout): counts of people and events, and rates (``null``
    where the denominator is 0). Machine opens and clicks are counted apart and in no rate."""

    arm: str
    holdout: bool
    recipients: int = Field(description="Assigned to the arm (every ledger row).")
    sent: int
    held_out: int
    unique_opens: int = Field(description="Recipients with a human open or click.")
    machine_opens: int
    unique_clicks: int
    clicks: int
    machine_clicks: int
    unsubscribes: int
    conversions: int = Field(description="Credited by the recipient's last human click.")
    revenue: float
    arm_conversions: int = Field(description="Any conversion in the window (compare arms).")
    arm_revenue: float
    open_rate: float | None
    click_rate: float | None
    click_to_open_rate: float | None
    unsubscribe_rate: float | None
    conversion_rate: float | None
    arm_conversion_rate: float | None


class CampaignResultsOut(BaseModel):
    """A campaign's results per arm, and all variants together (``treated``)."""

    campaign_id: int
    campaign: str
    state: str
    started_at: datetime | None = Field(description="When its first message was sent.")
    arms: list[ArmResultsOut]
    treated: ArmResultsOut


class SuppressionItem(BaseModel):
    """One suppressed address and why."""

    channel: str
    address: str
    customer_id: str | None
    reason: str = Field(description="unsubscribe, hard_bounce, complaint or manual.")
    source: str
    created_at: datetime


class SuppressionList(BaseModel):
    """A page of a channel's suppression list, oldest first."""

    channel: str
    total: int
    items: list[SuppressionItem]


@router.get(
    "/campaigns/{campaign_id}/results",
    tags=["results"],
    response_model=CampaignResultsOut,
    responses=problem_responses(401, 403, 404, 422, 429),
    summary="A campaign's results.",
)
def results(request: Request, campaign_id: CampaignId, _: ReadKey) -> CampaignResultsOut:
    """Sends, human opens and clicks, unsubscribes, conversions and revenue, per variant and
    for the holdout (assigned, never sent), and the variants together."""
    engine = request.app.state.engine
    find_campaign(engine, campaign_id)
    return CampaignResultsOut.model_validate(campaign_results(engine, campaign_id).to_dict())


@router.get(
    "/suppressions",
    tags=["results"],
    response_model=SuppressionList,
    responses=problem_responses(401, 403, 422, 429),
    summary="A channel's suppression list.",
)
def suppressions(
    request: Request,
    _: AdminKey,
    channel: Annotated[str, Query(min_length=1, max_length=50, pattern=r"^[a-z][a-z0-9_-]*$")] = (
        "email"
    ),
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1_000,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> SuppressionList:
    """Suppressed addresses of ``channel`` with the reason and source, oldest first."""
    frame = suppressed(request.app.state.engine, channel)
    page = frame.iloc[offset : offset + limit]
    items = [
        SuppressionItem(**{k: (None if v != v else v) for k, v in row.items()})  # NaN → None
        for row in page.to_dict("records")
    ]
    return SuppressionList(channel=channel, total=len(frame), items=items)
