"""``engine = "spark://..."``: a workspace on Spark reads the session's catalog and Parquet files,
with the session's settings, and leaves a session it did not start running."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pytest

from streamwise.engine import connect
from streamwise.errors import ConfigError, WorkspaceError
from streamwise.measure.attribution.paths import build_paths
from streamwise.measure.attribution.workspace import run_attribution
from streamwise.upstream.customers import summarize
from streamwise.upstream.customers.workspace import run_clv, run_summary
from streamwise.workspace import Workspace

pytestmark = pytest.mark.spark


def test_a_workspace_runs_on_the_spark_engine(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    spark_engine: Any,
    duckdb_engine: Any,
    sample: Any,
    same: Any,
    restore_derived: Any,
) -> None:
    restore_derived(spark_engine)  # run_clv overwrites the shared table
    Workspace.init(tmp_path / "ws").close()
    monkeypatch.setenv("STREAMWISE_ENGINE", "spark://local[2]")
    with Workspace.open(tmp_path / "ws") as ws:
        backend = ws.analytics()
        assert backend.name == "pyspark"
        assert not backend.owns_session  # the test session's, reused
        conf = backend._session.conf
        assert conf.get("spark.sql.session.timeZone") == "UTC"
        assert conf.get("spark.sql.shuffle.partitions") == "2"
        assert conf.get("spark.ui.enabled") == "false"
        assert ws.describe()["engine"] == "spark://local[2]"
        with pytest.raises(WorkspaceError, match="DuckDB"):
            ws.duckdb()
        # a table of the session's catalog, and a Parquet file
        orders = sample.tables["orders"]
        assert backend.table("orders").count().execute() == len(orders)
        path = tmp_path / "orders.parquet"
        orders.to_parquet(path)
        from_file = backend.read_parquet(str(path))
        same(
            summarize(from_file, unit="D"),
            summarize(ibis.duckdb.connect().read_parquet(path), unit="D"),
            ["customer_id"],
        )
        # the workspace's runners compute in Spark and save into its catalog
        summary = run_summary(ws, unit="D")
        assert backend.table("customer_summary").count().execute() == summary.customers
        assert summary.customers == orders["customer_id"].nunique()
        clv = run_clv(ws)
        assert backend.table("customer_clv").count().execute() == clv.totals["customers"]
        assert clv.totals["customers"] == summary.customers
        run = run_attribution(ws, models=("last", "markov"))
        ref = build_paths(duckdb_engine.table("touchpoints"), duckdb_engine.table("orders"),
                          journey="journey_id")  # fmt: skip
        same(run.paths, ref, ["path"])
        assert set(backend.table("channel_attribution").to_pandas()["model"]) == {"last", "markov1"}
    # closing the workspace left the shared session running
    assert spark_engine.table("customers").count().execute() == len(sample.tables["customers"])


def test_one_spark_master_per_process(spark_engine: Any) -> None:
    with pytest.raises(ConfigError, match="already runs in this process"):
        connect("spark://spark-master.example:7077")
