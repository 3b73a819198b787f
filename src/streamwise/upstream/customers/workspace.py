"""Customer analytics on a workspace's orders, with results written back as tables.

``customer_summary``, ``customer_rfm`` and ``customer_clv`` are (re)written in the analytics
database so that later stages (segments, personas, audiences) and other tools can read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import ibis
import pandas as pd

from streamwise.errors import ModelError
from streamwise.upstream.customers.clv import BetaGeo, GammaGamma, ModifiedBetaGeo, ParetoNBD
from streamwise.upstream.customers.clv_engine import clv_in_engine
from streamwise.upstream.customers.rfm import rfm_expr
from streamwise.upstream.customers.segments import SegmentationResult, Segmenter, feature_expr
from streamwise.upstream.customers.summaries import summary_expr

__all__ = [
    "PURCHASE_MODELS",
    "RESULT_TABLES",
    "ClvRun",
    "SummaryRun",
    "run_clv",
    "run_rfm",
    "run_segments",
    "run_summary",
]

#: The tables these functions write (their names are fixed here, never taken from input).
RESULT_TABLES = ("customer_summary", "customer_rfm", "customer_clv", "customer_segments")

PURCHASE_MODELS: dict[str, type] = {
    "bgnbd": BetaGeo,
    "mbgnbd": ModifiedBetaGeo,
    "pareto": ParetoNBD,
}


def _save(workspace: Any, name: str, frame: pd.DataFrame) -> None:
    workspace.save_result(name, frame, RESULT_TABLES)


def _orders(workspace: Any) -> Any:
    orders = workspace.analytics().table("orders")
    if orders.count().execute() == 0:
        raise ModelError("the workspace has no orders yet; import them with streamwise import")
    return orders


@dataclass(frozen=True)
class SummaryRun:
    """What :func:`run_summary` saved: how many customers, how many bought again."""

    customers: int
    repeat_buyers: int


def run_summary(
    workspace: Any, *, unit: Literal["D", "W"] = "W", calibration_end: str | None = None
) -> SummaryRun:
    """Summaries of the workspace's orders, written by the engine as ``customer_summary``
    (they never pass through Python)."""
    expr = summary_expr(_orders(workspace), unit=unit, calibration_end=calibration_end)
    _save(workspace, "customer_summary", expr)
    saved = workspace.analytics().table("customer_summary")
    counts = (
        saved.aggregate(
            customers=saved.count(), repeat=ibis.ifelse(saved.frequency > 0, 1, 0).sum()
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    return SummaryRun(customers=int(counts["customers"]), repeat_buyers=int(counts["repeat"] or 0))


def run_rfm(workspace: Any, *, bins: int = 5) -> pd.DataFrame:
    """RFM scores and segments, written by the engine as ``customer_rfm``; returns one row
    per segment (customers, share, mean days since the last order, orders and spend), the
    biggest spenders first."""
    _save(workspace, "customer_rfm", rfm_expr(_orders(workspace), bins=bins))
    t = workspace.analytics().table("customer_rfm")
    out = (
        t.group_by("segment")
        .aggregate(
            customers=t.count(),
            recency_days=t.recency_days.cast("float64").mean(),
            frequency=t.frequency.cast("float64").mean(),
            monetary=t.monetary.mean(),
        )
        .to_pandas()
        .sort_values(["monetary", "segment"], ascending=[False, True])
        .set_index("segment")
    )
    out.insert(1, "share", out["customers"] / out["customers"].sum())
    return out


@dataclass(frozen=True)
class ClvRun:
    """A CLV run: the fitted models, totals over the customers (computed by the engine from the
    saved ``customer_clv``) and how much data the fit used."""

    purchase_model: Any
    spend_model: GammaGamma
    totals: dict[str, float]
    histories: int
    spend_rows: int

    def to_dict(self) -> dict[str, Any]:
        """Parameters, standard errors, totals and the data behind the fit."""
        return {
            "purchase_model": type(self.purchase_model).__name__,
            "purchase_params": self.purchase_model.params_,
            "purchase_standard_errors": self.purchase_model.standard_errors_,
            "spend_params": self.spend_model.params_,
            "spend_standard_errors": self.spend_model.standard_errors_,
            **self.totals,
            "distinct_histories": self.histories,
            "spend_rows": self.spend_rows,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per parameter of both models: estimate and standard error."""
        return pd.concat(
            {type(m).__name__: m.summary() for m in (self.purchase_model, self.spend_model)}
        )


def run_clv(
    workspace: Any,
    *,
    model: str = "bgnbd",
    horizon: float = 52.0,
    steps: int = 12,
    discount_rate: float = 0.01,
) -> ClvRun:
    """Fit a purchase model and Gamma-Gamma on the engine's compressed weekly histories
    (:func:`~streamwise.upstream.customers.clv_engine.clv_in_engine`); the engine writes
    ``customer_clv``, one row per customer, without it passing through Python."""
    if model not in PURCHASE_MODELS:
        raise ModelError(f"unknown model {model!r}; use one of: {', '.join(PURCHASE_MODELS)}")
    fit = clv_in_engine(
        _orders(workspace), PURCHASE_MODELS[model](), horizon=horizon, steps=steps,
        discount_rate=discount_rate,
    )  # fmt: skip
    _save(workspace, "customer_clv", fit.customers)
    saved = workspace.analytics().table("customer_clv")
    totals = saved.aggregate(
        customers=saved.count(),
        mean_probability_alive=saved.probability_alive.mean(),
        expected_purchases=saved.expected_purchases.sum(),
        total_clv=saved.clv.sum(),
    ).to_pandas()
    return ClvRun(
        purchase_model=fit.purchase_model,
        spend_model=fit.spend_model,
        totals={k: float(v) for k, v in totals.iloc[0].items()},
        histories=fit.histories,
        spend_rows=fit.spend_rows,
    )


def run_segments(workspace: Any, *, k_max: int = 10, random_state: int = 0) -> SegmentationResult:
    """Behavioural segments of the workspace's customers, fitted on a sample pulled from the
    engine; the engine labels every customer and saves ``customer_segments`` (empty when the
    customers form no distinct groups). ``labels`` of the result are the sample's."""
    lines = workspace.analytics().table("order_lines")  # created with every workspace
    products = workspace.analytics().table("products")
    if lines.count().execute() == 0:  # no line items: segment on orders alone
        lines = products = None
    # Built once in the engine (a temporary table), then read by every step that follows.
    features = feature_expr(_orders(workspace), lines, products).cache()
    try:
        segmenter = Segmenter(k_values=range(2, k_max + 1), random_state=random_state)
        result = segmenter.fit(features)
        if result.structure_found:
            _save(workspace, "customer_segments", result.label_expr(features))
        else:
            empty = {"customer_id": pd.Series(dtype=str), "segment": pd.Series(dtype="int64")}
            _save(workspace, "customer_segments", pd.DataFrame(empty))
    finally:
        features.release()
    return result
