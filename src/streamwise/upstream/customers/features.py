"""Behavioural features per customer, aggregated by the engine (DuckDB, PostgreSQL or Spark).

Order count, mean order value, days since the last order, share of orders per sales channel and
share of spend per product category. The channel and category names are read first (a few
distinct values), then one conditional aggregate per name runs in the engine, so that the wide
table is built where the data is and can stay there (:func:`feature_expr`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from streamwise.errors import DataError
from streamwise.upstream.customers.summaries import _as_table

__all__ = ["customer_features", "feature_expr"]


def _names(column: ir.Column) -> list[Any]:
    """The distinct non-null values of a column, sorted (as a pivot orders its columns)."""
    values = column.name("v").as_table().filter(lambda t: t.v.notnull()).distinct()
    return sorted(values.to_pyarrow().column("v").to_pylist())


def _label(prefix: str, value: Any) -> str:
    return f"{prefix}_{value}".replace(" ", "_")


def _shares(rows: ir.Table, key: str, weight: ir.Value, prefix: str) -> ir.Table:
    """Per customer, each value of ``key``'s share of ``weight`` (0 when the total is 0)."""
    names = _names(rows[key])
    rows = rows.mutate(_w=weight)
    total = ibis.ifelse(rows[key].notnull(), rows._w, 0).sum()
    parts = {
        _label(prefix, name): ibis.ifelse(rows[key] == name, rows._w, 0).sum() for name in names
    }
    grouped = rows.group_by("customer_id").aggregate(_total=total, **parts)
    return grouped.select(
        "customer_id",
        **{
            col: ibis.ifelse(grouped._total == 0, 0.0, grouped[col] / grouped._total).cast(
                "float64"
            )
            for col in parts
        },
    )


def feature_expr(
    orders: Any,
    order_lines: Any | None = None,
    products: Any | None = None,
    *,
    as_of: date | datetime | str | None = None,
) -> ir.Table:
    """The engine's expression of :func:`customer_features`, with a ``customer_id`` column."""
    o = _as_table(orders)
    for col in ("customer_id", "order_date", "amount"):
        if col not in o.columns:
            raise DataError(f"the orders have no column {col!r}", column=col)
    end = (
        ibis.literal(pd.Timestamp(as_of).date())
        if as_of is not None
        else o.order_date.max().cast("date").as_scalar()
    )
    base = (
        o.group_by("customer_id")
        .aggregate(
            orders=o.count(),
            mean_order_value=o.amount.cast("float64").mean(),
            last=o.order_date.max().cast("date"),
        )
        .mutate(recency_days=lambda t: end.delta(t.last, unit="day"))
        .drop("last")
    )
    out = base
    if "channel" in o.columns:
        channels = _shares(o, "channel", ibis.literal(1), "channel")
        out = out.left_join(channels, "customer_id").drop("customer_id_right")
    if order_lines is not None and products is not None:
        lines, prods = _as_table(order_lines), _as_table(products)
        joined = lines.join(prods, "product_id").join(
            o.select("order_id", "customer_id"), "order_id"
        )
        value = joined.amount if "amount" in joined.columns else joined.quantity * joined.unit_price
        categories = _shares(joined, "category", value.cast("float64"), "category")
        out = out.left_join(categories, "customer_id").drop("customer_id_right")
    shares = [c for c in out.columns if c not in base.columns]
    return out.mutate(**{c: out[c].fill_null(0.0) for c in shares})


def customer_features(
    orders: Any,
    order_lines: Any | None = None,
    products: Any | None = None,
    *,
    as_of: date | datetime | str | None = None,
) -> pd.DataFrame:
    """One row per customer (indexed by ``customer_id``, sorted) of behavioural features.

    Columns: ``orders``, ``mean_order_value``, ``recency_days``, ``channel_<name>`` (share of
    orders) and, with ``order_lines`` and ``products``, ``category_<name>`` (share of spend).
    """
    expr = feature_expr(orders, order_lines, products, as_of=as_of)
    return expr.to_pyarrow().to_pandas().set_index("customer_id").sort_index()
