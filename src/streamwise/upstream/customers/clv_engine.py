"""Customer lifetime value for every customer of an engine, fitted on compressed statistics.

The orders never leave the engine (DuckDB, PostgreSQL or Spark), nor does a row per customer:

1. the engine summarises the orders per customer (:func:`summary_expr`, in days) and counts the
   customers of each distinct history ``(frequency, recency, T)``: the purchase model's likelihood
   is a sum over customers of a function of these three numbers only, so the fit on the distinct
   histories with their counts as weights is *exactly* the fit on all customers (Fader, Hardie &
   Lee 2005, "Counting your customers the easy way");
2. Gamma-Gamma's likelihood needs each repeat buyer's own mean value, which does not compress:
   it is fitted on every repeat buyer's ``(frequency, monetary_value)`` when there are at most
   ``max_spend_rows`` of them, otherwise on about that many drawn by a hash of the customer id
   and a seed (:func:`~streamwise.engine.hash_sample`); the standard errors of its parameters
   (``standard_errors_``) are those of the sample, about ``sqrt(repeat buyers / sample)`` times
   the full data's;
3. P(alive), expected purchases and the discounted sum of the per-step expected purchases are
   computed once per distinct history in Python, sent back to the engine, and joined to the
   customers there; expected spend (linear in the customer's mean value, FHL 2005 eq. 5) and
   the CLV are computed by the engine as it writes the result table.

Memory in Python is bounded by the number of distinct histories (at most frequency × recency ×
T values: about 35 bytes each, a few million for years of daily data whatever the number of
customers) plus ``max_spend_rows`` × 16 bytes; not by the number of customers or orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from streamwise.engine import hash_sample
from streamwise.errors import ModelError
from streamwise.upstream.customers.clv import GammaGamma
from streamwise.upstream.customers.summaries import summary_expr

__all__ = ["EngineClv", "clv_in_engine", "distinct_histories", "spend_sample"]

_WEEK = 7.0
_KEYS = ("frequency", "recency", "T")


def distinct_histories(summary: ir.Table) -> pd.DataFrame:
    """Each distinct ``(frequency, recency, T)`` of a summary expression and how many customers
    have it (``weights``), counted by the engine and sorted."""
    counts = summary.group_by(list(_KEYS)).aggregate(weights=summary.count())
    frame = counts.order_by(list(_KEYS)).to_pyarrow().to_pandas()
    frame["weights"] = frame["weights"].astype(float)
    return frame


def spend_sample(
    summary: ir.Table, repeat_buyers: int, *, max_rows: int, seed: int
) -> pd.DataFrame:
    """``(frequency, monetary_value)`` of the ``repeat_buyers`` (all of them when at most
    ``max_rows``, else about that many drawn by a hash of their id)."""
    repeat = summary.filter(summary.frequency > 0)
    if repeat_buyers > max_rows:
        repeat = hash_sample(repeat, "customer_id", max_rows / repeat_buyers, seed)
    return repeat.select("frequency", "monetary_value").to_pyarrow().to_pandas()


@dataclass(frozen=True)
class EngineClv:
    """A CLV fit on compressed statistics: the models, the per-customer expression (run it or
    save it in the same engine) and how much data the fit used."""

    purchase_model: Any
    spend_model: GammaGamma
    customers: ir.Table
    histories: int
    repeat_buyers: int
    spend_rows: int


def clv_in_engine(
    orders: ir.Table,
    purchase_model: Any,
    *,
    horizon: float = 52.0,
    steps: int = 12,
    discount_rate: float = 0.01,
    margin: float = 1.0,
    max_spend_rows: int = 1_000_000,
    seed: int = 0,
) -> EngineClv:
    """Fit ``purchase_model`` (unfitted; weeks) and Gamma-Gamma on the engine's ``orders``.

    Returns the fitted models and ``customers``, an expression of the engine with one row per
    customer: ``customer_id, probability_alive, expected_purchases`` (in ``horizon`` weeks),
    ``expected_spend`` and ``clv`` (discounted over ``steps`` steps at ``discount_rate`` each,
    times ``margin``), the same numbers as :func:`customer_lifetime_value` on the whole summary.
    """
    if steps < 1 or horizon <= 0 or discount_rate < 0:
        raise ModelError("need horizon > 0, steps >= 1 and discount_rate >= 0")
    # In days: whole numbers (exact join keys); weeks are days / 7 as summarize(unit="W") has it.
    # Cached: the engine summarises the orders once (a temporary table, dropped with the
    # result), and the three reads below and the result read that.
    summary = summary_expr(orders, unit="D").cache()
    histories = distinct_histories(summary)
    if histories.empty:
        raise ModelError("the orders hold no customer to fit")
    weeks = histories.assign(recency=histories.recency / _WEEK, T=histories["T"] / _WEEK)
    purchases = purchase_model.fit(weeks)
    repeat_buyers = int(histories.loc[histories.frequency > 0, "weights"].sum())
    sample = spend_sample(summary, repeat_buyers, max_rows=max_spend_rows, seed=seed)
    spend = GammaGamma().fit(sample)
    x, t_x, T = (weeks[c].to_numpy(float) for c in _KEYS)
    discounted = np.zeros(len(weeks))
    before = np.zeros(len(weeks))
    for k in range(1, steps + 1):
        upto = purchases.expected_purchases(horizon * k / steps, x, t_x, T)
        discounted += (upto - before) / (1 + discount_rate) ** k
        before = upto
    scored = ibis.memtable(
        histories[list(_KEYS)].assign(
            probability_alive=purchases.probability_alive(x, t_x, T),
            expected_purchases=before,
            discounted=discounted,
        )
    )
    p, q, v = (spend.params_[name] for name in ("p", "q", "v"))
    joined = summary.join(scored, list(_KEYS))
    freq = joined.frequency.cast("float64")
    weight = (q - 1) / (p * freq + (q - 1))  # FHL 2005 eq. 5: the population's share
    expected_spend = weight * (p * v / (q - 1)) + (1 - weight) * joined.monetary_value
    customers = joined.select(
        customer_id=joined.customer_id,
        probability_alive=joined.probability_alive,
        expected_purchases=joined.expected_purchases,
        expected_spend=expected_spend,
        clv=margin * expected_spend * joined.discounted,
    )
    return EngineClv(purchases, spend, customers, len(histories), repeat_buyers, len(sample))
