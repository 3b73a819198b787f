"""``streamwise plan show|export|versions|diff|import`` on a workspace with a saved plan."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from streamwise.cli.plan import app
from streamwise.plan.document import (
    Claim,
    Goal,
    Kpi,
    Milestone,
    PlanDocument,
    Positioning,
    StrategySection,
    Target,
)
from streamwise.plan.export import plan_from_yaml, plan_to_yaml
from streamwise.plan.store import load_plan, plan_versions, save_plan
from streamwise.workspace import Workspace

ENV = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}


def small_plan(target: float = 1500.0) -> PlanDocument:
    """A hand-built plan: one target segment, one positioning, one goal with two KPIs."""
    return PlanDocument(
        name="fy27",
        company="T",
        brand="B",
        currency="EUR",
        start=date(2027, 1, 1),
        end=date(2027, 12, 31),
        summary="Win weekend campers.",
        owners={"marketing": "Mo", "sales": "Sam", "product": "Pat"},
        personas=(),
        strategy=StrategySection(
            weights={"size": 0.5, "clv": 0.5},
            scores=(),
            sensitivity=(),
            targets=(
                Target(segment="campers", decision="target", score=0.81, rank=1,
                       reasons=(Claim(text="highest CLV"),)),
                Target(segment="hikers", decision="deprioritise", score=0.2, rank=2, reasons=()),
            ),
            positioning=(
                Positioning(segment="campers", for_whom="weekend campers", need="fast set-up",
                            category="tent", differentiator="90-second pitch", proof="tests",
                            statement="For weekend campers, the tent that pitches in 90 s.",
                            evidence=()),
            ),
        ),
        goals=(
            Goal(id="grow", title="Grow campers", description="More of them, staying longer.",
                 owner="marketing", due=date(2027, 12, 31), kpis=("retained", "clv")),
        ),
        kpis=(
            Kpi(id="retained", name="Retained campers", unit="customers", baseline=1200,
                target=target, due=date(2027, 6, 30), owner="marketing"),
            Kpi(id="clv", name="Mean CLV", unit="EUR", baseline=412.5, target=450,
                due=date(2027, 12, 31), owner="sales"),
        ),
        timeline=(
            Milestone(title="Spring push", start=date(2027, 3, 1), end=date(2027, 4, 30),
                      owner="marketing", goal="grow"),
        ),
    )  # fmt: skip


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = Workspace.init(tmp_path / "ws", company="T", brand="B")
    yield workspace
    workspace.close()


@pytest.fixture
def saved(ws: Workspace) -> Workspace:
    """The workspace with two versions of the plan (target 1500, then 1700)."""
    save_plan(ws, small_plan(), author="ana", note="first cut")
    save_plan(ws, small_plan(1700), author="bo", note="stretch target")
    return ws


def run(ws: Workspace, *args: str) -> Result:
    return CliRunner().invoke(app, [*args, "-w", str(ws.root)], env=ENV)


def test_show_prints_the_plan(saved: Workspace) -> None:
    result = run(saved, "show")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Plan fy27 version 2 - T / B, 2027-01-01 to 2027-12-31 (EUR)" in out
    assert "by bo: stretch target" in out
    assert "Win weekend campers." in out
    assert "marketing: Mo" in out
    assert "campers" in out
    assert "deprioritise" in out
    assert "For weekend campers, the tent that pitches in 90 s." in out
    assert "Grow campers (grow) - marketing, due 2027-12-31" in out
    assert "retained Retained campers: 1,200 → 1,700 customers ↑ by 2027-06-30 (marketing)" in out
    assert "clv Mean CLV: 412.5 → 450 EUR" in out
    assert "Spring push" in out
    assert "2027-03-01" in out


def test_show_an_older_version_and_errors(saved: Workspace, tmp_path: Path) -> None:
    result = run(saved, "show", "--version", "1", "--name", "fy27")
    assert result.exit_code == 0, result.output
    assert "1,200 → 1,500 customers" in result.stdout
    result = run(saved, "show", "--version", "9")
    assert result.exit_code == 1
    assert "plan 'fy27' has no version 9; versions are 1–2" in result.output
    empty = Workspace.init(tmp_path / "empty")
    result = run(empty, "show")
    assert result.exit_code == 1
    assert "no plan saved yet; build one with `streamwise plan build`" in result.output


def test_export_yaml_and_json(saved: Workspace, tmp_path: Path) -> None:
    result = run(saved, "export")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Marketing plan 'fy27', version 2")
    assert plan_from_yaml(result.stdout) == small_plan(1700)
    result = run(saved, "export", "--format", "json", "--version", "1")
    assert json.loads(result.stdout) == small_plan().to_dict()
    out = tmp_path / "exported" / "plan.yaml"
    result = run(saved, "export", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert f"Wrote plan fy27 version 2 to {out}" in result.stdout.replace("\n", "")
    assert plan_from_yaml(out.read_text()) == small_plan(1700)
    result = run(saved, "export", "--format", "pdf")
    assert result.exit_code == 2


def test_export_html(saved: Workspace, tmp_path: Path) -> None:
    if importlib.util.find_spec("streamwise.reports") is None or (
        importlib.util.find_spec("streamwise.reports.plan") is None
    ):
        pytest.skip("streamwise.reports.plan.plan_html is being written in parallel; remove this")
    out = tmp_path / "plan.html"
    result = run(saved, "export", "--format", "html", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "fy27" in out.read_text()


def test_versions_lists_author_note_and_hash(saved: Workspace) -> None:
    result = run(saved, "versions")
    assert result.exit_code == 0, result.output
    infos = plan_versions(saved, "fy27")
    lines = [line for line in result.stdout.splitlines() if infos[0].content_hash[:12] in line]
    assert len(lines) == 1
    assert "ana" in lines[0]
    assert "first cut" in lines[0]
    assert infos[0].created_at.strftime("%Y-%m-%d") in lines[0]
    assert infos[1].content_hash[:12] in result.stdout
    assert "stretch target" in result.stdout


def test_diff_defaults_to_previous_against_latest(saved: Workspace) -> None:
    result = run(saved, "diff")
    assert result.exit_code == 0, result.output
    assert "version 1 → 2, 1 change" in result.stdout
    assert "kpis[retained].target: 1500 → 1700" in result.stdout
    result = run(saved, "diff", "--from", "2", "--to", "1")
    assert "kpis[retained].target: 1700 → 1500" in result.stdout
    result = run(saved, "diff", "--to", "1")
    assert result.exit_code == 1
    assert "has only version 1; nothing to compare" in result.output


def test_export_edit_import_loop(saved: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    assert run(saved, "export", "-o", str(path)).exit_code == 0
    path.write_text(path.read_text().replace("  target: 450.0\n", "  target: 480\n"))

    result = run(saved, "import", str(path), "--author", "cy", "--note", "raise CLV", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Would save plan fy27: 1 changes." in result.stdout
    assert [v.version for v in plan_versions(saved, "fy27")] == [1, 2]

    result = run(saved, "import", str(path), "--author", "cy", "--note", "raise CLV")
    assert result.exit_code == 0, result.output
    assert "Saved plan fy27 version 3 (1 change)" in result.stdout
    assert "kpis[clv].target: 450 → 480" in result.stdout
    latest = plan_versions(saved, "fy27")[-1]
    assert (latest.version, latest.author, latest.note) == (3, "cy", "raise CLV")
    assert load_plan(saved).kpis[1].target == 480.0

    result = run(saved, "import", str(path), "--note", "again")
    assert result.exit_code == 0, result.output
    assert "unchanged (same as version 3); nothing saved" in result.stdout
    assert len(plan_versions(saved, "fy27")) == 3


def test_import_a_new_plan(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(plan_to_yaml(small_plan()))
    result = run(ws, "import", str(path), "--author", "ana")
    assert result.exit_code == 0, result.output
    assert "Saved plan fy27 version 1 (new plan)" in result.stdout
    assert load_plan(ws) == small_plan()


def test_import_refuses_bad_and_hostile_yaml(saved: Workspace, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(plan_to_yaml(small_plan()).replace("owner: sales", "owner: finance"))
    result = run(saved, "import", str(bad))
    assert result.exit_code == 1
    # The path reads kpis[clv].owner; cli.common.errors prints it as Rich markup, which eats
    # "[clv]" until it escapes the message (see tests/plan/test_export.py for the full path).
    assert ".owner: Input should be 'product', 'sales' or 'marketing'" in result.output
    assert str(bad) in result.output
    hostile = tmp_path / "hostile.yaml"
    marker = tmp_path / "pwned"
    hostile.write_text(f'!!python/object/apply:os.system ["touch {marker}"]\n')
    result = run(saved, "import", str(hostile))
    assert result.exit_code == 1
    assert "not a readable plan YAML" in result.output
    assert not marker.exists()
    assert len(plan_versions(saved, "fy27")) == 2
    assert run(saved, "import", str(tmp_path / "missing.yaml")).exit_code == 2
