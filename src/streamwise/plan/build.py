"""Build the marketing plan from a workspace: profiles → personas → attractiveness → targets →
positioning → goals, KPIs and timeline, as one :class:`~streamwise.plan.document.PlanDocument`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from streamwise.data.tables import table_names
from streamwise.plan.document import TEAMS, PlanDocument, StrategySection
from streamwise.plan.kpis import goals_and_kpis, timeline
from streamwise.plan.personas import build_personas
from streamwise.plan.positioning import positioning
from streamwise.plan.profiles import SegmentProfiles, build_profiles
from streamwise.plan.strategy import attractiveness, check_weights, sensitivity, targeting

__all__ = ["DEFAULT_AMBITION", "DEFAULT_OWNERS", "PlanBuild", "build_plan", "data_through"]

DEFAULT_OWNERS = {"product": "Head of Product", "sales": "Head of Sales",
                  "marketing": "Head of Marketing"}  # fmt: skip
DEFAULT_AMBITION = {"active": 0.05, "clv": 0.10, "nps": 5.0}


@dataclass(frozen=True)
class PlanBuild:
    """The plan and what it was built from."""

    document: PlanDocument
    profiles: SegmentProfiles = field(repr=False)
    sensitivity: pd.DataFrame = field(repr=False)


def _table(con: Any, name: str) -> pd.DataFrame | None:
    if name not in table_names(con):
        return None
    return con.execute(f'SELECT * FROM "{name}"').df()  # noqa: S608 - fixed names


def data_through(con: Any) -> date:
    """The last day the workspace's data cover: the last order, else the last survey answer,
    else today. A plan is built, and measured, as of this day."""
    last = con.execute("SELECT max(order_date) FROM orders").fetchone()[0]
    if last is None:
        last = con.execute("SELECT max(answered_at) FROM survey_responses").fetchone()[0]
    return pd.Timestamp(last).date() if last is not None else date.today()


def build_plan(
    workspace: Any,
    questionnaire: str | Path,
    *,
    name: str = "Marketing plan",
    weights: Mapping[str, float] | None = None,
    n_targets: int = 2,
    segment_question: str = "segment_self",
    owners: Mapping[str, str] | None = None,
    ambition: Mapping[str, float] | None = None,
    seed: int = 0,
) -> PlanBuild:
    """Build the plan (not saved: pass ``document`` to :func:`streamwise.plan.store.save_plan`).

    The plan starts on the first day of the month after the data ends and runs a year, so the
    same data, settings and seed always give the same document.
    """
    settings = workspace.settings
    brand, currency = settings.brand, settings.currency
    w = check_weights(weights)
    amb = {**DEFAULT_AMBITION, **(ambition or {})}
    who = {**DEFAULT_OWNERS, **(owners or {})}
    profiles = build_profiles(workspace, questionnaire, brand=brand,
                              segment_question=segment_question)  # fmt: skip
    con = workspace.duckdb()
    through = data_through(con)
    start = (through.replace(day=1) + timedelta(days=32)).replace(day=1)
    end = date(start.year + 1, start.month, 1) - timedelta(days=1)
    personas = build_personas(profiles, currency=currency, seed=seed)
    scores = attractiveness(profiles, w)
    sens = sensitivity(scores, w, n_targets)
    targets = targeting(profiles, scores, w, n_targets=n_targets, currency=currency)
    competitors = _table(con, "competitors")
    names = {p.segment: p.name for p in personas}
    positions = tuple(
        positioning(profiles, competitors, brand, t.segment, names[t.segment])
        for t in targets
        if t.decision == "target" and competitors is not None and len(competitors)
    )
    goals, kpis = goals_and_kpis(profiles, targets, _table(con, "competitor_features"),
                                 start=start, end=end, ambition=amb)  # fmt: skip
    chosen = [t for t in targets if t.decision == "target"]
    why = "; ".join(
        f"{t.segment} ({', '.join(r.text.split(':')[0] for r in t.reasons[:2])})" for t in chosen
    )
    summary = (
        f"Target {' and '.join(t.segment for t in chosen)} from {start:%B %Y} to {end:%B %Y}; "
        f"strongest criteria: {why}. Data through {through:%d %B %Y}."
    )
    document = PlanDocument(
        name=name, company=settings.company, brand=brand, currency=currency,
        start=start, end=end, summary=summary,
        owners={team: who[team] for team in TEAMS},
        personas=personas,
        strategy=StrategySection(
            weights=w, scores=scores,
            sensitivity=tuple(sens.to_dict(orient="records")),
            targets=targets, positioning=positions,
        ),
        goals=goals, kpis=kpis, timeline=timeline(targets, profiles, goals, start),
        inputs={"questionnaire": Path(questionnaire).name, "segment_question": segment_question,
                "n_targets": n_targets, "seed": seed, "ambition": amb,
                "data_through": through.isoformat()},
    )  # fmt: skip
    return PlanBuild(document=document, profiles=profiles, sensitivity=sens)
