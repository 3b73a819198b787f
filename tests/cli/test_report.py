"""``streamwise report``: writes one self-contained file, says where and what is in it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from streamwise.cli.app import app
from streamwise.data.tables import replace_table
from streamwise.workspace import Workspace

ENV = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
ROI = {"search": 2.437, "social": 1.185, "tv": 0.642}


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    """A workspace with a ``media_roi`` table and nothing else measured."""
    workspace = Workspace.init(tmp_path / "ws", company="Acme", brand="Acme")
    roi = pd.DataFrame(
        [
            {"channel": ch, "spend": 1000.0 * (i + 1), "contribution": 25.0 * (i + 1),
             "roi": r, "roi_low": r * 0.7, "roi_high": r * 1.3, "marginal_roi": r / 2}
            for i, (ch, r) in enumerate(ROI.items())
        ]
    )  # fmt: skip
    replace_table(workspace.duckdb(), "media_roi", roi, ("media_roi",))
    yield workspace
    workspace.close()


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["report", *args], env=ENV)


def test_report_writes_report_html_in_the_workspace(ws: Workspace) -> None:
    result = run("-w", str(ws.root))
    assert result.exit_code == 0, result.output
    path = ws.root / "report.html"
    assert path.is_file()
    out = " ".join(result.stdout.split())  # undo Rich's line wrapping
    assert f"Wrote {path.resolve()}" in out
    assert "Latest results: Media mix: return on spend" in out
    assert "The plan: nothing yet" in out
    assert "Not yet in the workspace: Who to target and why" in out
    assert "Channel attribution" in out.split("Not yet in the workspace:")[1]
    html = path.read_text(encoding="utf-8")
    for channel, roi in ROI.items():
        assert f">{channel}</td>" in html
        assert f">{roi:.2f}</td>" in html
    assert "<script" not in html
    assert "streamwise measure attribution" in html  # the hint, not a failure
    assert "streamwise plan build -q QUESTIONNAIRE" in html


def test_report_output_option(ws: Workspace, tmp_path: Path) -> None:
    target = tmp_path / "out" / "acme.html"
    result = run("--workspace", str(ws.root), "--output", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not (ws.root / "report.html").exists()


def test_report_outside_a_workspace_says_what_to_do(tmp_path: Path) -> None:
    result = run("-w", str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert "streamwise init" in result.output


def test_report_help() -> None:
    result = run("--help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "self-contained HTML report" in text
    assert "--output" in text
