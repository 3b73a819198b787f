"""Experiment statistics from a table of units, summed where the data is (Ibis).

The statistics of :mod:`~streamwise.measure.experiments.stats` hold counts and sums only, so a
warehouse computes them with one ``GROUP BY arm``: :func:`arm_stats_expr` is that query as an Ibis
expression (DuckDB, PostgreSQL or Spark run it alike), and :func:`arm_stats` turns its few rows
into :class:`ProportionStat`, :class:`MeanStat`, :class:`RatioStat` or :class:`CupedStat` objects
for :func:`~streamwise.measure.experiments.compare`. Only one row per arm (and group) leaves the
engine, however many units the experiment has.

The input has one row per unit (user) with its arm and its value(s); units without an outcome may
hold nulls, which count as 0 (a user who never bought spent 0), as GrowthBook fills them.
"""

from __future__ import annotations

from typing import Any, Literal

import ibis
import ibis.expr.types as ir

from streamwise.errors import DataError
from streamwise.measure.experiments.cuped import CupedStat
from streamwise.measure.experiments.stats import MeanStat, ProportionStat, RatioStat

__all__ = ["StatKind", "arm_stats", "arm_stats_expr"]

#: Which statistic to compute per arm.
StatKind = Literal["proportion", "mean", "ratio", "cuped"]

_CLASSES: dict[str, type[Any]] = {
    "proportion": ProportionStat,
    "mean": MeanStat,
    "ratio": RatioStat,
    "cuped": CupedStat,
}


def _as_table(data: Any) -> ir.Table:
    return data if isinstance(data, ir.Table) else ibis.memtable(data)


def _value(t: ir.Table, column: str) -> ir.FloatingColumn:
    """A column as float64, nulls as 0 (booleans as 0/1: PostgreSQL casts no bool to float, and
    Spark reads the literals 1.0 and 0.0 as decimals, hence the cast)."""
    col = t[column]
    if col.type().is_boolean():
        return ibis.ifelse(col.fill_null(False), 1.0, 0.0).cast("float64")
    if not col.type().is_numeric():
        raise DataError(
            f"the units' column {column!r} is {col.type()}, not a number or a boolean; "
            "pass the per-unit value (revenue, orders, converted)",
            column=column,
        )
    return col.cast("float64").fill_null(0.0)


def arm_stats_expr(
    units: Any,
    *,
    metric: str,
    kind: StatKind = "mean",
    arm: str = "arm",
    denominator: str | None = None,
    pre: str | None = None,
    by: str | None = None,
) -> ir.Table:
    """The per-arm sums of a statistic, as an Ibis expression.

    Parameters
    ----------
    units
        Ibis table (on any backend) or data frame, one row per unit.
    metric
        The per-unit value: converted (boolean or a number, positive meaning converted) for
        ``"proportion"``; the value for ``"mean"``; the numerator for ``"ratio"``; the value
        during the experiment for ``"cuped"``.
    kind
        ``"proportion"``, ``"mean"``, ``"ratio"`` (needs ``denominator``) or ``"cuped"`` (needs
        ``pre``, the same metric before the experiment).
    arm
        The column naming each unit's arm.
    denominator, pre
        Columns for ``"ratio"`` and ``"cuped"``.
    by
        Optional column to compute the statistics per group as well as per arm (segment, day, ...).

    Returns
    -------
    ibis.Table
        Columns ``arm`` (text), ``group`` (with ``by``) and the fields of the statistic's class
        (``n``, ``conversions``; ``n``, ``sum``, ``sum_squares``; ...), one row per arm (and
        group).
    """
    if kind not in _CLASSES:
        raise DataError(f"kind must be one of {', '.join(_CLASSES)}, not {kind!r}")
    need = {"ratio": ("denominator", denominator), "cuped": ("pre", pre)}.get(kind)
    if need is not None and need[1] is None:
        raise DataError(f"a {kind} statistic needs {need[0]}=COLUMN")
    t = _as_table(units)
    for col in (arm, metric, denominator, pre, by):
        if col is not None and col not in t.columns:
            raise DataError(
                f"the units have no column {col!r}; their columns are: {', '.join(t.columns)}",
                column=col,
            )
    keys = {"arm": t[arm].cast("string")} | ({"group": t[by]} if by else {})
    y = _value(t, metric)
    if kind == "proportion":
        col = t[metric]
        hit = col.fill_null(False) if col.type().is_boolean() else y > 0
        sums = {"conversions": ibis.ifelse(hit, 1, 0).sum()}
    elif kind == "mean":
        sums = {"sum": y.sum(), "sum_squares": (y * y).sum()}
    else:
        x = _value(t, denominator if kind == "ratio" else pre)  # type: ignore[arg-type]
        names = (
            ("numerator_", "denominator_", "sum_products")
            if kind == "ratio"
            else ("post_", "pre_", "post_pre_sum_products")
        )
        sums = {
            f"{names[0]}sum": y.sum(),
            f"{names[0]}sum_squares": (y * y).sum(),
            f"{names[1]}sum": x.sum(),
            f"{names[1]}sum_squares": (x * x).sum(),
            names[2]: (y * x).sum(),
        }
    out = t.group_by(**keys).aggregate(n=t.count(), **sums)
    return out.order_by(["group", "arm"] if by else ["arm"])


def arm_stats(
    units: Any,
    *,
    metric: str,
    kind: StatKind = "mean",
    arm: str = "arm",
    denominator: str | None = None,
    pre: str | None = None,
    by: str | None = None,
    backend: Any = None,
) -> dict[Any, Any]:
    """Statistics per arm (or per ``(group, arm)`` with ``by``), computed by the engine.

    Parameters are those of :func:`arm_stats_expr`; ``backend`` runs the expression when the
    units are a data frame to be summed elsewhere (default: the table's own backend, DuckDB for
    data frames).

    Returns
    -------
    dict
        ``arm -> statistic`` (``(group, arm) -> statistic`` with ``by``), in sorted order.

    Examples
    --------
    >>> import pandas as pd
    >>> units = pd.DataFrame({"arm": ["A", "A", "B"], "revenue": [10.0, None, 5.0]})
    >>> arm_stats(units, metric="revenue")
    {'A': MeanStat(n=2, sum=10.0, sum_squares=100.0), 'B': MeanStat(n=1, sum=5.0, sum_squares=25.0)}
    """
    expr = arm_stats_expr(
        units, metric=metric, kind=kind, arm=arm, denominator=denominator, pre=pre, by=by
    )
    rows = backend.execute(expr) if backend is not None else expr.execute()
    cls = _CLASSES[kind]
    fields = [c for c in rows.columns if c not in {"arm", "group"}]
    out: dict[Any, Any] = {}
    for row in rows.to_dict(orient="records"):
        values = {f: int(row[f]) if f == "n" else float(row[f] or 0.0) for f in fields}
        key = (row["group"], row["arm"]) if by else row["arm"]
        out[key] = cls(**values)
    return out
