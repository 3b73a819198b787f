"""The demo closes the loop: recipients of the sample business react to the e-mail they got,
through the real tracking server on loopback, and the measured results recover the planted
rates (variant B beats A, every machine request is flagged, conversions are credited)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from streamwise.cli.demo import run_demo
from streamwise.downstream.tracking.results import ArmResults
from streamwise.store.models import Engagement
from streamwise.workspace import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return run_demo(tmp_path_factory.mktemp("loop") / "demo", customers=4_000, seed=7, mmm_draws=0)


def _pooled(results, arm: str) -> ArmResults:
    total = ArmResults(arm=arm)
    for r in results:
        total = total + r.arm(arm)
    return total


def test_measured_rates_recover_the_planted_ones(demo: dict) -> None:
    loop = demo["loop"]
    truth = loop.truth
    assert len(loop.results) >= 2  # one campaign per targeted persona
    a, b = _pooled(loop.results, "A"), _pooled(loop.results, "B")
    assert a.sent > 400
    assert b.sent > 400
    for arm in (a, b):
        name = arm.arm.split("+")[-1]
        assert arm.open_rate == pytest.approx(truth.open_rate[name], abs=0.06)
        assert arm.click_to_open_rate == pytest.approx(truth.click_given_open[name], abs=0.08)
    assert b.open_rate > a.open_rate
    assert b.click_rate > a.click_rate
    assert loop.requests["click 302"] == loop.planned["click human"] + loop.planned["click machine"]
    assert not [k for k in loop.requests if not k.endswith((" 200", " 302"))]  # no errors


def test_every_machine_request_is_flagged_and_left_out(demo: dict) -> None:
    loop = demo["loop"]
    flagged_opens = sum(arm.machine_opens for r in loop.results for arm in r.arms)
    flagged_clicks = sum(arm.machine_clicks for r in loop.results for arm in r.arms)
    assert flagged_opens == loop.planned["open machine"] > 0
    assert flagged_clicks == loop.planned["click machine"] > 0
    human_opens = sum(arm.unique_opens for r in loop.results for arm in r.arms)
    assert human_opens == loop.planned["open human"]  # one human open per opener at most


def test_conversions_are_credited_and_the_holdout_is_measured(demo: dict) -> None:
    loop = demo["loop"]
    treated = sum(arm.arm_conversions for r in loop.results for arm in r.arms if not arm.holdout)
    held = sum(r.arm("holdout").arm_conversions for r in loop.results)
    last_click = sum(arm.conversions for r in loop.results for arm in r.arms)
    assert held > 0
    assert treated > held
    assert 0 < last_click <= treated
    assert all(r.arm("holdout").sent == 0 for r in loop.results)
    assert (
        sum(arm.unsubscribes for r in loop.results for arm in r.arms)
        == (loop.planned["unsubscribe human"])
    )


def test_engagement_is_compacted_and_the_truth_saved(demo: dict) -> None:
    loop = demo["loop"]
    with Workspace.open(demo["workspace"]) as ws:
        with ws.operational().connect() as con:
            stored = con.execute(select(func.count()).select_from(Engagement)).scalar()
        con = ws.duckdb()
        (copied,) = con.execute("SELECT count(*) FROM email_engagement").fetchone()
        (touch,) = con.execute(
            "SELECT count(*) FROM touchpoints WHERE channel = 'email' AND campaign LIKE 'demo:%'"
        ).fetchone()
    assert copied == stored == loop.compaction.engagements_appended
    human = loop.planned["open human"] + loop.planned["click human"]
    assert touch == human == loop.compaction.touchpoints_appended
    assert loop.compaction.events_appended == loop.planned["purchase human"] > 0
    truth = json.loads(Path(demo["truth"]).read_text())["email_reactions"]
    assert truth["open_rate"] == loop.truth.open_rate
