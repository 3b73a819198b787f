from __future__ import annotations

import ibis
import pandas as pd
import pytest

from streamwise.engine import connect
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
    with pytest.raises(ConfigError, match="Spark"):
        connect("spark://localhost:7077")
