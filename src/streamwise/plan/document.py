"""The marketing plan as a document: the one object product, sales and marketing work from.

Every number in it carries its :class:`Evidence` (the table, the row and the column it came
from), so that a reader can trace a claim on a persona card or a KPI baseline to the data. The
document is plain data (pydantic, frozen), stored as JSON in the operational database
(:mod:`streamwise.plan.store`) and exported as YAML or HTML.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "TEAMS",
    "BudgetLine",
    "Claim",
    "Evidence",
    "Goal",
    "Kpi",
    "KpiActual",
    "LiftLine",
    "MeasurementSection",
    "Milestone",
    "PersonaCard",
    "PlanDocument",
    "Positioning",
    "Recommendation",
    "SegmentScore",
    "StrategySection",
    "Target",
]

#: The teams that own goals, KPIs and milestones.
TEAMS = ("product", "sales", "marketing")
Team = Literal["product", "sales", "marketing"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Evidence(_Frozen):
    """Where a number came from: ``table`` (a workspace table), the row (``key``: column →
    value that select it), the ``column`` and the ``value`` read there.

    ``n`` is the number of observations behind the value (customers, respondents, weeks), so a
    reader can judge how much to trust it.
    """

    table: str
    column: str
    key: dict[str, str | int | float] = Field(default_factory=dict)
    value: float | str | None = None
    n: int | None = None


class Claim(_Frozen):
    """A statement with the numbers it rests on (at least one unless ``kind`` is ``caveat``)."""

    text: str
    kind: Literal["fact", "need", "preference", "channel", "value", "caveat"] = "fact"
    evidence: tuple[Evidence, ...] = ()


class PersonaCard(_Frozen):
    """A buyer persona for one segment."""

    segment: str
    name: str
    summary: str
    size: int
    share: float
    claims: tuple[Claim, ...]
    sufficient_evidence: bool
    missing: tuple[str, ...] = ()


class SegmentScore(_Frozen):
    """One segment's attractiveness: criterion → raw value and 0–1 score, and the total."""

    segment: str
    raw: dict[str, float | None]
    scores: dict[str, float]
    total: float
    rank: int


class Target(_Frozen):
    """The targeting decision for one segment, with its reasons."""

    segment: str
    decision: Literal["target", "maintain", "deprioritise"]
    score: float
    rank: int
    reasons: tuple[Claim, ...]


class Positioning(_Frozen):
    """A positioning statement (Moore's template): for whom, need, category, differentiator,
    proof. ``statement`` is the sentence built from them."""

    segment: str
    for_whom: str
    need: str
    category: str
    differentiator: str
    proof: str
    statement: str
    evidence: tuple[Evidence, ...]


class StrategySection(_Frozen):
    """Weights, scores, the sensitivity of the ranking to the weights, targets, positioning."""

    weights: dict[str, float]
    scores: tuple[SegmentScore, ...]
    sensitivity: tuple[dict[str, Any], ...]
    targets: tuple[Target, ...]
    positioning: tuple[Positioning, ...]


class Kpi(_Frozen):
    """A key performance indicator with its baseline (from the data) and its target."""

    id: str
    name: str
    unit: str
    baseline: float
    target: float
    due: date
    direction: Literal["increase", "decrease"] = "increase"
    owner: Team
    segment: str | None = None
    method: str = ""
    evidence: tuple[Evidence, ...] = ()


class Goal(_Frozen):
    """A long-term goal, measured by KPIs."""

    id: str
    title: str
    description: str
    owner: Team
    due: date
    kpis: tuple[str, ...]


class Milestone(_Frozen):
    """A step on the plan's timeline."""

    title: str
    start: date
    end: date
    owner: Team
    goal: str | None = None


class KpiActual(_Frozen):
    """Plan against actual for one KPI at the time of a measurement run.

    ``progress`` is the share of the way from baseline to target reached (1 = target met;
    negative = moved the wrong way); ``expected`` the share of the plan period elapsed.
    """

    id: str
    actual: float | None
    progress: float | None
    expected: float
    status: Literal["met", "on track", "behind", "no data"]
    evidence: tuple[Evidence, ...] = ()


class LiftLine(_Frozen):
    """A campaign's measured incremental effect on one group (``all``, a segment or persona)."""

    id: str
    campaign: str
    group: str
    treated: int
    holdout: int
    conversion_lift: float | None
    conversion_lift_low: float | None
    conversion_lift_high: float | None
    incremental_revenue: float | None
    iroas: float | None = None


class BudgetLine(_Frozen):
    """Media spend per period for one channel: now and as the optimiser recommends."""

    id: str
    current: float
    recommended: float
    roi: float | None = None
    marginal_roi: float | None = None


class Recommendation(_Frozen):
    """A change to the plan that a measurement run recommends, for a team to decide on."""

    id: str
    area: Literal["kpi", "campaign", "persona", "budget", "segment"]
    owner: Team
    text: str
    evidence: tuple[Evidence, ...] = ()


class MeasurementSection(_Frozen):
    """What the latest measurement run found: KPIs against plan, campaign lifts, segment value,
    the recommended media budget and the changes it recommends
    (:mod:`streamwise.measure.feedback`)."""

    as_of: date
    kpis: tuple[KpiActual, ...] = ()
    lifts: tuple[LiftLine, ...] = ()
    segment_value: dict[str, float] = Field(default_factory=dict)
    budget: tuple[BudgetLine, ...] = ()
    budget_outcome: dict[str, float] = Field(default_factory=dict)
    recommendations: tuple[Recommendation, ...] = ()


class PlanDocument(_Frozen):
    """The marketing plan."""

    schema_version: int = 1
    name: str
    company: str
    brand: str
    currency: str
    start: date
    end: date
    summary: str
    owners: dict[str, str]
    personas: tuple[PersonaCard, ...]
    strategy: StrategySection
    goals: tuple[Goal, ...]
    kpis: tuple[Kpi, ...]
    timeline: tuple[Milestone, ...]
    inputs: dict[str, Any] = Field(default_factory=dict)
    measurement: MeasurementSection | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (dates as ISO strings); no ``measurement`` key before the first
        measurement run, so plans saved before it existed keep their content hash."""
        data = self.model_dump(mode="json")
        if data.get("measurement") is None:
            data.pop("measurement", None)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlanDocument:
        """The document from :meth:`to_dict`'s output (or its YAML)."""
        return cls.model_validate(data)
