"""Training rows of the propensity model: a sample of customers as they stood at a past cut-off,
with what they did next.

At a cut-off ``c`` the CLV features cannot come from ``customer_clv`` (it is computed on every
order, including those after ``c``), so they are computed again the way ``streamwise customers
clv`` computes them (:func:`streamwise.upstream.customers.workspace.run_clv`: weekly summaries,
a purchase model and Gamma-Gamma fitted by maximum likelihood, P(alive), expected purchases and
discounted CLV over 52 weeks in 12 steps at 1% a step) on the orders up to ``c`` alone, for the
sampled customers. Training and scoring therefore see the same quantities, each computed only
from what was known at its date.

Memory: one row of about 20 numbers per sampled customer, plus the purchase summary of the
sampled buyers; at the default 200,000 customers per cut-off that is under 100 MB whatever the
size of the business. The aggregation over all orders and events runs in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis.expr.types as ir
import pandas as pd
from ibis.backends import BaseBackend

from streamwise.downstream.sales.features import activity_table, sample_filter
from streamwise.errors import ModelError
from streamwise.upstream.customers.clv import GammaGamma, customer_lifetime_value
from streamwise.upstream.customers.summaries import summarize
from streamwise.upstream.customers.workspace import PURCHASE_MODELS

__all__ = ["CLV_HORIZON_WEEKS", "CutoffRows", "cutoff_rows"]

#: The CLV settings of ``streamwise customers clv`` (its defaults), used again at each cut-off.
CLV_HORIZON_WEEKS = 52.0
_CLV_STEPS = 12
_CLV_DISCOUNT = 0.01


@dataclass(frozen=True)
class CutoffRows:
    """Sampled customers as of a cut-off: features and the outcome ``bought``.

    Attributes
    ----------
    cutoff
        The last day that counts for the features.
    buyers
        People with an order by the cut-off: engagement, segment fit and CLV features.
    leads
        People signed up by the cut-off without an order yet.
    """

    cutoff: date
    buyers: pd.DataFrame
    leads: pd.DataFrame


def _clv_at(orders: ir.Table, cutoff: date, model: str) -> pd.DataFrame:
    """P(alive), expected purchases and CLV of ``orders``' customers from orders up to
    ``cutoff`` (as :func:`~streamwise.upstream.customers.workspace.run_clv` computes them)."""
    summary = summarize(orders, unit="W", observation_end=cutoff)
    if len(summary) < 50 or int((summary["frequency"] > 0).sum()) < 20:
        raise ModelError(
            f"too little purchase history before {cutoff} to fit the CLV model on the sample "
            f"({len(summary):,} buyers); use a shorter --horizon or a larger --sample"
        )
    purchases = PURCHASE_MODELS[model]().fit(summary)
    spend = GammaGamma().fit(summary)
    x, t_x, T = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    return pd.DataFrame(
        {
            "customer_id": summary["customer_id"].astype(str),
            "probability_alive": purchases.probability_alive(x, t_x, T),
            "expected_purchases": purchases.expected_purchases(CLV_HORIZON_WEEKS, x, t_x, T),
            "clv": customer_lifetime_value(
                purchases, spend, summary, horizon=CLV_HORIZON_WEEKS, steps=_CLV_STEPS,
                discount_rate=_CLV_DISCOUNT,
            ),
        }
    )  # fmt: skip


def cutoff_rows(
    backend: BaseBackend,
    cutoff: date,
    horizon_days: int,
    *,
    fraction: float,
    segments: ir.Table | None,
    clv_model: str = "bgnbd",
) -> CutoffRows:
    """Features of a ``fraction`` of customers as of ``cutoff`` and whether each bought in the
    ``horizon_days`` after it.

    Parameters
    ----------
    backend
        The workspace's Ibis backend.
    cutoff
        The last day the features may use.
    horizon_days
        The outcome window after the cut-off.
    fraction
        Share of customers sampled (the same customers at every cut-off).
    segments
        :func:`~streamwise.downstream.sales.features.segment_table`, or ``None``.
    clv_model
        The purchase model (a key of ``PURCHASE_MODELS``; ``customer_clv`` should come from the
        same one).
    """
    table = activity_table(backend, cutoff, horizon_days=horizon_days, fraction=fraction)
    if segments is not None:
        table = table.left_join(segments, "customer_id").drop("customer_id_right")
    frame = table.order_by("customer_id").to_pandas()
    frame["customer_id"] = frame["customer_id"].astype(str)
    if segments is None:
        frame["segment"] = None
        frame["persona"] = None
        frame["in_target"] = 0
    frame["in_target"] = frame["in_target"].fillna(0).astype(int)
    is_buyer = frame["n_orders"] > 0
    orders = backend.table("orders")
    clv = _clv_at(orders.filter(sample_filter(orders.customer_id, fraction)), cutoff, clv_model)
    buyers = frame[is_buyer].merge(clv, on="customer_id", how="left")
    # A buyer the summary lacks has orders but no customers row at the cut-off: none by contract.
    buyers = buyers.dropna(subset=["probability_alive"]).reset_index(drop=True)
    leads = frame[~is_buyer].reset_index(drop=True)
    return CutoffRows(cutoff=cutoff, buyers=buyers, leads=leads)
