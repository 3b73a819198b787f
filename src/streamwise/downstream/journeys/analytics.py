"""The analytics database as the worker sees it: opened when a step first needs it and closed at
the end of each round of work, so that imports and model fits (DuckDB admits one writing
process) can run between rounds; and what it says about customers: their fields for a message,
and category affinity for cross-selling."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import ibis
import pandas as pd
from ibis import _
from ibis.backends import BaseBackend
from ibis.common.exceptions import TableNotFound

from streamwise.engine import connect

__all__ = ["Analytics", "category_affinity", "customer_fields", "top_categories"]

#: Customer fields a message may use (when the workspace has them).
FIELDS = ("email", "first_name", "last_name", "country", "timezone", "email_consent")


class Analytics:
    """Lazy access to a workspace's analytics database for one round of the worker."""

    def __init__(self, workspace: Any, backend: BaseBackend | None = None) -> None:
        """``backend``: an open Ibis backend to use instead of connecting to the workspace's
        engine (a notebook's or a test's, on any engine)."""
        self.workspace = workspace
        self._backend: BaseBackend | None = backend
        self._tables: dict[str, bool] = {}

    def backend(self) -> BaseBackend:
        """The Ibis backend (connected on first use)."""
        if self._backend is None:
            s = self.workspace.settings
            self._backend = connect(s.engine, duckdb_path=self.workspace.analytics_path,
                                    memory_limit=s.memory_limit, threads=s.threads)  # fmt: skip
        return self._backend

    def has(self, table: str) -> bool:
        """Whether the analytics database has ``table``."""
        if table not in self._tables:
            try:
                self.backend().table(table)
                self._tables[table] = True
            except TableNotFound:
                self._tables[table] = False
        return self._tables[table]

    def fingerprint(self) -> str | None:
        """Changes when the DuckDB file does (size and modification time of the file and its
        write-ahead log); ``None`` for a server engine (states are then checked on schedule)."""
        if self.workspace.settings.engine != "duckdb":
            return None
        path = self.workspace.analytics_path
        parts = []
        for p in (path, path.with_name(path.name + ".wal")):
            try:
                st = os.stat(p)
            except FileNotFoundError:
                parts.append("-")
            else:
                parts.append(f"{st.st_mtime_ns}:{st.st_size}")
        return "/".join(parts)

    def close(self) -> None:
        """Disconnect (the next use connects again)."""
        if self._backend is not None:
            self._backend.disconnect()
            self._backend = None
            self._tables = {}


def _only(table: ibis.Table, ids: Sequence[str]) -> ibis.Table:
    """``table``'s rows of the customers ``ids`` (a join with an in-memory table of the ids:
    its SQL stays small however many ids there are, unlike ``isin`` with literals)."""
    keys = ibis.memtable({"_key": [str(i) for i in ids]})
    j = table.join(keys, table.customer_id.cast("string") == keys._key)
    return j.drop("_key")


def customer_fields(a: Analytics, ids: Sequence[str], extra: Sequence[str] = ()) -> pd.DataFrame:
    """One row per customer of ``ids`` found: ``customer_id``, the :data:`FIELDS` and ``extra``
    columns the customers table has, ``clv`` and ``probability_alive`` (customer_clv) and
    ``segment`` (customer_segments named by segment_clusters) when they exist."""
    b = a.backend()
    c = b.table("customers")
    wanted = [f for f in dict.fromkeys((*FIELDS, *extra)) if f in c.columns and f != "customer_id"]
    mine = _only(c, ids)
    frame = mine.select(mine.customer_id.cast("string").name("customer_id"), *wanted).execute()
    if a.has("customer_clv"):
        k = _only(b.table("customer_clv"), ids)
        clv = k.select(k.customer_id.cast("string").name("customer_id"), "clv",
                       "probability_alive").execute()  # fmt: skip
        frame = frame.merge(clv.drop_duplicates("customer_id"), on="customer_id", how="left")
    if a.has("customer_segments") and a.has("segment_clusters"):
        s, n = _only(b.table("customer_segments"), ids), b.table("segment_clusters")
        j = s.join(n, s.segment == n.cluster)
        names = j.select(j.customer_id.cast("string").name("customer_id"),
                         j.segment_right.name("segment")).execute()  # fmt: skip
        frame = frame.merge(names.drop_duplicates("customer_id"), on="customer_id", how="left")
    return frame.drop_duplicates("customer_id").reset_index(drop=True)


def _bought(b: BaseBackend) -> ibis.Table:
    """Distinct (customer, category) pairs of everything bought."""
    o, line, p = b.table("orders"), b.table("order_lines"), b.table("products")
    j = line.join(o, line.order_id == o.order_id).join(p, line.product_id == p.product_id)
    return j.select(customer_id=j.customer_id.cast("string"), category=j.category).distinct()


def category_affinity(a: Analytics) -> dict[str, str]:
    """Category → the other category bought by the most customers who bought it (ties: the
    first name). Empty without orders, order lines and products."""
    if not all(a.has(t) for t in ("orders", "order_lines", "products")):
        return {}
    pairs = _bought(a.backend())
    other = pairs.view()
    j = pairs.join(other, [pairs.customer_id == other.customer_id,
                           pairs.category != other.category])  # fmt: skip
    counts = j.group_by(category=j.category, other=j.category_right).aggregate(buyers=_.count())
    rank = ibis.row_number().over(group_by=counts.category,
                                  order_by=[counts.buyers.desc(), counts.other])  # fmt: skip
    best = counts.mutate(rank=rank).filter(_.rank == 0).select("category", "other").execute()
    return dict(zip(best["category"], best["other"], strict=True))


def top_categories(a: Analytics, ids: Sequence[str]) -> dict[str, str]:
    """Each customer's most bought category (by units; ties: the first name)."""
    if not ids or not all(a.has(t) for t in ("orders", "order_lines", "products")):
        return {}
    b = a.backend()
    o, line, p = b.table("orders"), b.table("order_lines"), b.table("products")
    mine = _only(o, ids)
    j = line.join(mine, line.order_id == mine.order_id).join(p, line.product_id == p.product_id)
    units = j.group_by(customer_id=j.customer_id.cast("string"), category=j.category).aggregate(
        units=j.quantity.sum()
    )
    rank = ibis.row_number().over(group_by=units.customer_id,
                                  order_by=[units.units.desc(), units.category])  # fmt: skip
    top = units.mutate(rank=rank).filter(_.rank == 0).select("customer_id", "category").execute()
    return dict(zip(top["customer_id"], top["category"], strict=True))
