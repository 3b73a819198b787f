"""Benchmark: per-customer summaries from 10M orders against lifetimes 0.11.3.

Goal (issue 3): at least 20x faster than ``lifetimes.utils.summary_data_from_transaction_data``
with identical numbers. Both sides summarise the same orders in days (frequency, recency, T,
monetary value): Streamwise with ``summarize`` over the orders file read by DuckDB through Ibis,
lifetimes with pandas in its own virtual environment (``benchmarks/.venvs/lifetimes``, created on
first use, as in ``bgnbd_fit.py``). Only the summarising call is timed on either side, each
in a fresh process (reading the orders is not timed), ``--repeat`` times taking turns; the best
time of each side is shown, with every run's.
Usage: ``python benchmarks/summaries.py [--orders 10000000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bgnbd_fit import lifetimes_python
from common import best_of

OURS = r"""
import json, sys, time
from streamwise.engine import connect_duckdb
from streamwise.upstream.customers import summarize
work = sys.argv[1]
con = connect_duckdb()  # Streamwise's DuckDB connection (as a workspace opens it)
orders = con.create_table("orders", con.read_csv(work + "/orders.csv"))  # loaded, as pandas is
t = time.perf_counter()
s = summarize(orders, unit="D")
seconds = time.perf_counter() - t
s[["customer_id", "frequency", "recency", "T", "monetary_value"]].to_csv(work + "/ours.csv",
                                                                      index=False)
print(json.dumps({"seconds": seconds, "customers": len(s)}))
"""

PEER = r"""
import json, sys, time
import pandas as pd
from lifetimes.utils import summary_data_from_transaction_data
work = sys.argv[1]
orders = pd.read_csv(work + "/orders.csv", parse_dates=["order_date"])
t = time.perf_counter()
s = summary_data_from_transaction_data(orders, "customer_id", "order_date",
                                       monetary_value_col="amount", freq="D")
seconds = time.perf_counter() - t
s.reset_index().to_csv(work + "/peer.csv", index=False)
print(json.dumps({"seconds": seconds, "customers": len(s)}))
"""


def generate(work: Path, n: int) -> None:
    """``n`` orders of ``n / 10`` customers over three years, seeded."""
    customers = max(n // 10, 1)
    con = duckdb.connect()
    con.execute("SELECT setseed(0.7)").fetchall()
    con.execute(
        "COPY (SELECT 'C' || lpad((1 + hash(i) % $c)::VARCHAR, 8, '0') AS customer_id, "
        "(DATE '2023-01-01' + (hash(i * 7) % 1095)::INT)::VARCHAR AS order_date, "
        "round(5 + (hash(i * 13) % 50000) / 100.0, 2) AS amount "
        f"FROM range(1, {n} + 1) t(i)) TO '{work}/orders.csv'",
        {"c": customers},
    ).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sw-bench-summaries-"))
    generate(work, args.orders)
    best = best_of(
        {"ours": (sys.executable, OURS), "lifetimes": (lifetimes_python(), PEER)}, args.repeat, work
    )
    ours, peer = best["ours"], best["lifetimes"]
    a = pd.read_csv(work / "ours.csv").sort_values("customer_id").reset_index(drop=True)
    b = pd.read_csv(work / "peer.csv").sort_values("customer_id").reset_index(drop=True)
    same = len(a) == len(b) and all(
        np.allclose(a[c].to_numpy(float), b[c].to_numpy(float), rtol=1e-9, atol=1e-9)
        for c in ("frequency", "recency", "T", "monetary_value")
    )
    print(f"summaries of {args.orders:,} orders ({ours['customers']:,} customers)")
    for name, r in (("streamwise", ours), ("lifetimes", peer)):
        every = ", ".join(f"{x:.2f}" for x in r["runs"])
        print(f"  {name:11}{r['seconds']:8.2f} s {r['peak_mib']:8,.0f} MiB   (runs: {every} s)")
    print(
        f"  speed ratio (lifetimes / ours): {peer['seconds'] / ours['seconds']:.1f}x   goal >= 20x"
    )
    print(f"  identical numbers: {same}")
    print(json.dumps({"ours": ours, "lifetimes": peer, "identical": same}))


if __name__ == "__main__":
    main()
