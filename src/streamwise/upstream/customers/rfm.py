"""RFM: recency, frequency and monetary scores by quantile, and the ten named segments.

Scores run from 1 (worst) to ``bins`` (best) by percent rank, so that tied customers share a
score: R ranks days since the last purchase (fewer is better), F the number of purchase days, M
the total spent. Segments come from R and FM = round((F + M) / 2) on a 5 × 5 grid (scores on other
scales are first mapped to 1..5); every cell belongs to exactly one segment, and each customer
carries the rule that placed them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from streamwise.errors import DataError
from streamwise.upstream.customers.summaries import _as_table

__all__ = ["SEGMENT_RULES", "SegmentRule", "rfm", "rfm_expr", "rfm_segment"]


@dataclass(frozen=True)
class SegmentRule:
    """A segment and the R and FM scores (1..5) it covers."""

    name: str
    r: tuple[int, ...]
    fm: tuple[int, ...]
    meaning: str

    def describe(self) -> str:
        """The rule in words."""

        def span(v: tuple[int, ...]) -> str:
            return str(v[0]) if len(v) == 1 else f"{v[0]}-{v[-1]}"

        return f"R {span(self.r)} and FM {span(self.fm)}: {self.meaning}"


#: The ten standard segments; together they cover each of the 25 (R, FM) cells once.
SEGMENT_RULES: tuple[SegmentRule, ...] = (
    SegmentRule("Champions", (4, 5), (4, 5), "bought recently, buy often and spend the most"),
    SegmentRule("Loyal", (3, 4, 5), (3,), "buy regularly and recently, spend well"),
    SegmentRule("Loyal", (3,), (4, 5), "buy regularly and spend well, a little less recently"),
    SegmentRule("New", (5,), (1,), "bought very recently, for the first time or little"),
    SegmentRule("Promising", (4,), (1,), "recent buyers who have not spent much yet"),
    SegmentRule("Potential Loyalists", (4, 5), (2,), "recent buyers with average frequency"),
    SegmentRule("Need Attention", (3,), (1, 2), "average recency, below-average frequency"),
    SegmentRule("Can't Lose Them", (1,), (4, 5), "were among the best, not seen for long"),
    SegmentRule("At Risk", (1, 2), (3,), "spent well, but not seen for a while"),
    SegmentRule("At Risk", (2,), (4, 5), "spent a lot, but not seen for a while"),
    SegmentRule("Hibernating", (2,), (1, 2), "low spend, long ago"),
    SegmentRule("Lost", (1,), (1, 2), "lowest recency, frequency and spend"),
)


def rfm_segment(r_score: Any, fm_score: Any) -> tuple[np.ndarray, np.ndarray]:
    """Segment names and rule descriptions for R and FM scores on 1..5."""
    r = np.asarray(r_score, dtype=int)
    fm = np.asarray(fm_score, dtype=int)
    names = np.full(r.shape, "", dtype=object)
    rules = np.full(r.shape, "", dtype=object)
    for rule in SEGMENT_RULES:
        hit = (names == "") & np.isin(r, rule.r) & np.isin(fm, rule.fm)
        names[hit] = rule.name
        rules[hit] = rule.describe()
    if (names == "").any():
        raise DataError("R and FM scores must lie in 1..5")
    return names, rules


def rfm_expr(
    orders: Any,
    *,
    customer: str = "customer_id",
    date: str = "order_date",
    amount: str = "amount",
    bins: int = 5,
    as_of: date | datetime | str | None = None,
) -> ir.Table:
    """The engine's expression behind :func:`rfm`: scores, segment and rule per customer, all
    computed where the orders are (the segments by a ``CASE`` over :data:`SEGMENT_RULES`)."""
    if not 2 <= bins <= 10:
        raise DataError("bins must lie between 2 and 10")
    t = _as_table(orders)
    for col in (customer, date, amount):
        if col not in t.columns:
            raise DataError(f"the orders have no column {col!r}", column=col)
    rows = t.select(customer=t[customer], day=t[date].cast("date"), value=t[amount].cast("float64"))
    end = (
        ibis.literal(pd.Timestamp(as_of).date())
        if as_of is not None
        else (rows.day.max() + ibis.interval(days=1)).as_scalar()
    )
    per = rows.group_by("customer").aggregate(
        last=rows.day.max(), frequency=rows.day.nunique(), monetary=rows.value.sum()
    )
    per = per.mutate(recency_days=end.delta(per.last, unit="day"))

    def score(order_key: Any) -> Any:
        rank = ibis.percent_rank().over(order_by=order_key)
        return ibis.least(bins, (rank * bins).floor().cast("int64") + 1)

    scored = per.mutate(
        r_score=score(ibis.desc(per.recency_days)),
        f_score=score(per.frequency),
        m_score=score(per.monetary),
    )
    fm = ((scored.f_score + scored.m_score) / 2 + 0.5).floor().cast("int64")

    def to5(value: Any) -> Any:
        return value if bins == 5 else (value * 5 / bins).ceil().cast("int64")

    r5, fm5 = to5(scored.r_score), to5(fm)
    hits = [(r5.isin(rule.r) & fm5.isin(rule.fm), rule) for rule in SEGMENT_RULES]
    return scored.select(
        customer_id=scored.customer,
        recency_days=scored.recency_days,
        frequency=scored.frequency,
        monetary=scored.monetary,
        r_score=scored.r_score,
        f_score=scored.f_score,
        m_score=scored.m_score,
        fm_score=fm,
        rfm=scored.r_score.cast("string") + scored.f_score.cast("string")
        + scored.m_score.cast("string"),
        segment=ibis.cases(*((hit, rule.name) for hit, rule in hits)),
        rule=ibis.cases(*((hit, rule.describe()) for hit, rule in hits)),
    )  # fmt: skip


def rfm(
    orders: Any,
    *,
    customer: str = "customer_id",
    date: str = "order_date",
    amount: str = "amount",
    bins: int = 5,
    as_of: date | datetime | str | None = None,
) -> pd.DataFrame:
    """RFM scores and segments per customer (computed where the orders are, through Ibis).

    Parameters
    ----------
    orders
        pandas, pyarrow or Ibis table of orders.
    bins
        Number of score levels (5 is standard); segments use the scores mapped onto 1..5.
    as_of
        Date recency is measured from (default: the day after the last order).

    Returns
    -------
    DataFrame with ``customer_id, recency_days, frequency, monetary, r_score, f_score, m_score,
    fm_score, rfm, segment, rule``, sorted by customer.
    """
    expr = rfm_expr(orders, customer=customer, date=date, amount=amount, bins=bins, as_of=as_of)
    return expr.order_by("customer_id").to_pandas()
