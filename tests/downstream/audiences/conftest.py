"""A demo workspace shared by the audience tests (built once per session, about 40 s)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from streamwise.cli.demo import run_demo
from streamwise.workspace import Workspace


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """The demo business with 2,000 customers (seed 42), every stage run, a plan saved."""
    root = tmp_path_factory.mktemp("audiences") / "demo"
    run_demo(root, customers=2000, seed=42, mmm_draws=0)
    ws = Workspace.open(root)
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def people(demo: Workspace) -> pd.DataFrame:
    """Every field computed by hand in pandas from the raw tables (the reference)."""
    con = demo.duckdb()
    customers = con.execute("SELECT * FROM customers").df()
    clv = con.execute("SELECT * FROM customer_clv").df()
    rfm = con.execute("SELECT * FROM customer_rfm").df()
    seg = con.execute("SELECT * FROM customer_segments").df()
    names = con.execute("SELECT cluster, segment FROM segment_clusters").df()
    orders = con.execute("SELECT customer_id, order_date, amount FROM orders").df()
    per = orders.groupby("customer_id").agg(
        orders=("amount", "size"),
        revenue=("amount", "sum"),
        first_order=("order_date", "min"),
        last_order=("order_date", "max"),
    )
    seg = seg.rename(columns={"segment": "cluster"}).merge(names, on="cluster", how="left")
    out = (
        customers.merge(clv, on="customer_id", how="left")
        .merge(rfm.rename(columns={"segment": "rfm_segment"}), on="customer_id", how="left")
        .merge(seg, on="customer_id", how="left")
        .merge(per, on="customer_id", how="left")
    )
    out["orders"] = out["orders"].fillna(0).astype(int)
    out["revenue"] = out["revenue"].fillna(0.0)
    for col in ("first_order", "last_order", "signup_date"):
        out[col] = pd.to_datetime(out[col]).dt.normalize()
    return out
