"""The upstream report: never crashes on a bare workspace, says what to run, reads the demo."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from streamwise.plan.document import PlanDocument
from streamwise.reports.tables import read_table
from streamwise.reports.upstream import HINTS, upstream_report, write_report
from streamwise.workspace import Workspace

TRENDS = importlib.util.find_spec("streamwise.upstream.trends.workspace") is not None


def test_bare_workspace_says_what_to_run(workspace: Workspace) -> None:
    html = upstream_report(workspace)
    for command in (
        "streamwise trends",
        "streamwise competitors --brand OUR_BRAND",
        "streamwise customers clv",
        "streamwise research run -q QUESTIONNAIRE",
        "streamwise plan build -q QUESTIONNAIRE --report FILE",
    ):
        assert f"<code>{command}</code>" in html
    assert HINTS["plan"][0].replace("'", "&#39;") in html
    assert "<svg" not in html  # nothing to chart


def test_a_table_with_unexpected_columns_does_not_stop_the_report(
    workspace: Workspace, plan_doc: PlanDocument
) -> None:
    con = workspace.duckdb()
    con.execute("CREATE TABLE competitor_map AS SELECT 1 AS a, 'x' AS b")
    html = upstream_report(workspace, plan=plan_doc)
    assert "could not be made from the workspace" in html
    assert "perceptual map needs column(s) kind, name, dim1, dim2" in html
    assert ">Who to target and why</h2>" in html  # the rest is still there


def test_read_table_only_reads_report_tables(workspace: Workspace) -> None:
    with pytest.raises(ValueError, match="not a table the report reads"):
        read_table(workspace, "customers; DROP TABLE orders")
    assert read_table(workspace, "market_trends") is None  # absent
    workspace.duckdb().execute("CREATE TABLE market_trends (category TEXT)")
    assert read_table(workspace, "market_trends") is None  # empty


def test_write_report_creates_folders(tmp_path: Path) -> None:
    path = write_report("<!DOCTYPE html><p>é</p>", tmp_path / "a" / "b" / "report.html")
    assert path.is_absolute()
    assert path.read_text(encoding="utf-8") == "<!DOCTYPE html><p>é</p>"


@pytest.mark.slow
def test_demo_report_has_the_whole_upstream_picture(
    demo_workspace: Any, plan_doc: PlanDocument
) -> None:
    html = upstream_report(demo_workspace, plan=plan_doc)
    headings = ["Who to target and why", "Personas", "Positioning", "Competitors",
                "Market trends", "Customers", "Research"]  # fmt: skip
    positions = [html.index(f">{h}</h2>") for h in headings]
    assert positions == sorted(positions)  # the answer first, the evidence after it
    assert "Perceptual map" in html
    assert "No brand serves Weekend Campers" in html  # the planted white space
    assert "Net Promoter Score by group" in html
    assert "Price sensitivity (Van Westendorp)" in html
    assert "Expected 52-week customer lifetime value by segment" in html
    assert "could not be made" not in html
    if TRENDS:
        assert "Market demand by category" in html
    else:
        assert "<code>streamwise trends</code>" in html
    clv = read_table(demo_workspace, "customer_clv")
    assert isinstance(clv, pd.DataFrame)
    assert len(clv) > 0
