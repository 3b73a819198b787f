"""A demo workspace for the ad-audience tests, built once per session (about a minute); tests
that change it work on a copy."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from streamwise.cli.demo import run_demo
from streamwise.workspace import Workspace


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo business with 1,500 customers (seed 42): customers with ads_consent, CLV,
    segments and a plan with personas."""
    out = run_demo(tmp_path_factory.mktemp("ads") / "demo", customers=1_500, seed=42, mmm_draws=0)
    return Path(out["workspace"])


@pytest.fixture
def ws_root(demo_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the demo workspace."""
    root = tmp_path / "ws"
    shutil.copytree(demo_dir, root)
    return root


@pytest.fixture
def ws(ws_root: Path) -> Iterator[Workspace]:
    """The private copy, opened."""
    with Workspace.open(ws_root) as workspace:
        yield workspace


@pytest.fixture(scope="session")
def customers(demo_dir: Path) -> pd.DataFrame:
    """The demo's customers with CLV and named segment, read directly (the reference)."""
    import duckdb

    con = duckdb.connect(str(demo_dir / "analytics.duckdb"), read_only=True)
    try:
        return con.execute(
            "SELECT c.*, k.clv, n.segment AS segment_name FROM customers c "
            "LEFT JOIN customer_clv k USING (customer_id) "
            "LEFT JOIN customer_segments s USING (customer_id) "
            "LEFT JOIN segment_clusters n ON n.cluster = s.segment"
        ).df()
    finally:
        con.close()
