"""A campaign's results per arm (each variant and the holdout): who was sent what, who opened,
clicked, unsubscribed and converted, machine requests left out.

Counts of people (``unique_opens``, ``unique_clicks``, ``unsubscribes``) count distinct
recipients; arms are disjoint sets of recipients, so every count adds up across arms (see
:meth:`ArmResults.__add__`), and rates are recomputed from the sums.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, and_, case, distinct, false, func, select, true

from streamwise.downstream.campaigns.assignment import HOLDOUT
from streamwise.downstream.tracking.engagement import WINDOW
from streamwise.errors import ConfigError
from streamwise.store.models import Campaign, CampaignSend, Engagement

__all__ = ["ArmResults", "CampaignResults", "campaign_results"]

E = Engagement.__table__
S = CampaignSend.__table__
C = Campaign.__table__


def _rate(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class ArmResults:
    """One arm of a campaign: a variant, or the holdout (assigned, never sent).

    Attributes
    ----------
    arm
        The variant's name, or ``"holdout"``.
    recipients
        Customers assigned to the arm (every ledger row, whatever became of it).
    sent
        Messages accepted by the mail server (``sent``).
    held_out
        Recipients held out (``held_out``; the holdout arm's recipients).
    unique_opens
        Recipients with a human open, or a human click (a click implies the message was
        opened, with images blocked perhaps).
    machine_opens
        Open requests a machine rule flagged (privacy prefetches, scanners); not in any rate.
    unique_clicks, clicks
        Recipients with a human click, and the human clicks.
    machine_clicks
        Click requests a machine rule flagged (link scanners); not in any rate.
    unsubscribes
        Recipients who unsubscribed through this campaign's messages.
    conversions, revenue
        Conversions credited to the arm by the recipient's last human click, and their revenue.
    arm_conversions, arm_revenue
        Every conversion of the arm's recipients within the attribution window of the
        campaign's start, clicked or not; the same measure for the holdout, so arms compare.
    """

    arm: str
    recipients: int = 0
    sent: int = 0
    held_out: int = 0
    unique_opens: int = 0
    machine_opens: int = 0
    unique_clicks: int = 0
    clicks: int = 0
    machine_clicks: int = 0
    unsubscribes: int = 0
    conversions: int = 0
    revenue: float = 0.0
    arm_conversions: int = 0
    arm_revenue: float = 0.0

    @property
    def holdout(self) -> bool:
        """Whether this is the holdout arm."""
        return self.arm == HOLDOUT

    @property
    def open_rate(self) -> float | None:
        """Unique human opens per message sent."""
        return _rate(self.unique_opens, self.sent)

    @property
    def click_rate(self) -> float | None:
        """Unique human clickers per message sent."""
        return _rate(self.unique_clicks, self.sent)

    @property
    def click_to_open_rate(self) -> float | None:
        """Unique human clickers per unique human opener."""
        return _rate(self.unique_clicks, self.unique_opens)

    @property
    def unsubscribe_rate(self) -> float | None:
        """Unsubscribes per message sent."""
        return _rate(self.unsubscribes, self.sent)

    @property
    def conversion_rate(self) -> float | None:
        """Last-click conversions per recipient."""
        return _rate(self.conversions, self.recipients)

    @property
    def arm_conversion_rate(self) -> float | None:
        """Conversions in the window per recipient (compare with the holdout's)."""
        return _rate(self.arm_conversions, self.recipients)

    def __add__(self, other: ArmResults) -> ArmResults:
        """Two disjoint arms together (named ``"a+b"``)."""
        counts = {f.name: getattr(self, f.name) + getattr(other, f.name)
                  for f in fields(self) if f.name != "arm"}  # fmt: skip
        return ArmResults(arm=f"{self.arm}+{other.arm}", **counts)

    def to_dict(self) -> dict[str, Any]:
        """Counts and rates, JSON-ready (a rate without a denominator is ``None``)."""
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["holdout"] = self.holdout
        for name in ("open_rate", "click_rate", "click_to_open_rate", "unsubscribe_rate",
                     "conversion_rate", "arm_conversion_rate"):  # fmt: skip
            out[name] = getattr(self, name)
        return out


@dataclass(frozen=True)
class CampaignResults:
    """A campaign's results, one :class:`ArmResults` per arm (variants by name, holdout last).

    Attributes
    ----------
    campaign_id, campaign, state
        The campaign.
    started_at
        Its first message's ``sent_at`` (the start of every arm's conversion window).
    arms
        Per arm.
    """

    campaign_id: int
    campaign: str
    state: str
    started_at: datetime | None
    arms: tuple[ArmResults, ...]

    def arm(self, name: str) -> ArmResults:
        """The arm called ``name`` (an empty one when nobody is in it)."""
        return next((a for a in self.arms if a.arm == name), ArmResults(arm=name))

    @property
    def treated(self) -> ArmResults:
        """Every variant together (the holdout left out), named ``"treated"``."""
        total = ArmResults(arm="treated")
        for a in self.arms:
            if not a.holdout:
                total = total + a
        return replace(total, arm="treated")

    def to_dict(self) -> dict[str, Any]:
        """The results, JSON-ready."""
        return {
            "campaign_id": self.campaign_id,
            "campaign": self.campaign,
            "state": self.state,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "arms": [a.to_dict() for a in self.arms],
            "treated": self.treated.to_dict(),
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per arm, with counts and rates."""
        rows = [a.to_dict() for a in self.arms]
        columns = list(ArmResults(arm="").to_dict())
        return pd.DataFrame(rows, columns=columns)


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _people(condition: Any) -> Any:
    return func.count(distinct(case((condition, E.c.customer_id), else_=None)))


def _money(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, E.c.revenue), else_=0.0)), 0.0)


def campaign_results(engine: Engine, campaign_id: int) -> CampaignResults:
    """The results of campaign ``campaign_id`` per arm, from the send ledger and engagements.

    Raises
    ------
    ConfigError
        When there is no campaign with that id.
    """
    human, machine = E.c.machine == false(), E.c.machine == true()
    attributed = and_(E.c.kind == "conversion", E.c.url.is_not(None))
    windowed = and_(E.c.kind == "conversion", E.c.rule == WINDOW)
    with engine.connect() as con:
        found = con.execute(select(C.c.name, C.c.state).where(C.c.id == campaign_id)).first()
        if found is None:
            raise ConfigError(
                f"no campaign with id {campaign_id}; list them with `streamwise campaign list` "
                "or GET /campaigns"
            )
        ledger = con.execute(
            select(S.c.arm, func.count(), _count_s("sent"), _count_s("held_out"),
                   func.min(S.c.sent_at))
            .where(S.c.campaign_id == campaign_id)
            .group_by(S.c.arm)
        ).all()  # fmt: skip
        engaged = con.execute(
            select(
                E.c.variant,
                _people(and_(E.c.kind.in_(("open", "click")), human)),
                _count(and_(E.c.kind == "open", machine)),
                _people(and_(E.c.kind == "click", human)),
                _count(and_(E.c.kind == "click", human)),
                _count(and_(E.c.kind == "click", machine)),
                _people(E.c.kind == "unsubscribe"),
                _count(attributed),
                _money(attributed),
                _count(windowed),
                _money(windowed),
            )
            .where(E.c.campaign_id == campaign_id)
            .group_by(E.c.variant)
        ).all()
    arms: dict[str, dict[str, Any]] = {}
    started: datetime | None = None
    for arm, recipients, sent, held, first in ledger:
        arms[str(arm)] = {"recipients": int(recipients), "sent": int(sent), "held_out": int(held)}
        if first is not None:
            first = first.replace(tzinfo=UTC) if first.tzinfo is None else first.astimezone(UTC)
            started = first if started is None else min(started, first)
    names = ("unique_opens", "machine_opens", "unique_clicks", "clicks", "machine_clicks",
             "unsubscribes", "conversions", "revenue", "arm_conversions",
             "arm_revenue")  # fmt: skip
    for variant, *values in engaged:
        slot = arms.setdefault(str(variant) if variant is not None else "(none)", {})
        for name, value in zip(names, values, strict=True):
            slot[name] = float(value) if name.endswith("revenue") else int(value)
    order = sorted(arms, key=lambda a: (a == HOLDOUT, a))
    return CampaignResults(
        campaign_id=int(campaign_id), campaign=str(found.name), state=str(found.state),
        started_at=started, arms=tuple(ArmResults(arm=a, **arms[a]) for a in order),
    )  # fmt: skip


def _count_s(status: str) -> Any:
    return func.coalesce(func.sum(case((S.c.status == status, 1), else_=0)), 0)
