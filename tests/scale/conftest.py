"""The same small business in DuckDB, PostgreSQL and Spark, to run each analytics step on each.

One Spark session (``local[2]``) and one PostgreSQL database serve the whole test session; the
tables are loaded into each engine once, from the seeded sample business (1,200 customers) and a
few derived tables (customer segments and CLV, experiment units) built here with numpy.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest
from tests.conftest import fresh_postgres  # importlib mode: by its dotted path

from streamwise.data.sample import generate
from streamwise.engine import connect, connect_spark

#: The sample's tables the steps read (``events`` without its JSON columns).
COLUMNS: dict[str, list[str] | None] = {
    "customers": None,
    "orders": None,
    "order_lines": None,
    "products": None,
    "touchpoints": None,
    "events": ["message_id", "type", "user_id", "event", "timestamp"],
}


@dataclass(frozen=True)
class Sample:
    """The tables (pandas) and the survey respondents who named their segment."""

    tables: dict[str, pd.DataFrame]
    respondents: pd.DataFrame


def _derived(tables: dict[str, pd.DataFrame], truth: pd.DataFrame) -> Sample:
    rng = np.random.default_rng(11)
    ids = tables["customers"]["customer_id"]
    segment = truth.set_index("customer_id")["segment"].reindex(ids)
    codes = {name: i for i, name in enumerate(sorted(segment.dropna().unique()))}
    # behavioural clusters: the planted segment, one customer in ten in the wrong cluster
    cluster = segment.map(codes).fillna(0).astype("int64").to_numpy()
    wrong = rng.random(len(ids)) < 0.1
    cluster[wrong] = rng.integers(0, len(codes), wrong.sum())
    n = len(ids)
    purchases = rng.gamma(2.0, 1.5, n)
    spend = rng.lognormal(4.0, 0.6, n)
    alive = rng.beta(2.0, 2.0, n)
    clv = pd.DataFrame({"customer_id": ids, "clv": purchases * spend * alive / 1.1,
                        "probability_alive": alive, "expected_purchases": purchases,
                        "expected_spend": spend})  # fmt: skip
    arm = rng.choice(["control", "treatment", "treatment_2"], n)
    pre = rng.gamma(1.0, 40.0, n)
    revenue = pre * 0.6 + rng.gamma(1.0, 30.0, n) * (1 + 0.1 * (arm != "control"))
    orders = rng.poisson(1.2, n).astype("int64")
    units = pd.DataFrame({
        "customer_id": ids, "arm": arm, "country": tables["customers"]["country"],
        "converted": orders > 0, "orders": orders,
        "revenue": np.where(orders > 0, revenue, np.nan),
        "pre_revenue": np.where(rng.random(n) < 0.8, pre, np.nan),
    })  # fmt: skip
    surveyed = rng.random(n) < 0.3
    said = segment.to_numpy(dtype=object).copy()
    noisy = rng.random(n) < 0.2
    said[noisy] = rng.choice(sorted(codes), noisy.sum())
    respondents = pd.DataFrame({"customer_id": ids[surveyed], "segment": said[surveyed]})
    extra = {
        "customer_segments": pd.DataFrame({"customer_id": ids, "segment": cluster}),
        "customer_clv": clv,
        "experiment_units": units,
    }
    return Sample(tables={**tables, **extra}, respondents=respondents)


@pytest.fixture(scope="session")
def sample() -> Sample:
    """The seeded sample business and derived tables, in pandas."""
    biz = generate(n_customers=1_200, seed=5, bad_share=0)
    tables = {
        name: biz.tables[name][cols] if cols else biz.tables[name] for name, cols in COLUMNS.items()
    }
    return _derived(tables, biz.truth.customers)


def _load(backend: Any, sample: Sample) -> Any:
    for name, frame in sample.tables.items():
        backend.create_table(name, frame, overwrite=True)
    return backend


@pytest.fixture(scope="session")
def duckdb_engine(sample: Sample) -> Iterator[Any]:
    """The reference: DuckDB in memory."""
    backend = _load(ibis.duckdb.connect(), sample)
    yield backend
    backend.disconnect()


@pytest.fixture(scope="session")
def spark_url(
    tmp_path_factory: pytest.TempPathFactory, require_service: Callable[[str], None]
) -> str:
    """``spark://local[2]`` with its tables in a temporary folder."""
    if importlib.util.find_spec("pyspark") is None:
        require_service("PySpark is not installed; pip install -e '.[spark]'")
    if shutil.which("java") is None:
        require_service("Java is not installed (PySpark needs Java 17)")
    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    # the JVM's quick compiler only: a third less time for a short run of small queries
    fast_start = "spark.driver.extraJavaOptions=-XX:TieredStopAtLevel=1"
    return f"spark://local[2]?spark.sql.warehouse.dir={warehouse}&{fast_start}"


@pytest.fixture(scope="session")
def spark_engine(spark_url: str, sample: Sample) -> Iterator[Any]:
    """One local Spark session for the test session, with the tables; stopped at the end."""
    backend = connect_spark(spark_url)
    assert backend.owns_session, "another Spark session was already running"
    yield _load(backend, sample)
    backend.disconnect()


@pytest.fixture(scope="session")
def analytics_postgres_url() -> Iterator[str]:
    """A PostgreSQL database of its own for the analytics tables: the operational tests share
    ``postgres_url`` and check that it holds exactly the models' tables."""
    with fresh_postgres("streamwise_scale") as url:
        yield url


@pytest.fixture(scope="session")
def postgres_engine(analytics_postgres_url: str, sample: Sample) -> Iterator[Any]:
    """A PostgreSQL database of the session's own, with the tables."""
    backend = connect(analytics_postgres_url)
    yield _load(backend, sample)
    backend.disconnect()


@pytest.fixture(
    params=[
        pytest.param("spark", marks=pytest.mark.spark),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def engine(request: pytest.FixtureRequest) -> Any:
    """Each engine other than DuckDB, loaded with the sample."""
    return request.getfixturevalue(f"{request.param}_engine")


#: The tables built here that a workspace's runners overwrite with their own results.
DERIVED = ("customer_segments", "customer_clv")


@pytest.fixture
def restore_derived(sample: Sample) -> Iterator[Callable[[Any], None]]:
    """Give it an engine whose tables a test's runners overwrite: the derived tables are put back
    afterwards, so the tests that compare engines read the same data whatever ran before them."""
    backends: list[Any] = []
    yield backends.append
    for backend in backends:
        for name in DERIVED:
            backend.create_table(name, sample.tables[name], overwrite=True)


@pytest.fixture(scope="session")
def same() -> Callable[..., None]:
    """:func:`same_frames`, for the tests (which cannot import a conftest)."""
    return same_frames


def same_frames(a: pd.DataFrame, b: pd.DataFrame, keys: list[str], rtol: float = 1e-9) -> None:
    """Equal frames up to row order, column dtypes and floating-point rounding (``rtol``)."""
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)

    def norm(f: pd.DataFrame) -> pd.DataFrame:
        f = f.sort_values(keys, kind="stable").reset_index(drop=True)
        for col in f.columns:
            kind = f[col].dtype.kind
            if kind == "M":
                f[col] = f[col].astype("datetime64[us]")
            elif kind in "iub":
                f[col] = f[col].astype("float64")
            elif kind not in "f":
                f[col] = f[col].astype(object).where(f[col].notna(), None)
        return f

    pd.testing.assert_frame_equal(norm(a), norm(b), check_dtype=False, rtol=rtol, atol=1e-9)
