"""What the steps of one batch share: the transaction, the clock, the marks, caches for the
round (suppression lists, campaign settings, category affinity) and the effects they collect
(send-ledger rows, attributes) for the batch to write in bulk."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, select

from streamwise.downstream.campaigns.settings import CampaignSettings
from streamwise.downstream.journeys.analytics import Analytics, category_affinity
from streamwise.store.models import Campaign, Suppression

__all__ = ["Caches", "Run", "StepCampaign"]


@dataclass(frozen=True)
class StepCampaign:
    """The campaign row of a send or notify step: id, channel, seed and settings (parsed as
    :class:`CampaignSettings` for a send step; the raw dict for a notify step)."""

    id: int
    name: str
    channel: str
    seed: str
    settings: CampaignSettings | None
    raw: dict[str, Any]


class Caches:
    """Things read once per round of the worker and shared by its batches."""

    def __init__(self, engine: Engine, analytics: Analytics) -> None:
        self.engine = engine
        self.analytics = analytics
        self._suppressed: dict[str, pd.DataFrame] = {}
        self._campaigns: dict[int, StepCampaign] = {}
        self._affinity: dict[str, str] | None = None

    def suppressed(self, con: Connection, channel: str) -> pd.DataFrame:
        """The suppression list of ``channel`` (address, customer_id, reason: what
        :func:`~streamwise.downstream.audiences.rules.apply_rules` takes), read in the batch's
        transaction ``con``."""
        if channel not in self._suppressed:
            t = Suppression.__table__
            rows = con.execute(select(t.c.address, t.c.customer_id, t.c.reason)
                               .where(t.c.channel == channel)).all()  # fmt: skip
            self._suppressed[channel] = pd.DataFrame(
                rows, columns=["address", "customer_id", "reason"]
            )
        return self._suppressed[channel]

    def campaign(self, con: Connection, campaign_id: int) -> StepCampaign:
        """A step's campaign row."""
        if campaign_id not in self._campaigns:
            query = select(Campaign.name, Campaign.channel, Campaign.seed, Campaign.settings)
            c = con.execute(query.where(Campaign.id == campaign_id)).one()
            raw = dict(c.settings or {})
            parsed = None if "notify" in raw else CampaignSettings(**raw)
            self._campaigns[campaign_id] = StepCampaign(campaign_id, c.name, c.channel, c.seed,
                                                        parsed, raw)  # fmt: skip
        return self._campaigns[campaign_id]

    def affinity(self) -> dict[str, str]:
        """Category → the category its buyers buy most (computed once per round)."""
        if self._affinity is None:
            self._affinity = category_affinity(self.analytics)
        return self._affinity


@dataclass
class Run:
    """One batch: its transaction, its clock and marks, and the effects its steps collect."""

    con: Connection
    workspace: Any
    caches: Caches
    now: datetime
    marks: tuple[int, int]
    purchase_events: tuple[str, ...]
    ledger: list[dict[str, Any]] = field(default_factory=list)
    attributes: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    @property
    def analytics(self) -> Analytics:
        """The analytics database."""
        return self.caches.analytics
