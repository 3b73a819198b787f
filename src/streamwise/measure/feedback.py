"""The loop's return path: measure the plan against what happened and write the result back.

A measurement run (:func:`measure_plan`)

1. re-computes every KPI from today's data the way its baseline was computed — each KPI names
   the ``segment_profiles`` rows (or competitor features) its baseline came from, so the same
   rows are read again after :func:`~streamwise.plan.profiles.build_profiles` refreshes them —
   and sets it against the plan (progress from baseline to target versus the share of the plan
   period elapsed);
2. updates the segments' value (mean CLV) and the persona cards from the refreshed profiles;
3. reads every campaign's incremental effect from its holdout, overall and per persona
   (:mod:`streamwise.measure.incrementality`);
4. when the media mix model saved response curves (``streamwise measure mmm``), re-allocates
   the current media budget across channels (:mod:`streamwise.measure.budget`);
5. lists the changes these findings recommend, each for the team that owns it, and saves the
   plan as a new version with a ``measurement`` section, so that ``streamwise plan diff`` shows
   what the run changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from streamwise.data.tables import table_names
from streamwise.plan.diff import Change, diff_plans
from streamwise.plan.document import (
    BudgetLine,
    Evidence,
    Kpi,
    KpiActual,
    LiftLine,
    MeasurementSection,
    PlanDocument,
    Recommendation,
)
from streamwise.plan.store import PlanVersionInfo, load_plan_version, save_plan

__all__ = [
    "FeedbackResult",
    "current_spend",
    "kpi_actuals",
    "lift_lines",
    "lift_recommendations",
    "measure_plan",
]

#: A KPI is "behind" when its progress trails the elapsed share of the period by more than this.
TOLERANCE = 0.1
#: Weeks of spend that define "current" weekly spend per channel.
SPEND_WEEKS = 13
#: Budget changes smaller than this share of a channel's current spend are not recommended.
MIN_BUDGET_CHANGE = 0.05


@dataclass(frozen=True)
class FeedbackResult:
    """A measurement run: the new plan version and what changed.

    Attributes
    ----------
    document
        The plan with its new ``measurement`` section (and refreshed personas).
    saved
        The saved version (None with ``save=False``).
    previous
        The version measured against.
    changes
        Field-by-field differences from ``previous`` (what ``streamwise plan diff`` shows).
    lifts
        Every campaign's lift estimates (:func:`~streamwise.measure.incrementality.workspace_lift`).
    budget
        The optimiser's allocation, when response curves were available.
    """

    document: PlanDocument
    saved: PlanVersionInfo | None
    previous: PlanVersionInfo
    changes: list[Change]
    lifts: pd.DataFrame = field(repr=False)
    budget: Any = None

    @property
    def measurement(self) -> MeasurementSection:
        """The run's findings."""
        assert self.document.measurement is not None
        return self.document.measurement

    def kpi_frame(self) -> pd.DataFrame:
        """Plan against actual, one row per KPI."""
        kpis = {k.id: k for k in self.document.kpis}
        rows = [
            {
                "kpi": a.id,
                "name": kpis[a.id].name,
                "owner": kpis[a.id].owner,
                "baseline": kpis[a.id].baseline,
                "target": kpis[a.id].target,
                "actual": a.actual,
                "progress": a.progress,
                "expected": a.expected,
                "status": a.status,
            }
            for a in self.measurement.kpis
        ]
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: the measurement section, versions and changes."""
        return {
            "measurement": self.measurement.model_dump(mode="json"),
            "previous_version": self.previous.version,
            "version": self.saved.version if self.saved else None,
            "changes": [c.to_dict() for c in self.changes],
        }


def _read_evidence(ev: Evidence, profiles: pd.DataFrame) -> float | None:
    """The current value behind one piece of a KPI's evidence."""
    if ev.table == "segment_profiles":
        rows = profiles[
            (profiles["segment"] == ev.key.get("segment"))
            & (profiles["metric"] == ev.key.get("metric"))
        ]
        if "item" in ev.key:
            rows = rows[rows["item"] == ev.key["item"]]
        if rows.empty or pd.isna(rows["value"].iloc[0]):
            return None
        return float(rows["value"].iloc[0])
    return None


def _kpi_actual(kpi: Kpi, profiles: pd.DataFrame, con: Any) -> float | None:
    """A KPI's value from today's data, read from the same rows its baseline came from.

    Profile-based KPIs sum the current values of the evidence rows that share the first row's
    metric (one row for a segment's KPI; every segment's ``expected_revenue`` for revenue);
    the feature-gap KPI counts the features still marked as gaps.
    """
    if kpi.evidence and kpi.evidence[0].table == "competitor_features":
        if "competitor_features" not in table_names(con):
            return None
        return float(
            con.execute("SELECT count(*) FROM competitor_features WHERE gap").fetchall()[0][0]
        )
    if not kpi.evidence:
        return None
    metric = kpi.evidence[0].key.get("metric")
    values = [
        _read_evidence(ev, profiles)
        for ev in kpi.evidence
        if ev.table == "segment_profiles" and ev.key.get("metric") == metric
    ]
    if not values or any(v is None for v in values):
        return None
    return float(sum(v for v in values if v is not None))


def _elapsed(document: PlanDocument, as_of: date) -> float:
    span = (document.end - document.start).days
    return min(1.0, max(0.0, (as_of - document.start).days / span)) if span > 0 else 1.0


def kpi_actuals(
    document: PlanDocument, profiles: pd.DataFrame, con: Any, as_of: date
) -> tuple[KpiActual, ...]:
    """Plan against actual for every KPI of ``document`` (see :func:`_kpi_actual`)."""
    expected = _elapsed(document, as_of)
    out = []
    for kpi in document.kpis:
        actual = _kpi_actual(kpi, profiles, con)
        if actual is None:
            out.append(
                KpiActual(
                    id=kpi.id, actual=None, progress=None, expected=expected, status="no data"
                )
            )
            continue
        gap = kpi.target - kpi.baseline
        if gap != 0:
            progress = (actual - kpi.baseline) / gap
        else:
            better = actual >= kpi.target if kpi.direction == "increase" else actual <= kpi.target
            progress = 1.0 if better else 0.0
        status = (
            "met" if progress >= 1 else "on track" if progress >= expected - TOLERANCE else "behind"
        )
        ev = Evidence(table="kpi", column="actual", key={"kpi": kpi.id}, value=actual)
        out.append(
            KpiActual(
                id=kpi.id,
                actual=round(actual, 4),
                progress=round(progress, 4),
                expected=round(expected, 4),
                status=status,
                evidence=(ev,),
            )
        )
    return tuple(out)


def _num(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 6)


def lift_lines(lifts: pd.DataFrame) -> tuple[LiftLine, ...]:
    """The plan's record of each campaign's lift, overall and per group."""
    out = []
    for row in lifts.itertuples(index=False):
        out.append(
            LiftLine(
                id=f"{row.campaign}/{row.group}",
                campaign=str(row.campaign),
                group=str(row.group),
                treated=int(row.treated),
                holdout=int(row.holdout),
                conversion_lift=_num(row.conversion_lift),
                conversion_lift_low=_num(row.conversion_lift_low),
                conversion_lift_high=_num(row.conversion_lift_high),
                incremental_revenue=_num(row.incremental_revenue),
                iroas=_num(row.iroas),
            )
        )
    return tuple(out)


def lift_recommendations(lifts: pd.DataFrame) -> list[Recommendation]:
    """One recommendation per campaign (overall row): keep what lifted conversions, revise what
    showed no measurable lift, stop what lowered them."""
    recs = []
    for row in lifts[lifts["group"] == "all"].itertuples(index=False):
        named = isinstance(row.persona, str) and row.persona and row.persona not in row.campaign
        who = f" for {row.persona}" if named else ""
        ev = Evidence(
            table="campaign_lift",
            column="conversion_lift",
            key={"campaign": str(row.campaign), "group": "all"},
            value=_num(row.conversion_lift),
            n=int(row.treated + row.holdout),
        )
        lo, hi, lift = row.conversion_lift_low, row.conversion_lift_high, row.conversion_lift
        if lift is None or pd.isna(lift):
            continue
        interval = f"{lift:+.2%} conversions per send (95% CI {lo:+.2%} to {hi:+.2%})"
        if lo > 0:
            text = (
                f"Keep and extend {row.campaign}{who}: it caused {interval}"
                + (
                    f", iROAS {row.iroas:.2f}"
                    if row.iroas is not None and not pd.isna(row.iroas)
                    else ""
                )
                + "."
            )
        elif hi < 0:
            text = f"Stop {row.campaign}{who}: it lowered conversions, {interval}."
        else:
            text = (
                f"Revise {row.campaign}{who} (message, offer or timing): no measurable lift, "
                f"{interval}; a larger holdout would tell smaller effects apart."
            )
        recs.append(
            Recommendation(
                id=f"campaign-{row.campaign_id}",
                area="campaign",
                owner="marketing",
                text=text,
                evidence=(ev,),
            )
        )
    return recs


def _kpi_recommendations(
    document: PlanDocument, actuals: tuple[KpiActual, ...]
) -> list[Recommendation]:
    kpis = {k.id: k for k in document.kpis}
    recs = []
    for a in actuals:
        if a.status != "behind":
            continue
        k = kpis[a.id]
        recs.append(
            Recommendation(
                id=f"kpi-{k.id}",
                area="kpi",
                owner=k.owner,
                text=(
                    f"{k.name} is behind plan: {a.progress:.0%} of the way from {k.baseline:g} to "
                    f"{k.target:g} with {a.expected:.0%} of the period gone (now {a.actual:g}); "
                    f"{k.owner} to act on it or revise the target."
                ),
                evidence=a.evidence,
            )
        )
    return recs


def current_spend(con: Any, weeks: int = SPEND_WEEKS) -> dict[str, float]:
    """Mean spend per period of each channel over its last ``weeks`` periods (``spend`` table)."""
    if "spend" not in table_names(con):
        return {}
    rows = con.execute(
        "SELECT channel, avg(amount) FROM (SELECT channel, period, sum(amount) AS amount "
        "FROM spend GROUP BY ALL) WHERE period > (SELECT max(period) FROM spend) - to_weeks(?) "
        "GROUP BY channel ORDER BY channel",
        [weeks],
    ).fetchall()
    return {str(ch): float(v) for ch, v in rows if v is not None}


def _budget(
    con: Any, max_change: float
) -> tuple[Any, tuple[BudgetLine, ...], dict[str, float], list[Recommendation]]:
    from streamwise.measure.curves import load_curves

    curves = load_curves(con)
    spend = current_spend(con)
    if not curves or not spend:
        return None, (), {}, []
    from streamwise.measure.budget import optimise_budget

    curves = {ch: c for ch, c in curves.items() if ch in spend}
    current = {ch: spend[ch] for ch in curves}
    total = sum(current.values())
    if not curves or total <= 0:
        return None, (), {}, []
    result = optimise_budget(curves, total, current=current, max_change=max_change)
    frame = result.to_frame().set_index("channel")
    lines = tuple(
        BudgetLine(
            id=ch,
            current=round(current[ch], 2),
            recommended=round(float(frame.loc[ch, "spend"]), 2),
            roi=_num(frame.loc[ch, "roi"]),
            marginal_roi=_num(frame.loc[ch, "marginal_roi"]),
        )
        for ch in curves
    )
    outcome = {k: round(float(v), 6) for k, v in result.summary().items()}
    recs = []
    moves = [
        ln for ln in lines if abs(ln.recommended - ln.current) > MIN_BUDGET_CHANGE * ln.current
    ]
    if moves:
        text = "; ".join(f"{ln.id} {ln.current:,.0f} → {ln.recommended:,.0f}" for ln in moves)
        recs.append(
            Recommendation(
                id="media-budget",
                area="budget",
                owner="marketing",
                text=(
                    f"Re-allocate the weekly media budget of {total:,.0f} (same total): {text}. "
                    + result.describe_uplift()
                ),
                evidence=tuple(
                    Evidence(
                        table="response_curves",
                        column="beta",
                        key={"channel": ln.id},
                        value=ln.marginal_roi,
                    )
                    for ln in moves
                ),
            )
        )
    return result, lines, outcome, recs


def measure_plan(
    workspace: Any,
    questionnaire: str | Path,
    *,
    name: str | None = None,
    as_of: date | None = None,
    cost_per_send: float | None = None,
    max_budget_change: float = 0.3,
    save: bool = True,
    author: str = "",
) -> FeedbackResult:
    """Measure the latest version of the plan and save the findings as its next version.

    Parameters
    ----------
    workspace
        An open workspace with a saved plan.
    questionnaire
        The survey's questionnaire (as for ``streamwise plan build``), to refresh the profiles.
    name
        The plan's name (default: the only or latest plan).
    as_of
        Date of the measurement (default: the last order date in the data).
    cost_per_send
        Cost of one campaign message, for iROAS.
    max_budget_change
        Each channel's recommended spend stays within this share of its current spend.
    save
        Save the new version (otherwise only return it).
    """
    from streamwise.measure.incrementality import workspace_lift
    from streamwise.plan.build import data_through
    from streamwise.plan.personas import build_personas
    from streamwise.plan.profiles import build_profiles

    previous, document = load_plan_version(workspace, name)
    con = workspace.duckdb()
    when = as_of or data_through(con)
    segment_question = str(document.inputs.get("segment_question", "segment_self"))
    profiles = build_profiles(
        workspace, questionnaire, brand=document.brand, segment_question=segment_question
    )
    actuals = kpi_actuals(document, profiles.table, con, when)
    personas = build_personas(
        profiles, currency=document.currency, seed=int(document.inputs.get("seed", 0))
    )
    value = {
        seg: round(v, 2)
        for seg in profiles.segments
        if (v := profiles.value(seg, "clv_mean")) is not None
    }
    lifts = workspace_lift(workspace, by="persona", cost_per_send=cost_per_send)
    budget, lines, outcome, budget_recs = _budget(con, max_budget_change)
    recs = _kpi_recommendations(document, actuals) + lift_recommendations(lifts) + budget_recs
    section = MeasurementSection(
        as_of=when,
        kpis=actuals,
        lifts=lift_lines(lifts),
        segment_value=value,
        budget=lines,
        budget_outcome=outcome,
        recommendations=tuple(recs),
    )
    new = document.model_copy(update={"personas": personas, "measurement": section})
    new = PlanDocument.model_validate(new.model_dump())
    saved = None
    if save:
        saved = save_plan(
            workspace, new, author=author, note=f"measurement run, data through {when.isoformat()}"
        )
    return FeedbackResult(
        document=new,
        saved=saved,
        previous=previous,
        changes=diff_plans(document, new),
        lifts=lifts,
        budget=budget,
    )
