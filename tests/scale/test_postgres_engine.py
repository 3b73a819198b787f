"""``engine = "postgresql://..."``: a workspace's runners compute in PostgreSQL and save their
results there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from streamwise.measure.attribution.paths import build_paths
from streamwise.measure.attribution.workspace import run_attribution
from streamwise.upstream.customers import summarize
from streamwise.upstream.customers.rfm import rfm
from streamwise.upstream.customers.workspace import run_clv, run_rfm, run_segments, run_summary
from streamwise.workspace import Workspace

pytestmark = pytest.mark.postgres


def test_a_workspace_runs_on_the_postgres_engine(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    postgres_engine: Any,
    analytics_postgres_url: str,
    duckdb_engine: Any,
    same: Any,
    restore_derived: Any,
) -> None:
    restore_derived(postgres_engine)  # run_clv and run_segments overwrite the shared tables
    Workspace.init(tmp_path / "ws").close()
    monkeypatch.setenv("STREAMWISE_ENGINE", analytics_postgres_url)
    with Workspace.open(tmp_path / "ws") as ws:
        backend = ws.analytics()
        assert backend.name == "postgres"
        summary = run_summary(ws, unit="D")  # written by PostgreSQL itself
        ref = summarize(duckdb_engine.table("orders"), unit="D")
        saved = backend.table("customer_summary").to_pandas()
        for col in ("first_purchase", "last_purchase"):
            saved[col] = pd.to_datetime(saved[col])
        same(saved, ref, ["customer_id"])
        assert summary.customers == len(ref)
        assert summary.repeat_buyers == (ref["frequency"] > 0).sum()
        segments = run_rfm(ws)
        ref_rfm = rfm(duckdb_engine.table("orders"))
        same(backend.table("customer_rfm").to_pandas(), ref_rfm, ["customer_id"])
        assert segments["customers"].to_dict() == ref_rfm["segment"].value_counts().to_dict()
        clv = run_clv(ws)
        assert backend.table("customer_clv").count().execute() == clv.totals["customers"]
        assert clv.totals["customers"] == len(ref)
        clusters = run_segments(ws, k_max=5)
        labelled = backend.table("customer_segments").count().execute()
        assert labelled == (len(ref) if clusters.structure_found else 0)
        run = run_attribution(ws, models=("last", "markov"))
        ref = build_paths(duckdb_engine.table("touchpoints"), duckdb_engine.table("orders"),
                          journey="journey_id")  # fmt: skip
        same(run.paths, ref, ["path"])
        assert set(backend.table("channel_attribution").to_pandas()["model"]) == {"last", "markov1"}
