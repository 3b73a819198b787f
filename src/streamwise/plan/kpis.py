"""Goals, KPIs and the timeline of the plan, derived from the data.

Baselines come from the workspace (CLV model, survey, competitor analysis); targets move them by
the market's own growth (the trend forecast of the categories a segment buys) plus an ambition
the user sets. Every KPI names the rows its baseline came from.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pandas as pd

from streamwise.plan.document import Evidence, Goal, Kpi, Milestone, Target
from streamwise.plan.profiles import SegmentProfiles

__all__ = ["goals_and_kpis", "slug", "timeline"]


def slug(text: str) -> str:
    """A short id from a name ("Weekend Campers" → "weekend-campers")."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def _quarter(start: date, q: int) -> tuple[date, date]:
    """The ``q``-th quarter (0-based) after ``start``: its first and last day."""

    def month(k: int) -> date:
        y, m = divmod(start.month - 1 + k, 12)
        return date(start.year + y, m + 1, 1)

    return month(3 * q), month(3 * q + 3) - timedelta(days=1)


def goals_and_kpis(
    profiles: SegmentProfiles,
    targets: tuple[Target, ...],
    features: pd.DataFrame | None,
    *,
    start: date,
    end: date,
    ambition: dict[str, float],
) -> tuple[tuple[Goal, ...], tuple[Kpi, ...]]:
    """One goal per target segment (marketing), a revenue goal (sales), a product goal.

    Parameters
    ----------
    ambition
        ``active``, ``clv`` (relative uplift beyond market growth) and ``nps`` (points).
    """
    kpis: list[Kpi] = []
    goals: list[Goal] = []
    p = profiles
    for t in (t for t in targets if t.decision == "target"):
        seg, s = t.segment, slug(t.segment)
        growth = p.value(seg, "market_growth") or 0.0
        growth_ev = (p.evidence(seg, "market_growth"),) if p.value(seg, "market_growth") else ()
        ids = []
        active = p.value(seg, "active_customers")
        if active is not None:
            kpis.append(Kpi(
                id=f"{s}-active", name=f"Active customers in {seg}", unit="customers",
                baseline=round(active, 1),
                target=round(active * (1 + growth + ambition["active"]), 1), due=end,
                owner="marketing", segment=seg,
                method=f"sum of P(alive) (BG/NBD); target = baseline × (1 + market growth "
                       f"{growth:+.1%} + ambition {ambition['active']:+.0%})",
                evidence=(p.evidence(seg, "active_customers"), *growth_ev),
            ))  # fmt: skip
            ids.append(f"{s}-active")
        clv = p.value(seg, "clv_mean")
        if clv is not None:
            kpis.append(Kpi(
                id=f"{s}-clv", name=f"Expected 52-week CLV per customer, {seg}", unit="currency",
                baseline=round(clv, 2), target=round(clv * (1 + ambition["clv"]), 2), due=end,
                owner="sales", segment=seg,
                method=f"mean CLV (BG/NBD × Gamma-Gamma); target +{ambition['clv']:.0%}",
                evidence=(p.evidence(seg, "clv_mean"),),
            ))  # fmt: skip
            ids.append(f"{s}-clv")
        nps = p.value(seg, "nps")
        if nps is not None:
            kpis.append(Kpi(
                id=f"{s}-nps", name=f"NPS of {seg}", unit="points", baseline=round(nps, 1),
                target=round(min(100.0, nps + ambition["nps"]), 1), due=end, owner="product",
                segment=seg, method=f"survey NPS; target +{ambition['nps']:.0f} points",
                evidence=(p.evidence(seg, "nps"),),
            ))  # fmt: skip
            ids.append(f"{s}-nps")
        goals.append(Goal(
            id=f"win-{s}", title=f"Win {seg}",
            description=f"Grow and keep {seg} (ranked {t.rank}, score {t.score:.2f}).",
            owner="marketing", due=end, kpis=tuple(ids),
        ))  # fmt: skip
    revenue = [(seg, p.value(seg, "expected_revenue")) for seg in p.segments]
    revenue = [(seg, v) for seg, v in revenue if v is not None]
    if revenue:
        base = sum(v for _, v in revenue)
        grown = sum(v * (1 + (p.value(seg, "market_growth") or 0.0)) for seg, v in revenue)
        kpis.append(Kpi(
            id="revenue", name="Expected revenue from today's customers, next 52 weeks",
            unit="currency", baseline=round(base, 2), target=round(grown, 2), due=end,
            owner="sales",
            method="Σ expected purchases × expected spend per customer; target grows each "
                   "segment with its categories' forecast market growth",
            evidence=tuple(p.evidence(seg, "expected_revenue") for seg, _ in revenue),
        ))  # fmt: skip
        goals.append(Goal(id="grow-revenue", title="Grow revenue at least with the market",
                          description="Keep today's customers buying as their markets grow.",
                          owner="sales", due=end, kpis=("revenue",)))  # fmt: skip
    if features is not None and len(features):
        gaps = features[features["gap"].astype(bool)]
        kpis.append(Kpi(
            id="feature-gaps", name="Features most competitors offer that we lack",
            unit="features", baseline=float(len(gaps)), target=float(max(0, len(gaps) - 1)),
            due=end, direction="decrease", owner="product",
            method="competitor feature matrix; close at least one gap",
            evidence=tuple(Evidence(table="competitor_features", column="gap",
                                    key={"feature": str(f)}, value=None)
                           for f in gaps["feature"]),
        ))  # fmt: skip
        goals.append(Goal(id="close-gaps", title="Close the feature gaps that matter",
                          description="Offer what most competitors offer and we do not: "
                          + (", ".join(str(f).replace("_", " ") for f in gaps["feature"]) or
                             "none today") + ".",
                          owner="product", due=end, kpis=("feature-gaps",)))  # fmt: skip
    return tuple(goals), tuple(kpis)


def timeline(
    targets: tuple[Target, ...], profiles: SegmentProfiles, goals: tuple[Goal, ...], start: date
) -> tuple[Milestone, ...]:
    """Quarterly steps: position and launch for each target, sales and product work, reviews."""
    q = [_quarter(start, k) for k in range(4)]
    out: list[Milestone] = []
    ids = {g.id for g in goals}
    for t in (t for t in targets if t.decision == "target"):
        s = slug(t.segment)
        media = profiles.items(t.segment, "media_share").head(1)
        hour = profiles.items(t.segment, "open_hour").head(1)
        how = ""
        if len(media):
            how += f" on {media.index[0]}"
        if len(hour):
            how += f", e-mail at {hour.index[0]}"
        goal: Any = f"win-{s}" if f"win-{s}" in ids else None
        out.append(Milestone(title=f"Positioning and creative for {t.segment}", start=q[0][0],
                             end=q[0][1], owner="marketing", goal=goal))  # fmt: skip
        out.append(Milestone(title=f"Campaigns to {t.segment}{how}", start=q[1][0], end=q[2][1],
                             owner="marketing", goal=goal))  # fmt: skip
    if "grow-revenue" in ids:
        out.append(
            Milestone(
                title="Sales hand-off: high-CLV customers of the target segments",
                start=q[0][0], end=q[1][1], owner="sales", goal="grow-revenue",
            )
        )  # fmt: skip
    if "close-gaps" in ids:
        out.append(Milestone(title="Close the first feature gap", start=q[1][0], end=q[3][1],
                             owner="product", goal="close-gaps"))  # fmt: skip
    out.append(Milestone(title="Plan review: plan vs actual", start=q[1][1], end=q[1][1],
                         owner="marketing"))  # fmt: skip
    out.append(Milestone(title="Yearly plan review and rebuild", start=q[3][1], end=q[3][1],
                         owner="marketing"))  # fmt: skip
    return tuple(out)
