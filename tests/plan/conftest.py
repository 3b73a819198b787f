"""A small, complete marketing plan for the plan tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from streamwise.plan.document import (
    Claim,
    Evidence,
    Goal,
    Kpi,
    Milestone,
    PersonaCard,
    PlanDocument,
    Positioning,
    SegmentScore,
    StrategySection,
    Target,
)


def build_plan(**changes: Any) -> PlanDocument:
    """A valid plan with two segments, two goals, three KPIs and a timeline; ``changes``
    replace top-level fields."""
    size = Evidence(table="customer_segments", column="customers", key={"segment": "campers"},
                    value=1200, n=1200)  # fmt: skip
    clv = Evidence(table="customer_clv", column="clv", key={"segment": "campers"},
                   value=412.5, n=1200)  # fmt: skip
    personas = (
        PersonaCard(
            segment="campers", name="Weekend Wendy", summary="Buys light tents for weekends.",
            size=1200, share=0.3, sufficient_evidence=True,
            claims=(Claim(text="Spends 412 over her lifetime", kind="value", evidence=(clv,)),),
        ),
        PersonaCard(
            segment="hikers", name="Trail Tom", summary="Replaces boots every season.",
            size=2800, share=0.7, sufficient_evidence=False, missing=("survey_responses",),
            claims=(Claim(text="Too few survey answers", kind="caveat"),),
        ),
    )  # fmt: skip
    strategy = StrategySection(
        weights={"size": 0.4, "clv": 0.6},
        scores=(
            SegmentScore(segment="campers", raw={"size": 1200.0, "clv": 412.5},
                         scores={"size": 0.3, "clv": 1.0}, total=0.72, rank=1),
            SegmentScore(segment="hikers", raw={"size": 2800.0, "clv": None},
                         scores={"size": 1.0, "clv": 0.0}, total=0.4, rank=2),
        ),
        sensitivity=({"weight": "clv", "delta": 0.1, "rank_changes": 0},),
        targets=(
            Target(segment="campers", decision="target", score=0.72, rank=1,
                   reasons=(Claim(text="Highest CLV", evidence=(clv,)),)),
            Target(segment="hikers", decision="maintain", score=0.4, rank=2, reasons=()),
        ),
        positioning=(
            Positioning(
                segment="campers", for_whom="weekend campers", need="pitch camp in minutes",
                category="lightweight tent", differentiator="sets up in 90 seconds",
                proof="rated 4.6 on set-up speed",
                statement="For weekend campers who need to pitch camp in minutes, our tent ...",
                evidence=(size,),
            ),
        ),
    )  # fmt: skip
    kpis = (
        Kpi(id="kpi-retained", name="Retained campers", unit="customers", baseline=1200,
            target=1500, due=date(2027, 6, 30), owner="marketing", segment="campers",
            method="customers active in the last 90 days", evidence=(size,)),
        Kpi(id="kpi-clv", name="Mean CLV", unit="USD", baseline=412.5, target=450,
            due=date(2027, 12, 31), owner="sales", segment="campers"),
        Kpi(id="kpi-returns", name="Return rate", unit="%", baseline=8.0, target=6.0,
            due=date(2027, 12, 31), direction="decrease", owner="product"),
    )  # fmt: skip
    goals = (
        Goal(id="goal-grow", title="Grow the camper base", description="Win and keep campers.",
             owner="marketing", due=date(2027, 12, 31), kpis=("kpi-retained", "kpi-clv")),
        Goal(id="goal-quality", title="Fewer returns", description="Fix the zipper.",
             owner="product", due=date(2027, 12, 31), kpis=("kpi-returns",)),
    )  # fmt: skip
    timeline = (
        Milestone(title="Spring campaign", start=date(2027, 3, 1), end=date(2027, 4, 30),
                  owner="marketing", goal="goal-grow"),
        Milestone(title="New zipper", start=date(2027, 1, 15), end=date(2027, 5, 31),
                  owner="product", goal="goal-quality"),
    )  # fmt: skip
    fields: dict[str, Any] = {
        "name": "plan-2027",
        "company": "Test Co",
        "brand": "Testbrand",
        "currency": "USD",
        "start": date(2027, 1, 1),
        "end": date(2027, 12, 31),
        "summary": "Target weekend campers; maintain hikers.\nSecond line: ünïcödé.",
        "owners": {"product": "Pat", "sales": "Sam", "marketing": "Mo"},
        "personas": personas,
        "strategy": strategy,
        "goals": goals,
        "kpis": kpis,
        "timeline": timeline,
        "inputs": {"as_of": "2026-12-31", "flags": ["yes", "no", "1.0", "null"], "seed": 7},
    }
    fields.update(changes)
    return PlanDocument(**fields)


def change_kpi(document: PlanDocument, kpi_id: str, **changes: Any) -> PlanDocument:
    """``document`` with the KPI ``kpi_id`` changed (validated, as a saved plan would be)."""
    data = document.model_dump()
    data["kpis"] = [{**k, **changes} if k["id"] == kpi_id else k for k in data["kpis"]]
    return PlanDocument.model_validate(data)


@pytest.fixture
def plan_doc() -> PlanDocument:
    """The plan of :func:`build_plan`."""
    return build_plan()


@pytest.fixture
def make_plan() -> Callable[..., PlanDocument]:
    """:func:`build_plan`, for tests that need variants."""
    return build_plan


@pytest.fixture
def with_kpi() -> Callable[..., PlanDocument]:
    """:func:`change_kpi`: ``with_kpi(document, kpi_id, **changes)``."""
    return change_kpi
