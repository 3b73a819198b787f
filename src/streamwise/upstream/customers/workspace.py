"""Customer analytics on a workspace's orders, with results written back as tables.

``customer_summary``, ``customer_rfm`` and ``customer_clv`` are (re)written in the analytics
database so that later stages (segments, personas, audiences) and other tools can read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from streamwise.errors import ModelError
from streamwise.upstream.customers.clv import (
    BetaGeo,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    customer_lifetime_value,
)
from streamwise.upstream.customers.rfm import rfm
from streamwise.upstream.customers.segments import SegmentationResult, Segmenter, customer_features
from streamwise.upstream.customers.summaries import summarize

__all__ = [
    "PURCHASE_MODELS",
    "RESULT_TABLES",
    "ClvRun",
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


def run_summary(
    workspace: Any, *, unit: Literal["D", "W"] = "W", calibration_end: str | None = None
) -> pd.DataFrame:
    """Summaries of the workspace's orders, saved as ``customer_summary``."""
    summary = summarize(_orders(workspace), unit=unit, calibration_end=calibration_end)
    _save(workspace, "customer_summary", summary)
    return summary


def run_rfm(workspace: Any, *, bins: int = 5) -> pd.DataFrame:
    """RFM scores and segments, saved as ``customer_rfm``."""
    out = rfm(_orders(workspace), bins=bins)
    _save(workspace, "customer_rfm", out)
    return out


@dataclass(frozen=True)
class ClvRun:
    """A CLV run: the fitted models and one row per customer."""

    purchase_model: Any
    spend_model: GammaGamma
    customers: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Parameters, standard errors and totals."""
        return {
            "purchase_model": type(self.purchase_model).__name__,
            "purchase_params": self.purchase_model.params_,
            "purchase_standard_errors": self.purchase_model.standard_errors_,
            "spend_params": self.spend_model.params_,
            "customers": len(self.customers),
            "mean_clv": float(self.customers["clv"].mean()),
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per customer."""
        return self.customers


def run_clv(
    workspace: Any,
    *,
    model: str = "bgnbd",
    horizon: float = 52.0,
    steps: int = 12,
    discount_rate: float = 0.01,
) -> ClvRun:
    """Fit a purchase model and Gamma-Gamma on weekly summaries; save ``customer_clv``."""
    if model not in PURCHASE_MODELS:
        raise ModelError(f"unknown model {model!r}; use one of: {', '.join(PURCHASE_MODELS)}")
    summary = summarize(_orders(workspace), unit="W")
    purchases = PURCHASE_MODELS[model]().fit(summary)
    spend = GammaGamma().fit(summary)
    x, t_x, T = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    out = pd.DataFrame(
        {
            "customer_id": summary["customer_id"],
            "probability_alive": purchases.probability_alive(x, t_x, T),
            "expected_purchases": purchases.expected_purchases(horizon, x, t_x, T),
            "expected_spend": spend.expected_spend(x, summary["monetary_value"].to_numpy(float)),
            "clv": customer_lifetime_value(
                purchases, spend, summary, horizon=horizon, steps=steps,
                discount_rate=discount_rate,
            ),
        }
    )  # fmt: skip
    _save(workspace, "customer_clv", out)
    return ClvRun(purchase_model=purchases, spend_model=spend, customers=out)


def run_segments(workspace: Any, *, k_max: int = 10, random_state: int = 0) -> SegmentationResult:
    """Behavioural segments of the workspace's customers; labels saved as ``customer_segments``
    (empty when the customers form no distinct groups)."""
    lines = workspace.analytics().table("order_lines")  # created with every workspace
    products = workspace.analytics().table("products")
    if lines.count().execute() == 0:  # no line items: segment on orders alone
        lines = products = None
    features = customer_features(_orders(workspace), lines, products)
    result = Segmenter(k_values=range(2, k_max + 1), random_state=random_state).fit(features)
    frame = result.labels.rename_axis("customer_id").reset_index()
    if frame.empty:
        frame = pd.DataFrame({"customer_id": pd.Series(dtype=str), "segment": pd.Series(dtype=int)})
    _save(workspace, "customer_segments", frame)
    return result
