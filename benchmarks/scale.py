"""Benchmark: the upstream pipeline end to end at 1M, 10M and 100M orders on DuckDB.

Goal (issue 11): 100M orders end to end in under 10 minutes on a 2-core machine with peak memory
under 8 GiB, the cost growing no faster than linearly in the number of orders.

For each size, generated Parquet files (customers: orders / 10; orders over three years, a few
per customer, amounts and channels varied; seeded) go through what a user runs on their own
data, in one fresh workspace, in its own process (its peak resident memory is its own):

1. ``import`` customers and orders (every row checked against its contract, quarantine, merge);
2. ``customers summary`` (frequency, recency, T, monetary value per customer, saved);
3. ``customers rfm`` (quintile RFM scores and named segments, saved);
4. ``customers clv`` (BG/NBD + Gamma-Gamma on the summaries compressed to unique rows, each
   customer's value saved);
5. ``customers segment`` (behavioural features per customer, k chosen by silhouette, labels
   saved).

Printed per size: seconds per step and in all, peak memory (in all, and as it stood after each
step), and the growth exponent of the time between consecutive sizes (log time ratio / log size
ratio: 1 is linear). DuckDB runs with the workspace's ``memory_limit`` set to ``--memory-limit``
(4GB by default): it spills to disk beyond it, and Python's share stays in the rest. No peer:
the goal is the yardstick. Usage: ``python benchmarks/scale.py [--sizes 1e6,1e7,1e8]
[--workdir DIR] [--memory-limit 4GB]``.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import tempfile
from pathlib import Path

import duckdb

from common import run

GOAL_SECONDS = 600.0
GOAL_MIB = 8 * 1024

PIPELINE = r"""
import json, resource, sys, time
from pathlib import Path
from streamwise.workspace import Workspace
from streamwise.data.importer import import_file
from streamwise.upstream.customers.workspace import run_clv, run_rfm, run_segments, run_summary

work, root = Path(sys.argv[1]), Path(sys.argv[2])
ws = Workspace.init(root, company="Scale Co", brand="Scale")
times = {}
t = time.perf_counter()
con = ws.duckdb()
for kind in ("customers", "orders"):
    result = import_file(con, kind, work / f"{kind}.parquet")
    assert result.landed == result.rows_read, (kind, result)
times["import"] = time.perf_counter() - t
peaks = {"import": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
for name, step in (("summary", run_summary), ("rfm", run_rfm), ("clv", run_clv),
                   ("segments", run_segments)):
    t = time.perf_counter()
    step(ws)
    times[name] = time.perf_counter() - t
    peaks[name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
ws.close()
print(json.dumps({**times, "peaks": peaks}))
"""


def generate(work: Path, orders: int) -> None:
    """Write customers.parquet (orders / 10) and orders.parquet (``orders`` rows), seeded."""
    customers = max(orders // 10, 1)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false").fetchall()
    con.execute(
        "COPY (SELECT 'C' || lpad(i::VARCHAR, 9, '0') AS customer_id, "
        "'c' || i || '@example.com' AS email, DATE '2023-01-01' + (i % 365)::INT AS signup_date, "
        "['US', 'GB', 'DE', 'CA'][1 + (i % 4)::INT] AS country FROM range(1, "
        f"{customers} + 1) t(i)) TO '{work}/customers.parquet' (FORMAT parquet)"
    ).fetchall()
    # each order goes to a customer drawn unevenly (a few buy often), at a time after their signup
    con.execute(
        "COPY (SELECT 'O' || lpad(i::VARCHAR, 10, '0') AS order_id, "
        f"'C' || lpad((1 + (hash(i) % {customers}) * (hash(i * 3) % 4 + 1) // 4)::VARCHAR, 9, "
        "'0') AS customer_id, "
        "TIMESTAMP '2024-01-01' + to_seconds((hash(i * 7) % 63072000)::BIGINT) AS order_date, "
        "round(5 + (hash(i * 13) % 50000) / 100.0, 2) AS amount, 'USD' AS currency, "
        "['web', 'app', 'store'][1 + (i % 3)::INT] AS channel, 1 + i % 4 AS quantity "
        f"FROM range(1, {orders} + 1) t(i)) TO '{work}/orders.parquet' (FORMAT parquet)"
    ).fetchall()
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6,1e7,1e8", help="Order counts, comma-separated.")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--memory-limit", default="4GB", help="DuckDB's memory limit (the workspace setting)."
    )
    args = parser.parse_args()
    os.environ["STREAMWISE_MEMORY_LIMIT"] = args.memory_limit
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    base = args.workdir or Path(tempfile.mkdtemp(prefix="sw-bench-scale-"))
    print(f"upstream pipeline on DuckDB; goal: 100M orders in {GOAL_SECONDS / 60:.0f} min, "
          f"peak under {GOAL_MIB / 1024:.0f} GiB, growth exponent <= 1")  # fmt: skip
    steps = ("import", "summary", "rfm", "clv", "segments")
    print(f"  {'orders':>12}" + "".join(f"{s:>10}" for s in steps)
          + f"{'total s':>10}{'peak MiB':>10}{'exponent':>10}")  # fmt: skip
    previous: tuple[int, float] | None = None
    for n in sizes:
        work = base / f"orders-{n}"
        work.mkdir(parents=True, exist_ok=True)
        if not (work / "orders.parquet").exists():
            generate(work, n)
        shutil.rmtree(work / "workspace", ignore_errors=True)  # a fresh import, not a merge
        result = run(__import__("sys").executable, PIPELINE, work, work / "workspace")
        total = sum(result[s] for s in steps)
        exponent = ""
        if previous is not None:
            exponent = f"{math.log(total / previous[1]) / math.log(n / previous[0]):.2f}"
        previous = (n, total)
        print(f"  {n:>12,}" + "".join(f"{result[s]:10.1f}" for s in steps)
              + f"{total:10.1f}{result['peak_mib']:10.0f}{exponent:>10}")  # fmt: skip
        print(f"  {'peak MiB by':>12}" + "".join(f"{result['peaks'][s]:10.0f}" for s in steps),
              flush=True)  # fmt: skip
    if sizes[-1] >= 100_000_000 and previous is not None:
        ok = previous[1] < GOAL_SECONDS and result["peak_mib"] < GOAL_MIB
        print(f"  100M orders: {previous[1]:.0f} s, {result['peak_mib']:.0f} MiB: "
              f"{'meets' if ok else 'misses'} the goal")  # fmt: skip


if __name__ == "__main__":
    main()
