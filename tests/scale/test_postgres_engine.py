"""``engine = "postgresql://..."``: a workspace's runners compute in PostgreSQL and save their
results there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from streamwise.measure.attribution.paths import build_paths
from streamwise.measure.attribution.workspace import run_attribution
from streamwise.upstream.customers import summarize
from streamwise.upstream.customers.workspace import run_rfm, run_summary
from streamwise.workspace import Workspace

pytestmark = pytest.mark.postgres


def test_a_workspace_runs_on_the_postgres_engine(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    postgres_engine: Any,
    analytics_postgres_url: str,
    duckdb_engine: Any,
    same: Any,
) -> None:
    Workspace.init(tmp_path / "ws").close()
    monkeypatch.setenv("STREAMWISE_ENGINE", analytics_postgres_url)
    with Workspace.open(tmp_path / "ws") as ws:
        backend = ws.analytics()
        assert backend.name == "postgres"
        summary = run_summary(ws, unit="D")
        same(summary, summarize(duckdb_engine.table("orders"), unit="D"), ["customer_id"])
        assert backend.table("customer_summary").count().execute() == len(summary)
        rfm = run_rfm(ws)
        assert backend.table("customer_rfm").count().execute() == len(rfm)
        run = run_attribution(ws, models=("last", "markov"))
        ref = build_paths(duckdb_engine.table("touchpoints"), duckdb_engine.table("orders"),
                          journey="journey_id")  # fmt: skip
        same(run.paths, ref, ["path"])
        assert set(backend.table("channel_attribution").to_pandas()["model"]) == {"last", "markov1"}
