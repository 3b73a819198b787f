"""The Results page through the real app on a demo workspace: the lift it shows is what
``workspace_lift`` computes, each A/B-tested campaign's variants, split check and verdict, and a
budget optimiser whose allocation adds up to the budget entered, keeps within the limits and
returns more for more; bad input is answered 422 with a message, never 500."""

from __future__ import annotations

import html.parser
import itertools
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.web.pages import conftest as H  # noqa: N812 (importlib mode: by dotted path)

from streamwise.downstream.tracking.engagement import WINDOW
from streamwise.downstream.tracking.results import ArmResults, CampaignResults, campaign_results
from streamwise.measure.budget import optimise_budget
from streamwise.measure.curves import HillCurve, save_curves
from streamwise.measure.experiments import srm_check
from streamwise.measure.feedback import current_spend
from streamwise.measure.incrementality import workspace_lift
from streamwise.reports.html import format_cell
from streamwise.store.db import session_factory
from streamwise.store.models import Campaign, CampaignSend, Engagement
from streamwise.web.app import create_app
from streamwise.web.pages.results_experiments import experiment
from streamwise.web.pages.upstream import ReadOnlyWorkspace
from streamwise.workspace import Workspace

BUDGET = "/app/results/budget"


class _Tables(html.parser.HTMLParser):
    """Every table of a page: caption → rows of cell texts (header rows left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._caption: str | None = None
        self._rows: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._caption, self._rows = "", []
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag == "td":
            self._cell = []

    def handle_data(self, data: str) -> None:
        if self._in_caption:
            self._caption = (self._caption or "") + data
        elif self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption":
            self._in_caption = False
        elif tag == "td" and self._cell is not None and self._rows:
            self._rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table" and self._rows is not None:
            self.tables[(self._caption or "").strip()] = [r for r in self._rows if r]
            self._rows = None


def tables(text: str) -> dict[str, list[list[str]]]:
    reader = _Tables()
    reader.feed(text)
    return reader.tables


def number(cell: str) -> float:
    return float(cell.replace(",", "").replace("+", ""))


def _workspace(client: TestClient) -> Any:
    return client.app.state.workspace  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------
# the page, its lift and its experiments


def test_signed_out_visitors_are_sent_to_sign_in(demo_client: TestClient) -> None:
    for path in ("/app/results", BUDGET, f"{BUDGET}?total=100"):
        response = demo_client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=/app/results")


def test_every_role_reads_the_results(demo_client: TestClient) -> None:
    for role in ("product", "sales", "marketing", "admin"):
        assert H.sign_in(demo_client, role).status_code == 303
        page = demo_client.get("/app/results")
        assert page.status_code == 200, role
        assert 'href="/app/results" aria-current="page"' in page.text  # in the menu, current
        assert demo_client.get(BUDGET).status_code == 200, role


def assert_accessible(text: str) -> None:
    """One h1, no heading level skipped, a label for every field, no script."""
    levels = [int(h) for h in re.findall(r"<h([1-6])[\s>]", text)]
    assert levels[0] == 1
    assert levels.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels))
    fields = re.findall(r'<(?:input|select) id="([^"]+)"', text)
    assert fields
    for field_id in fields:
        assert f'<label for="{field_id}">' in text
    assert "<script" not in text


def test_headings_are_in_order_and_inputs_labelled(demo_client: TestClient) -> None:
    H.sign_in(demo_client, "sales")
    assert_accessible(demo_client.get("/app/results").text)


def test_lift_shown_is_what_workspace_lift_computes(demo_client: TestClient) -> None:
    H.sign_in(demo_client, "marketing")
    shown = tables(demo_client.get("/app/results").text)
    rows = shown["Incremental effect against the holdout (95% intervals)"]
    view = ReadOnlyWorkspace(_workspace(demo_client))
    try:
        lifts = workspace_lift(view, by="persona")
    finally:
        view.close()
    overall = lifts[(lifts["group"] == "all") & lifts["conversion_lift"].notna()]
    assert len(overall) >= 2  # the demo sends two campaigns with holdouts
    by_campaign = {r[0]: r for r in rows if r[1] == "all"}
    for lift in overall.itertuples():
        row = by_campaign[lift.campaign]
        assert row[2:5] == [format_cell(lift.treated), format_cell(lift.holdout),
                            f"{lift.conversion_lift:+.2%}"]  # fmt: skip
        assert row[5] == f"{lift.conversion_lift_low:+.2%} … {lift.conversion_lift_high:+.2%}"
        assert row[7] == format_cell(lift.incremental_revenue)


def test_experiments_show_each_variant_the_split_and_the_verdict(
    demo_client: TestClient,
) -> None:
    H.sign_in(demo_client, "product")
    text = demo_client.get("/app/results").text
    shown = tables(text)
    engine = _workspace(demo_client).operational()
    with session_factory(engine)() as session:
        campaigns = session.execute(select(Campaign.id, Campaign.name, Campaign.settings)).all()
    assert len(campaigns) >= 2
    for cid, name, settings in campaigns:
        results = campaign_results(engine, cid)
        arms = [a for a in results.arms if not a.holdout]
        assert len(arms) == 2  # the demo sends variants A and B
        rows = shown[f"Variants of {name}: conversion rate per recipient, difference from A "
                     "(absolute)"]  # fmt: skip
        assert [r[0] for r in rows] == ["A", "B"]
        for row, arm in zip(rows, arms, strict=True):
            assert [number(c) for c in row[2:7]] == [
                arm.recipients,
                arm.sent,
                arm.unique_opens,
                arm.unique_clicks,
                arm.arm_conversions,
            ]
            assert row[7] == f"{arm.arm_conversions / arm.recipients:.2%}"
        weights = [settings["variants"][a.arm].get("weight", 1.0) for a in arms]
        srm = srm_check([a.recipients for a in arms], weights)
        assert f"(χ² p = {srm.p_value:.3g})" in text
    # a few dozen recipients per variant: no verdict yet, and the page says why
    assert text.count("Verdict: too few recipients to decide (at least 200 per variant).") == 2


def _results(a: tuple[int, int], b: tuple[int, int]) -> CampaignResults:
    arms = tuple(ArmResults(arm=name, recipients=n, sent=n, arm_conversions=k)
                 for name, (n, k) in (("A", a), ("B", b)))  # fmt: skip
    holdout = ArmResults(arm="holdout", recipients=100, held_out=100)
    return CampaignResults(1, "Spring", "done", datetime.now(UTC), (*arms, holdout))


def test_a_clear_winner_and_a_broken_split_are_called_as_such() -> None:
    equal = {"A": 1.0, "B": 1.0}
    won = experiment(None, _results((2000, 80), (2000, 140)), equal)
    assert won.verdict == "B wins"
    assert won.srm is not None
    assert not won.srm.mismatch
    b = won.comparisons["B"]
    assert b.effect == pytest.approx(0.03)  # 7% - 4%, absolute
    assert b.ci_low is not None
    assert b.ci_high is not None
    assert b.ci_low < 0.03 < b.ci_high
    assert b.chance_to_win is not None
    assert b.chance_to_win > 0.95
    skewed = experiment(None, _results((2000, 80), (1500, 105)), equal)
    assert skewed.srm is not None
    assert skewed.srm.mismatch
    assert skewed.verdict.startswith("do not trust this test")
    fine = experiment(None, _results((2000, 80), (1500, 105)), {"A": 4.0, "B": 3.0})
    assert fine.srm is not None
    assert not fine.srm.mismatch
    assert fine.verdict == "B wins"
    assert fine.comparisons["B"].effect == pytest.approx(0.07 - 0.04)


def test_a_new_conversion_shows_at_once(demo_client: TestClient) -> None:
    """The page is kept, but not past a change of the ledger or the tracked engagements."""
    H.sign_in(demo_client, "sales")
    engine = _workspace(demo_client).operational()
    with session_factory(engine)() as session:
        cid, name = session.execute(
            select(Campaign.id, Campaign.name).order_by(Campaign.id)
        ).first()
        customer = session.scalars(
            select(CampaignSend.customer_id).where(CampaignSend.campaign_id == cid,
                                                   CampaignSend.arm == "B")
        ).first()  # fmt: skip
    caption = f"Variants of {name}: conversion rate per recipient, difference from A (absolute)"
    before = tables(demo_client.get("/app/results").text)[caption]
    with session_factory(engine)() as session, session.begin():
        session.add(Engagement(kind="conversion", campaign_id=cid, variant="B",
                               customer_id=customer, rule=WINDOW, revenue=25.0))  # fmt: skip
    after = tables(demo_client.get("/app/results").text)[caption]
    assert number(after[1][6]) == number(before[1][6]) + 1


def test_a_bare_workspace_says_what_to_run(client: TestClient) -> None:
    H.sign_in(client, "sales")
    text = client.get("/app/results").text
    assert "No campaign has sent two or more variants yet." in text
    assert "streamwise campaign decide NAME" in text
    assert "streamwise measure attribution" in text
    budget = client.get(BUDGET)
    assert budget.status_code == 200
    assert "no response curves yet" in budget.text
    assert "streamwise measure mmm" in budget.text


# --------------------------------------------------------------------------------------------
# the budget optimiser


@pytest.fixture(scope="module")
def media(demo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The demo with response curves saved for its channels (as ``streamwise measure mmm``
    saves them: draws per channel), signed in as sales."""
    root = tmp_path_factory.mktemp("results-budget") / "ws"
    ws = H.copy_demo(demo_root, root)
    con = ws.duckdb()
    current = current_spend(con)
    rng = np.random.default_rng(7)
    curves = {
        ch: HillCurve(ch, 25 * (i + 1) * rng.uniform(0.85, 1.15, 100), 1.3 * spend,
                      rng.uniform(1.2, 1.8, 100), value_per_unit=40.0)
        for i, (ch, spend) in enumerate(sorted(current.items()))
    }  # fmt: skip
    save_curves(con, curves)
    ws.close()
    ws = Workspace.open(root)
    with TestClient(create_app(ws), follow_redirects=False) as client:
        assert H.sign_in(client, "sales").status_code == 303
        yield SimpleNamespace(client=client, curves=curves, current=current)
    ws.close()


def _allocation(text: str) -> dict[str, list[str]]:
    return {r[0]: r for r in tables(text)["Spend per period by channel"]}


def _expected_return(text: str) -> float:
    rows = {r[0]: r for r in tables(text)["Expected outcome and return per period"]}
    return number(rows["recommended"][3])


def test_default_budget_is_todays_total_split_as_the_optimiser_splits_it(media: Any) -> None:
    response = media.client.get(BUDGET)
    assert response.status_code == 200
    today = sum(media.current.values())
    best = optimise_budget(media.curves, today, current=media.current)
    shown = _allocation(response.text)
    assert set(shown) == set(media.curves)
    for channel, spend in best.allocation.items():
        assert number(shown[channel][2]) == pytest.approx(spend, abs=0.006)
        assert number(shown[channel][1]) == pytest.approx(media.current[channel], abs=0.006)
    assert _expected_return(response.text) == pytest.approx(best.value, abs=0.006)
    assert f"Best split of {today:,.2f} per period" in response.text
    assert_accessible(response.text)


def test_allocation_adds_up_to_the_budget_and_keeps_the_limits(media: Any) -> None:
    channels = sorted(media.curves)
    low, high = channels[0], channels[-1]
    total = 2 * sum(media.current.values())
    query = {"total": f"{total:.2f}", f"min.{low}": "40", f"max.{high}": "3",
             f"min.{high}": "1", "objective": "mean"}  # fmt: skip
    response = media.client.get(BUDGET, params=query)
    assert response.status_code == 200, response.text
    shown = _allocation(response.text)
    spends = {ch: number(row[2]) for ch, row in shown.items()}
    assert sum(spends.values()) == pytest.approx(round(total, 2), abs=0.005 * len(spends))
    assert spends[low] >= 40 - 0.005
    assert 1 - 0.005 <= spends[high] <= 3 + 0.005
    assert shown[low][8] == f"40.00 – {round(total, 2):,.2f}"
    assert shown[high][8] == "1.00 – 3.00"
    assert f'value="{total:.2f}"' in response.text  # the form keeps what was entered


def test_a_larger_budget_never_returns_less(media: Any) -> None:
    today = sum(media.current.values())
    returns = []
    for factor in (0.25, 0.5, 1, 1.5, 2, 4, 8):
        response = media.client.get(BUDGET, params={"total": f"{factor * today:.2f}"})
        assert response.status_code == 200
        returns.append(_expected_return(response.text))
    assert all(b >= a for a, b in itertools.pairwise(returns)), returns
    assert returns[-1] > returns[0]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"total": "lots"}, "The total budget 'lots' is not a number"),
        ({"total": "nan"}, "is not a number"),
        ({"total": "inf"}, "is not a number"),
        ({"total": "-50"}, "The total budget '-50' is negative"),
        ({"total": "1e30"}, "is beyond what the response curves can tell"),
        ({"total": "0"}, "The total budget must be more than zero"),
        ({"total": "9" * 500}, "is not a number"),
        ({"total": "100", "min.nowhere": "5"}, "no response curve for channel 'nowhere'"),
        ({"total": "100", "min.search": "ten"}, "search: at least 'ten' is not a number"),
        ({"total": "100", "min.search": "20", "max.search": "10"}, "is more than at most"),
        ({"total": "100", "objective": "luck"}, "Objective 'luck': use one of mean"),
    ],
)
def test_bad_input_is_refused_with_a_message(media: Any, query: dict[str, str],
                                             message: str) -> None:  # fmt: skip
    response = media.client.get(BUDGET, params=query)
    assert response.status_code == 422
    assert message in response.text.replace("&#39;", "'")
    assert 'role="alert"' in response.text
    assert "Best split" not in response.text


def test_limits_that_cannot_all_be_met_are_refused_with_the_optimisers_reason(
    media: Any,
) -> None:
    mins = {f"min.{ch}": "30" for ch in media.curves}
    response = media.client.get(BUDGET, params={"total": "50", **mins})
    assert response.status_code == 422
    assert "These limits cannot all be met: the lower bounds" in response.text
    assert "raise the total to at least" in response.text


def test_saved_curves_show_without_a_restart(demo_client: TestClient) -> None:
    """The optimiser reads the curves again once the analytics file changes."""
    H.sign_in(demo_client, "admin")
    assert "no response curves yet" in demo_client.get(BUDGET).text
    ws = _workspace(demo_client)
    con = ws.duckdb()
    save_curves(con, {"search": HillCurve("search", 50.0, 10.0, 1.5, value_per_unit=30.0)})
    con.execute("CHECKPOINT")
    page = demo_client.get(BUDGET)
    assert page.status_code == 200
    assert "Best split of" in page.text
    assert "search" in _allocation(page.text)
