"""The feedback run: KPIs re-read from the rows their baselines came from, campaign lift against
the planted reactions, recommendations, and the plan's next version that `plan diff` shows."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from streamwise.cli.app import app
from streamwise.cli.demo import run_demo
from streamwise.measure.feedback import kpi_actuals, lift_recommendations
from streamwise.plan.document import Evidence, Kpi, PlanDocument, StrategySection
from streamwise.plan.store import load_plan, plan_versions
from streamwise.workspace import Workspace


def _ev(segment: str, metric: str) -> Evidence:
    return Evidence(
        table="segment_profiles", column="value", key={"segment": segment, "metric": metric}
    )


def _kpi(id: str, baseline: float, target: float, *evidence: Evidence, **kw) -> Kpi:
    return Kpi(
        id=id,
        name=id,
        unit="x",
        baseline=baseline,
        target=target,
        due=date(2027, 12, 31),
        owner="marketing",
        evidence=evidence,
        **kw,
    )


def _plan(*kpis: Kpi) -> PlanDocument:
    strategy = StrategySection(weights={}, scores=(), sensitivity=(), targets=(), positioning=())
    return PlanDocument(
        name="p",
        company="c",
        brand="b",
        currency="EUR",
        start=date(2027, 1, 1),
        end=date(2027, 12, 31),
        summary="",
        owners={},
        personas=(),
        strategy=strategy,
        goals=(),
        kpis=kpis,
        timeline=(),
    )


def test_kpi_actuals_read_the_rows_the_baseline_came_from() -> None:
    profiles = pd.DataFrame(
        {
            "segment": ["campers", "campers", "hikers", "campers"],
            "metric": ["active_customers", "expected_revenue", "expected_revenue", "market_growth"],
            "item": [None, None, None, None],
            "value": [130.0, 1000.0, 500.0, 0.05],
        }
    )
    doc = _plan(
        _kpi(
            "active", 100, 140, _ev("campers", "active_customers"), _ev("campers", "market_growth")
        ),
        _kpi(
            "revenue",
            1200,
            1800,
            _ev("campers", "expected_revenue"),
            _ev("hikers", "expected_revenue"),
        ),
        _kpi("churn", 0.2, 0.1, _ev("campers", "active_customers"), direction="decrease"),
        _kpi("nps", 10, 20, _ev("hikers", "nps")),
        _kpi(
            "gaps",
            3,
            2,
            Evidence(table="competitor_features", column="gap", key={"feature": "x"}),
            direction="decrease",
        ),
    )
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE competitor_features AS SELECT * FROM (VALUES ('x', true), "
        "('y', true), ('z', false)) t(feature, gap)"
    )
    at = {a.id: a for a in kpi_actuals(doc, profiles, con, date(2027, 7, 2))}
    assert at["active"].actual == 130.0  # its own row, not + market growth
    assert at["active"].progress == pytest.approx(30 / 40)
    assert at["active"].expected == pytest.approx(182 / 364, abs=1e-3)
    assert at["active"].status == "on track"
    assert at["revenue"].actual == 1500.0  # both segments' rows summed
    assert at["revenue"].progress == pytest.approx(0.5)
    assert at["churn"].progress < 0
    assert at["churn"].status == "behind"
    assert at["nps"].status == "no data"
    assert at["nps"].actual is None
    assert at["gaps"].actual == 2.0
    assert at["gaps"].status == "met"
    early = {a.id: a for a in kpi_actuals(doc, profiles, con, date(2026, 6, 1))}
    assert early["active"].expected == 0.0  # before the plan starts


def test_lift_recommendations_keep_revise_and_stop() -> None:
    rows = pd.DataFrame(
        {
            "campaign_id": [1, 2, 3, 3],
            "campaign": ["good", "flat", "bad", "bad"],
            "persona": ["Wendy", None, "Tom", "Tom"],
            "group": ["all", "all", "all", "Tom"],
            "treated": [900] * 4,
            "holdout": [100] * 4,
            "conversion_lift": [0.02, 0.001, -0.03, -0.03],
            "conversion_lift_low": [0.01, -0.01, -0.05, -0.05],
            "conversion_lift_high": [0.03, 0.012, -0.01, -0.01],
            "iroas": [3.5, None, None, None],
        }
    )
    recs = {r.id: r.text for r in lift_recommendations(rows)}
    assert list(recs) == ["campaign-1", "campaign-2", "campaign-3"]  # overall rows only
    assert recs["campaign-1"].startswith("Keep and extend good for Wendy")
    assert "iROAS 3.50" in recs["campaign-1"]
    assert recs["campaign-2"].startswith("Revise flat (")
    assert recs["campaign-3"].startswith("Stop bad for Tom")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return run_demo(tmp_path_factory.mktemp("feedback") / "demo", customers=2_000, seed=7)


@pytest.mark.slow
def test_the_demo_measures_its_plan_into_version_2(demo: dict) -> None:
    run = demo["feedback"]
    assert run.saved.version == 2
    assert run.previous.version == 1
    with Workspace.open(demo["workspace"]) as ws:
        assert [v.version for v in plan_versions(ws)] == [1, 2]
        v1, v2 = load_plan(ws, version=1), load_plan(ws, version=2)
    assert v1.measurement is None
    assert v2.measurement == run.measurement
    assert [a.id for a in v2.measurement.kpis] == [k.id for k in v1.kpis]
    baselines = {k.id: k for k in v1.kpis}
    for a in v2.measurement.kpis:
        k = baselines[a.id]
        if k.evidence and k.evidence[0].table == "segment_profiles" and a.actual is not None:
            # the data did not change since the plan was built: the same rows, the same values
            assert a.actual == pytest.approx(
                k.baseline, abs=0.051 if k.unit != "currency" else 0.006
            ), k.id
            assert abs(a.progress) < 0.01  # only the baseline's rounding
    assert {a.status for a in v2.measurement.kpis} <= {"on track", "no data", "met"}
    assert v2.measurement.segment_value  # mean CLV per segment
    # the media mix model saved its curves: the budget is re-allocated within ±30 %
    lines = {b.id: b for b in v2.measurement.budget}
    assert set(lines) == {c["channel"] for c in demo["media"].table.to_dict("records")}
    total = sum(b.current for b in lines.values())
    assert sum(b.recommended for b in lines.values()) == pytest.approx(total, rel=1e-4)
    for b in lines.values():
        assert 0.7 * b.current - 0.01 <= b.recommended <= 1.3 * b.current + 0.01, b.id
    assert v2.measurement.budget_outcome
    paths = [c.path for c in run.changes]
    assert any(p.startswith("measurement.kpis[") for p in paths)
    assert any(p.startswith("measurement.recommendations[") for p in paths)


@pytest.mark.slow
def test_the_measured_lift_covers_the_planted_lift(demo: dict) -> None:
    truth = json.loads(Path(demo["truth"]).read_text())["email_reactions"]
    b = truth["baseline_conversion"]
    lifts = demo["feedback"].lifts
    overall = lifts[lifts["group"] == "all"]
    assert len(overall) == len(demo["campaigns"])
    for row in overall.itertuples(index=False):
        res = next(r for r in demo["loop"].results if r.campaign == row.campaign)
        arms = [a for a in res.arms if not a.holdout]
        planted = sum(
            a.recipients
            * truth["open_rate"][a.arm]
            * truth["click_given_open"][a.arm]
            * truth["convert_given_click"]
            * (1 - b)
            for a in arms
        ) / sum(a.recipients for a in arms)
        assert row.conversion_lift_low <= planted <= row.conversion_lift_high, row.campaign
        persona_rows = lifts[(lifts["campaign"] == row.campaign) & (lifts["group"] != "all")]
        assert persona_rows["treated"].sum() <= row.treated


@pytest.mark.slow
def test_cli_lift_diff_and_a_second_run_that_changes_nothing(demo: dict) -> None:
    runner = CliRunner()
    ws = str(demo["workspace"])
    out = runner.invoke(app, ["measure", "lift", "-w", ws, "--json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert {r["group"] for r in rows} >= {"all"}
    table = runner.invoke(app, ["measure", "lift", "-w", ws, "--by", "none"])
    assert table.exit_code == 0
    assert "Incremental effect" in table.stdout
    diff = runner.invoke(app, ["plan", "diff", "-w", ws])
    assert diff.exit_code == 0, diff.output
    assert "version 1 → 2" in diff.stdout
    assert "measurement.kpis[" in diff.stdout
    show = runner.invoke(app, ["plan", "show", "-w", ws])
    assert show.exit_code == 0
    assert "Measured on data through" in show.stdout
    again = runner.invoke(app, ["measure", "feedback", "-w", ws, "-q", str(demo["questionnaire"])])
    assert again.exit_code == 0, again.output
    assert "Plan against actual" in again.stdout
    with Workspace.open(demo["workspace"]) as w:
        assert [v.version for v in plan_versions(w)] == [1, 2]  # same data: nothing new


@pytest.mark.slow
def test_cli_attribution_and_experiment_on_the_demo(demo: dict) -> None:
    runner = CliRunner()
    ws = str(demo["workspace"])
    out = runner.invoke(app, ["measure", "attribution", "-w", ws, "--order", "2", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    rows = pd.DataFrame(data["rows"])
    assert set(rows["model"]) == {
        "first",
        "last",
        "linear",
        "position",
        "time_decay",
        "markov2",
        "shapley",
    }
    with Workspace.open(demo["workspace"]) as w:
        con = w.duckdb()
        converted = con.execute("SELECT sum(conversions) FROM attribution_paths").fetchall()[0][0]
        saved = con.execute("SELECT count(*) FROM channel_attribution").fetchall()[0][0]
    assert saved == len(rows)
    for model, part in rows.groupby("model"):  # every model credits every conversion once
        assert part["conversions"].sum() == pytest.approx(converted), model
        assert part["share"].sum() == pytest.approx(1.0), model
    markov = rows[rows["model"] == "markov2"]
    assert markov["removal_effect"].between(0, 1).all()
    table = runner.invoke(app, ["measure", "attribution", "-w", ws, "--model", "last"])
    assert table.exit_code == 0
    assert "Conversions credited" in table.stdout
    bad = runner.invoke(app, ["measure", "attribution", "-w", ws, "--model", "magic"])
    assert bad.exit_code == 1
    assert "unknown attribution model" in bad.output
    exp = runner.invoke(
        app,
        ["measure", "experiment", "--control", "10000:1000", "--treatment", "10000:1100", "--json"],
    )
    assert exp.exit_code == 0, exp.output
    result = json.loads(exp.stdout)
    assert result["result"]["chance_to_win"] == pytest.approx(0.986, abs=1e-3)
    assert result["srm_p_value"] == pytest.approx(1.0)
    typo = runner.invoke(app, ["measure", "experiment", "--control", "10k", "--treatment", "1:1"])
    assert typo.exit_code == 1
    assert "N:CONVERSIONS" in typo.output


@pytest.mark.slow
def test_the_plan_page_shows_the_measurement(demo: dict) -> None:
    from streamwise.reports.plan import plan_html

    with Workspace.open(demo["workspace"]) as ws:
        v1, v2 = load_plan(ws, version=1), load_plan(ws, version=2)
    page = plan_html(v2, version=2)
    assert "Measurement: plan against actual" in page
    assert "What the campaigns caused" in page  # the lift chart
    assert "Media budget: today and recommended" in page
    for rec in v2.measurement.recommendations:
        assert rec.text.split(":")[0] in page
    assert "Measurement: plan against actual" not in plan_html(v1, version=1)
