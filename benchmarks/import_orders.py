"""Benchmark: import 10M generated order rows from CSV, against pandas in the same run.

Goal (issue 2): at least 5x the pandas baseline's rows/s with at most 1/3 of its peak memory.

Both sides do the same job on the same files: read ``orders.csv`` (10M rows, 0.2% of them
invalid: negative amounts and unknown customers), check every row against the ``orders``
contract (required values, types, minimums, currency pattern, dates not in the future, the
customer must exist, no duplicate order ids), set invalid rows aside with their row number and
reason, and store the valid rows durably.

- **Streamwise**: ``import_file`` into a fresh workspace (DuckDB file, quarantine table).
- **pandas**: ``pandas.read_csv`` (default C engine, every column as text so that bad values
  can be reported rather than crash the read), vectorised validation, a quarantine frame with
  row, column and reason, and the valid rows written to Parquet.

Each side runs in its own process, so its peak resident memory is its own (``wait4``),
``--repeat`` times taking turns; each side's best time is shown (with every run's) and its
largest peak memory.
Usage: ``python benchmarks/import_orders.py [--rows 10000000] [--repeat 3] [--workdir DIR]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from common import best_of, venv_python

#: The pandas baseline runs with the newest pandas in its own environment (the project's own
#: environment holds pandas 2, which statsforecast requires).
PANDAS_PEER = ["pandas>=3.0", "pyarrow>=16", "numpy>=2"]

OURS = r"""
import json, shutil, sys, time
from streamwise.workspace import Workspace
from streamwise.data.importer import import_file
work = sys.argv[1]
shutil.rmtree(work + "/ws", ignore_errors=True)  # a first import, not a re-import
ws = Workspace.init(work + "/ws")
con = ws.duckdb()
import_file(con, "customers", work + "/customers.csv")
t = time.perf_counter()
r = import_file(con, "orders", work + "/orders.csv")
seconds = time.perf_counter() - t
ws.close()
print(json.dumps({"seconds": seconds, "read": r.rows_read, "valid": r.landed,
                  "invalid": r.quarantined}))
"""

PANDAS = r"""
import json, sys, time
import numpy as np
import pandas as pd
work = sys.argv[1]
customers = pd.read_csv(work + "/customers.csv", dtype=str, keep_default_na=False)
t = time.perf_counter()
orders = pd.read_csv(work + "/orders.csv", dtype=str, keep_default_na=False)
problems = []
def flag(mask, column, reason):
    rows = np.flatnonzero(mask.to_numpy())
    problems.append(pd.DataFrame({"row": rows + 1, "column": column, "reason": reason}))
    return mask
bad = pd.Series(False, index=orders.index)
for col in ("order_id", "customer_id", "order_date", "amount"):
    bad |= flag(orders[col].str.strip() == "", col, "missing required value")
amount = pd.to_numeric(orders["amount"], errors="coerce")
when = pd.to_datetime(orders["order_date"], errors="coerce", format="ISO8601")
quantity = pd.to_numeric(orders["quantity"], errors="coerce")
bad |= flag(amount.isna() & (orders["amount"] != ""), "amount", "not a valid number")
bad |= flag(amount < 0, "amount", "below the minimum of 0")
bad |= flag(when.isna() & (orders["order_date"] != ""), "order_date", "not a valid timestamp")
bad |= flag(when > pd.Timestamp.now(), "order_date", "in the future")
currency = orders["currency"].replace("", "USD")
bad |= flag(~currency.str.fullmatch(r"[A-Z]{3}"), "currency", "not a currency code")
bad |= flag(quantity < 0, "quantity", "below the minimum of 0")
bad |= flag(~orders["customer_id"].isin(customers["customer_id"]), "customer_id",
            "not found in customers")
bad |= flag(orders["order_id"].duplicated(), "order_id", "duplicate key within the file")
quarantine = pd.concat(problems, ignore_index=True)
good = ~bad
valid = orders.loc[good].assign(order_date=when[good], amount=amount[good],
                                quantity=quantity[good], currency=currency[good])
valid.to_parquet(work + "/orders_valid.parquet", index=False)
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "read": len(orders), "valid": int(good.sum()),
                  "invalid": int(bad.sum())}))
"""


def generate(work: Path, rows: int) -> None:
    """Write customers.csv (rows/10) and orders.csv (rows), seeded; 0.2% invalid orders."""
    customers = max(rows // 10, 1)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false").fetchall()
    con.execute("SELECT setseed(0.42)").fetchall()
    con.execute(
        "COPY (SELECT 'C' || lpad(i::VARCHAR, 8, '0') AS customer_id, "
        "'c' || i || '@example.com' AS email, DATE '2023-01-01' + (i % 1000)::INT AS signup_date, "
        f"'US' AS country FROM range(1, {customers} + 1) t(i)) TO '{work}/customers.csv'"
    ).fetchall()
    con.execute(
        "COPY (SELECT 'O' || lpad(i::VARCHAR, 9, '0') AS order_id, "
        "CASE WHEN i % 1000 = 7 THEN 'X' || i "
        f"ELSE 'C' || lpad((1 + hash(i) % {customers})::VARCHAR, 8, '0') END AS customer_id, "
        "(TIMESTAMP '2023-01-01' + to_seconds((hash(i * 7) % 94608000)::BIGINT))::VARCHAR "
        "AS order_date, CASE WHEN i % 1000 = 3 THEN -5.0 "
        "ELSE round(5 + (hash(i * 13) % 50000) / 100.0, 2) END AS amount, 'USD' AS currency, "
        "['web', 'app', 'store'][1 + (i % 3)::INT] AS channel, 1 + i % 4 AS quantity "
        f"FROM range(1, {rows} + 1) t(i)) TO '{work}/orders.csv'"
    ).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="sw-bench-import-"))
    work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    generate(work, args.rows)
    print(f"generated {args.rows:,} orders in {time.perf_counter() - t:.1f} s ({work})")
    peer_python = venv_python("pandas3", PANDAS_PEER)
    version = subprocess.run(
        [peer_python, "-c", "import pandas; print(pandas.__version__)"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    best = best_of(
        {"ours": (sys.executable, OURS), "pandas": (peer_python, PANDAS)}, args.repeat, work
    )
    ours, peer = best["ours"], best["pandas"]
    for r in (ours, peer):
        r["rows_per_s"] = r["read"] / r["seconds"]
    if (ours["valid"], ours["invalid"]) != (peer["valid"], peer["invalid"]):
        raise SystemExit(f"the two sides disagree: ours {ours}, pandas {peer}")
    print(f"{'':12}{'seconds':>10}{'rows/s':>14}{'peak MiB':>10}{'valid':>12}{'invalid':>9}")
    print(f"pandas {version} in benchmarks/.venvs/pandas3")
    for name, r in (("streamwise", ours), ("pandas", peer)):
        every = ", ".join(f"{x:.2f}" for x in r["runs"])
        print(
            f"{name:12}{r['seconds']:10.2f}{r['rows_per_s']:14,.0f}{r['peak_mib']:10,.0f}"
            f"{r['valid']:12,}{r['invalid']:9,}   (runs: {every} s)"
        )
    speed = ours["rows_per_s"] / peer["rows_per_s"]
    memory = ours["peak_mib"] / peer["peak_mib"]
    print(f"speed ratio (ours/pandas rows/s): {speed:.2f}x   goal >= 5x")
    print(f"memory ratio (ours/pandas peak):  {memory:.2f}    goal <= 0.33")


if __name__ == "__main__":
    main()
