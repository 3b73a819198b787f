"""Customer lifetime value from a purchase model and a spend model, and holdout validation.

Discounted CLV as in Fader, Hardie & Lee (2005, JMR "RFM and CLV"), computed the way lifetimes'
``customer_lifetime_value`` does: expected purchases per step of the horizon times expected
spend, discounted per step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from streamwise.errors import DataError

__all__ = ["customer_lifetime_value", "holdout_validation"]


def customer_lifetime_value(
    purchases: Any,
    spend: Any,
    summary: pd.DataFrame,
    *,
    horizon: float = 52.0,
    steps: int = 12,
    discount_rate: float = 0.01,
    margin: float = 1.0,
) -> np.ndarray:
    """Discounted value of each customer's purchases over ``horizon`` (the model's time unit).

    Parameters
    ----------
    purchases
        A fitted purchase model (``BetaGeo``, ``ModifiedBetaGeo`` or ``ParetoNBD``).
    spend
        A fitted ``GammaGamma`` model.
    summary
        ``frequency, recency, T, monetary_value`` per customer.
    horizon, steps
        The future period and how many discounting steps it has (52 weeks in 12 months).
    discount_rate
        Per step (0.01 a month is about 12.7% a year).
    margin
        Share of revenue that is profit.
    """
    if steps < 1 or horizon <= 0 or discount_rate < 0:
        raise DataError("need horizon > 0, steps >= 1 and discount_rate >= 0")
    x, t_x, T = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    value = spend.expected_spend(x, summary["monetary_value"].to_numpy(float))
    total = np.zeros(len(summary))
    before = np.zeros(len(summary))
    for k in range(1, steps + 1):
        upto = purchases.expected_purchases(horizon * k / steps, x, t_x, T)
        total += margin * value * (upto - before) / (1 + discount_rate) ** k
        before = upto
    return total


def holdout_validation(
    purchases: Any, summary: pd.DataFrame, *, max_frequency: int = 7
) -> pd.DataFrame:
    """Predicted against actual holdout purchases, by calibration frequency (``7+`` pooled).

    ``summary`` must come from ``summarize(..., calibration_end=...)``.
    """
    need = ("frequency", "recency", "T", "frequency_holdout", "duration_holdout")
    missing = [c for c in need if c not in summary.columns]
    if missing:
        raise DataError(
            f"the summary has no {missing[0]!r}; make it with summarize(..., calibration_end=...)"
        )
    predicted = purchases.expected_purchases(
        summary["duration_holdout"].to_numpy(float),
        summary["frequency"].to_numpy(float),
        summary["recency"].to_numpy(float),
        summary["T"].to_numpy(float),
    )
    bucket = np.minimum(summary["frequency"].to_numpy(int), max_frequency)
    frame = pd.DataFrame(
        {"bucket": bucket, "actual": summary["frequency_holdout"].to_numpy(float),
         "predicted": predicted}
    )  # fmt: skip
    out = frame.groupby("bucket").agg(
        customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean")
    )
    out.index = [str(b) if b < max_frequency else f"{max_frequency}+" for b in out.index]
    out.index.name = "frequency"
    return out
