"""Fixtures of the report tests: a hand-built plan, a demo workspace, and a headless Chromium page
(Debian's /usr/bin/chromium driven by Playwright; no browser is ever downloaded)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
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

SEGMENTS = ("Trail Enthusiasts", "Alpine Pros", "Weekend Campers", "Bargain Hunters")
TARGETED = ("Trail Enthusiasts", "Alpine Pros")


def make_plan(
    segments: tuple[str, ...] = SEGMENTS, targeted: tuple[str, ...] = TARGETED
) -> PlanDocument:
    """A small valid plan over ``segments``, targeting ``targeted``."""
    weights = {"size": 0.3, "growth": 0.2, "value": 0.3, "fit": 0.2}
    scores, targets, personas = [], [], []
    for rank, seg in enumerate(segments, start=1):
        s = {c: round(1.0 - 0.2 * (rank - 1) - 0.05 * i, 3) for i, c in enumerate(weights)}
        total = sum(weights[c] * v for c, v in s.items())
        size = 600 - 100 * rank
        raw = {"size": float(size), "growth": 0.05 * rank, "value": 500.0 / rank, "fit": None}
        scores.append(SegmentScore(segment=seg, raw=raw, scores=s, total=total, rank=rank))
        ev = Evidence(
            table="customer_clv", column="clv", key={"segment": seg}, value=500.0 / rank, n=size
        )
        decision = "target" if seg in targeted else "maintain" if rank <= 3 else "deprioritise"
        targets.append(
            Target(
                segment=seg, decision=decision, score=total, rank=rank,
                reasons=(Claim(text=f"{seg} spend {500 / rank:.0f} EUR a year", evidence=(ev,)),),
            )
        )  # fmt: skip
        nps = Evidence(
            table="research_nps", column="score", key={"group": seg}, value=40.0 - 10 * rank, n=200
        )
        personas.append(
            PersonaCard(
                segment=seg, name=f"{seg.split()[0]} Sam", summary=f"A typical {seg} buyer.",
                size=size, share=size / 1400, sufficient_evidence=rank < 4,
                missing=() if rank < 4 else ("research_themes",),
                claims=(
                    Claim(text=f"Recommends us: NPS {40 - 10 * rank:+d}", evidence=(nps,)),
                    Claim(text="Buys online, mostly on weekdays", kind="channel", evidence=(ev,)),
                ),
            )
        )  # fmt: skip
    positioning = tuple(
        Positioning(
            segment=seg, for_whom=f"For {seg.lower()}", need="who need gear that lasts",
            category="Northwind is the outdoor outfitter", differentiator="that repairs for life",
            proof="rated most durable by our buyers",
            statement=f"For {seg.lower()} who need gear that lasts, Northwind is the outdoor "
            "outfitter that repairs for life.",
            evidence=(Evidence(table="competitor_ratings", column="ours", key={"attribute":
                      "durability"}, value=4.69, n=6),),
        )
        for seg in targeted
    )  # fmt: skip
    kpis = (
        Kpi(
            id="kpi-retained", name="Repeat purchase rate", unit="%", baseline=0.31, target=0.36,
            due=date(2026, 12, 31), owner="marketing", segment=targeted[0],
            method="share of customers with a second order within 90 days",
            evidence=(Evidence(table="customer_summary", column="frequency", n=1400),),
        ),
        Kpi(
            id="kpi-nps", name="NPS", unit="points", baseline=11.2, target=20.0,
            due=date(2026, 9, 30), owner="product", direction="increase",
        ),
    )  # fmt: skip
    return PlanDocument(
        name="Northwind 2026",
        company="Northwind Outfitters",
        brand="Northwind",
        currency="EUR",
        start=date(2026, 1, 1),
        end=date(2026, 12, 31),
        summary=f"Grow with {' and '.join(targeted)}; keep the rest profitable.",
        owners={"plan": "Ada Lovelace", "marketing": "Grace Hopper"},
        personas=tuple(personas),
        strategy=StrategySection(
            weights=weights,
            scores=tuple(scores),
            sensitivity=(
                {"criterion": "size", "change": "+20 %", "top_segments": ", ".join(targeted)},
                {"criterion": "growth", "change": "-20 %", "top_segments": ", ".join(targeted)},
            ),
            targets=tuple(targets),
            positioning=positioning,
        ),
        goals=(
            Goal(
                id="goal-loyalty",
                title="Keep our best customers",
                description="More repeat",
                owner="marketing",
                due=date(2026, 12, 31),
                kpis=("kpi-retained",),
            ),
            Goal(
                id="goal-love",
                title="Be recommended",
                description="Raise NPS",
                owner="product",
                due=date(2026, 9, 30),
                kpis=("kpi-nps",),
            ),
        ),
        kpis=kpis,
        timeline=(
            Milestone(
                title="Research refresh",
                start=date(2026, 1, 5),
                end=date(2026, 2, 13),
                owner="marketing",
            ),
            Milestone(
                title="Repair-for-life launch",
                start=date(2026, 3, 1),
                end=date(2026, 5, 31),
                owner="product",
                goal="goal-love",
            ),
            Milestone(
                title="Loyalty campaign",
                start=date(2026, 4, 1),
                end=date(2026, 9, 30),
                owner="marketing",
                goal="goal-loyalty",
            ),
            Milestone(
                title="Sales enablement",
                start=date(2026, 2, 1),
                end=date(2026, 3, 15),
                owner="sales",
            ),
        ),
    )


@pytest.fixture
def plan_doc() -> PlanDocument:
    """A small valid plan over the sample business's segments, targeting :data:`TARGETED`."""
    return make_plan()


@pytest.fixture
def plan_factory() -> Callable[..., PlanDocument]:
    """:func:`make_plan`, for plans over other segments (importlib mode cannot import it)."""
    return make_plan


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The demo workspace (2,000 customers): customers, research and competitors run; market
    trends too when :mod:`streamwise.upstream.trends.workspace` exists."""
    from streamwise.cli.demo import run_demo
    from streamwise.workspace import Workspace

    root = tmp_path_factory.mktemp("reports") / "demo"
    run_demo(root, customers=2000, seed=42, mmm_draws=0)
    ws = Workspace.open(root)
    try:
        from streamwise.upstream.trends.workspace import run_trends
    except ImportError:
        run_trends = None
    if run_trends is not None:
        run_trends(ws)
    yield ws
    ws.close()


class PageWatch:
    """A Playwright page that records console errors and every request it makes."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))

    def open(self, path: Path) -> Any:
        """Load a local HTML file and wait until it has rendered."""
        self.page.goto(path.resolve().as_uri(), wait_until="load")
        return self.page


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[PageWatch]:
    """A fresh headless Chromium page (1280 × 900) that records console errors and requests."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield PageWatch(page)
    context.close()


#: Media results planted in :func:`results_workspace`: channel → (spend, ROI, low, high).
MEDIA = {"search": (52_000.0, 2.437, 1.912, 3.004), "social": (31_000.0, 1.185, 0.731, 1.622),
         "tv": (88_000.0, 0.642, 0.388, 0.911)}  # fmt: skip


def plant_results(ws: Any) -> None:
    """Write small ``channel_attribution``, ``media_roi``, ``response_curves`` and ``spend``
    tables into ``ws``, shaped as the measurement commands write them."""
    import numpy as np
    import pandas as pd

    from streamwise.data.tables import replace_table
    from streamwise.measure.curves import HillCurve, save_curves

    con = ws.duckdb()
    rows = []
    for model, shares in (("markov", (0.5, 0.3, 0.2)), ("last_touch", (0.62, 0.23, 0.15))):
        for channel, share in zip(MEDIA, shares, strict=True):
            effect = share * 1.1 if model == "markov" else np.nan
            rows.append(
                {
                    "model": model,
                    "channel": channel,
                    "conversions": 1000 * share,
                    "value": 80_000 * share,
                    "share": share,
                    "removal_effect": effect,
                }
            )
    replace_table(con, "channel_attribution", pd.DataFrame(rows), ("channel_attribution",))
    roi = pd.DataFrame(
        [
            {"channel": ch, "spend": s, "contribution": s * r / 40, "share": 0.2, "roi": r,
             "roi_low": lo, "roi_high": hi, "marginal_roi": r / 2}
            for ch, (s, r, lo, hi) in MEDIA.items()
        ]
    )  # fmt: skip
    replace_table(con, "media_roi", roi, ("media_roi",))
    rng = np.random.default_rng(0)
    save_curves(
        con,
        {
            ch: HillCurve(ch, 60 * r * rng.uniform(0.9, 1.1, 50), s / 52, 1.5, value_per_unit=40)
            for ch, (s, r, _, _) in MEDIA.items()
        },
    )
    weeks = pd.date_range("2025-01-06", periods=20, freq="W-MON")
    spend = pd.DataFrame(
        [{"channel": ch, "period": w, "amount": s / 52} for ch, (s, *_) in MEDIA.items()
         for w in weeks]
    )  # fmt: skip
    con.register("_spend", spend)
    con.execute(
        "INSERT INTO spend BY NAME SELECT channel, period::DATE AS period, amount FROM _spend"
    )
    con.unregister("_spend")


@pytest.fixture
def results_workspace(tmp_path: Path) -> Iterator[Any]:
    """A fresh workspace with planted measurement results (:func:`plant_results`) and the
    hand-built plan saved, measured: its measurement holds a budget recommendation."""
    from streamwise.plan.document import BudgetLine, MeasurementSection
    from streamwise.plan.store import save_plan
    from streamwise.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws", company="Northwind Outfitters", brand="Northwind")
    plant_results(ws)
    measured = MeasurementSection(
        as_of=date(2026, 6, 30),
        budget=(
            BudgetLine(id="search", current=1000.0, recommended=1300.0, roi=2.4, marginal_roi=1.2),
            BudgetLine(id="social", current=600.0, recommended=600.0, roi=1.2, marginal_roi=0.6),
            BudgetLine(id="tv", current=1700.0, recommended=1400.0, roi=0.64, marginal_roi=0.3),
        ),
    )
    save_plan(ws, make_plan().model_copy(update={"measurement": measured}), author="test")
    yield ws
    ws.close()
