from __future__ import annotations

import duckdb
import ibis
import pandas as pd
import pytest

from streamwise.engine import connect, connect_duckdb, duckdb_threads, parse_spark_url, redact
from streamwise.errors import ConfigError
from streamwise.workspace import Workspace

FRAME = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 5.0, 7.5]})


def spend_per_customer(backend: ibis.BaseBackend) -> dict[str, float]:
    t = backend.create_table("orders_test", FRAME, overwrite=True)
    expr = t.group_by("customer_id").aggregate(total=t.amount.sum()).order_by("customer_id")
    return dict(expr.to_pandas().itertuples(index=False, name=None))


def test_duckdb_is_the_default_engine(workspace: Workspace) -> None:
    backend = workspace.analytics()
    assert backend.name == "duckdb"
    assert spend_per_customer(backend) == {"a": 15.0, "b": 7.5}
    assert workspace.analytics_path.exists()


@pytest.mark.parametrize(("cores", "expected"), [(1, 2), (2, 3), (3, 3), (16, 16)])
def test_duckdb_threads_one_more_than_the_cores_on_small_machines_unless_set(
    monkeypatch: pytest.MonkeyPatch, cores: int, expected: int
) -> None:
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: set(range(cores)), raising=False)
    assert duckdb_threads() == expected
    assert duckdb_threads(5) == 5  # a setting wins


def test_duckdb_connections_get_the_chosen_threads(workspace: Workspace) -> None:
    def threads(backend: ibis.BaseBackend) -> int:
        return backend.con.execute("SELECT current_setting('threads')").fetchall()[0][0]

    assert threads(connect_duckdb()) == duckdb_threads()
    assert threads(connect_duckdb(threads=3)) == 3
    assert threads(workspace.analytics()) == duckdb_threads(workspace.settings.threads)
    # a plain connection to the file the workspace holds open is still allowed (same instance)
    with duckdb.connect(str(workspace.analytics_path)) as con:
        assert con.execute("SELECT current_setting('threads')").fetchall()[0][0] == (
            duckdb_threads(workspace.settings.threads)
        )


@pytest.mark.postgres
def test_a_postgresql_url_gives_the_same_answers(postgres_url: str) -> None:
    backend = connect(postgres_url)
    try:
        assert backend.name == "postgres"
        assert spend_per_customer(backend) == {"a": 15.0, "b": 7.5}
    finally:
        backend.disconnect()


@pytest.mark.postgres
def test_workspace_with_postgres_engine_never_shows_the_password(
    tmp_path, postgres_url: str, monkeypatch
) -> None:
    Workspace.init(tmp_path).close()
    with_password = postgres_url.replace("postgres@", "postgres:s3cret-pw@")
    monkeypatch.setenv("STREAMWISE_ENGINE", with_password)
    with Workspace.open(tmp_path) as ws:
        assert ws.analytics().name == "postgres"
        assert spend_per_customer(ws.analytics()) == {"a": 15.0, "b": 7.5}
        assert "s3cret-pw" not in str(ws.describe())


def test_unreachable_postgresql_says_what_to_check() -> None:
    with pytest.raises(ConfigError, match=r"cannot connect to PostgreSQL at 127\.0\.0\.1:1\b"):
        connect("postgresql://postgres@127.0.0.1:1/nothing")


def test_unknown_engines_are_refused() -> None:
    with pytest.raises(ConfigError, match="duckdb"):
        connect("oracle://x")
    with pytest.raises(ConfigError, match="names no master"):
        connect("spark://")
    with pytest.raises(ConfigError, match="unknown parameter 'password'"):
        connect("spark://local[2]?password=x")


@pytest.mark.parametrize(
    ("url", "master"),
    [
        ("spark://local[2]", "local[2]"),
        ("spark://local", "local"),
        ("spark://localhost:7077", "spark://localhost:7077"),
        ("spark://10.0.0.5:7077,10.0.0.6:7077", "spark://10.0.0.5:7077,10.0.0.6:7077"),
        ("spark://yarn", "yarn"),
        ("spark://k8s://https://kube.example:443", "k8s://https://kube.example:443"),
    ],
)
def test_spark_urls_name_the_master(url: str, master: str) -> None:
    assert parse_spark_url(url).master == master


def test_spark_urls_carry_settings_and_local_defaults() -> None:
    spec = parse_spark_url("spark://local[3]?database=marketing&spark.sql.shuffle.partitions=8")
    assert spec.local
    assert spec.database == "marketing"
    settings = spec.settings()
    assert settings["spark.sql.session.timeZone"] == "UTC"
    assert settings["spark.sql.shuffle.partitions"] == "8"  # the URL's own wins
    assert settings["spark.ui.enabled"] == "false"
    cluster = parse_spark_url("spark://master:7077").settings()
    assert cluster["spark.sql.session.timeZone"] == "UTC"
    assert "spark.sql.shuffle.partitions" not in cluster  # the cluster's own defaults
    assert "spark.ui.enabled" not in cluster


def test_spark_urls_are_shown_without_their_settings() -> None:
    url = "spark://master:7077?spark.hadoop.fs.s3a.secret.key=s3cret"
    assert redact(url) == "spark://master:7077"
    assert redact("spark://local[2]") == "spark://local[2]"
