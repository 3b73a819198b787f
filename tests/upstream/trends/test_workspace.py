"""``run_trends`` on a workspace and the ``streamwise trends`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from streamwise.cli import trends as trends_cli
from streamwise.data.importer import import_data
from streamwise.errors import DataError
from streamwise.upstream.trends import RESULT_TABLES, TREND_COLUMNS, run_trends
from streamwise.workspace import Workspace

COLUMNS = {
    "market_trends": list(TREND_COLUMNS),
    "market_forecast": [
        "category", "metric", "period", "model", "forecast", "lo_80", "hi_80", "lo_95", "hi_95",
    ],
    "market_backtest": ["category", "metric", "model", "mase", "windows"],
    "market_components": [
        "category", "metric", "period", "observed", "trend", "seasonal", "remainder",
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def market_workspace(
    tmp_path_factory: pytest.TempPathFactory, sample_market: tuple[pd.DataFrame, Any]
) -> Path:
    """A workspace holding the sample market series (closed again)."""
    root = tmp_path_factory.mktemp("trends") / "ws"
    with Workspace.init(root, company="T", brand="B") as ws:
        result = import_data(ws.duckdb(), "market_series", sample_market[0], name="sample")
        assert result.landed == len(sample_market[0])
    return root


def test_run_trends_writes_the_four_tables(
    market_workspace: Path, sample_market: tuple[pd.DataFrame, Any]
) -> None:
    truth = sample_market[1]
    with Workspace.open(market_workspace) as ws:
        run = run_trends(ws, metric="demand")
        con = ws.duckdb()
        for table in RESULT_TABLES:
            got = con.execute(f"SELECT * FROM {table} LIMIT 1").df()
            assert list(got.columns) == COLUMNS[table], table
        trends = con.execute("SELECT * FROM market_trends ORDER BY category").df()
        types = {r[0]: r[1] for r in con.execute("DESCRIBE market_forecast").fetchall()}
        n_forecast = con.execute("SELECT count(*) FROM market_forecast").fetchone()
    assert len(trends) == 8
    assert sorted(trends.loc[trends["status"] == "emerging", "category"]) == sorted(truth.emerging)
    assert run.trends["annual_growth"].tolist() == pytest.approx(trends["annual_growth"].tolist())
    assert types["period"] == "DATE"
    assert n_forecast == (8 * 52,)


def test_run_trends_refuses_missing_data(market_workspace: Path, tmp_path: Path) -> None:
    with Workspace.open(market_workspace) as ws, pytest.raises(DataError, match="present: demand"):
        run_trends(ws, metric="searches")
    with (
        Workspace.init(tmp_path / "empty", company="T") as ws,
        pytest.raises(DataError, match="streamwise import market_series"),
    ):
        run_trends(ws)


def test_trends_command(market_workspace: Path) -> None:
    app = typer.Typer()
    app.command("trends")(trends_cli.trends)
    app.command("other")(lambda: None)  # two commands, so that "trends" is a subcommand
    env = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    result = CliRunner().invoke(app, ["trends", "-w", str(market_workspace)], env=env)
    assert result.exit_code == 0, result.output
    assert "camp kitchen" in result.output
    assert "emerging" in result.output
    assert "beats the seasonal-naive forecast in backtests on 8 of 8 series" in result.output
    bad = CliRunner().invoke(app, ["trends", "-w", str(market_workspace), "-m", "nope"], env=env)
    assert bad.exit_code == 1
    assert "unknown model" in bad.output
