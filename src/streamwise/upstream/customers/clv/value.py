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

    For BG/NBD, MBG/NBD and Pareto/NBD, ``summary`` comes from ``summarize(...,
    calibration_end=...)``: ``frequency, recency, T`` and the holdout's ``frequency_holdout``
    and ``duration_holdout``. For BG/BB it has ``frequency, recency, periods`` of the calibration
    and ``frequency_holdout`` and ``periods_holdout`` (opportunities in the holdout).
    """
    columns = tuple(purchases._columns)  # the model's own calibration columns
    duration = "periods_holdout" if "periods" in columns else "duration_holdout"
    need = (*columns, "frequency_holdout", duration)
    missing = [c for c in need if c not in summary.columns]
    if missing:
        how = (
            "add the holdout's transactions and opportunities"
            if duration == "periods_holdout"
            else "make it with summarize(..., calibration_end=...)"
        )
        raise DataError(f"the summary has no {missing[0]!r}; {how}", column=missing[0])
    predicted = purchases.expected_purchases(
        summary[duration].to_numpy(float), *(summary[c].to_numpy(float) for c in columns)
    )
    bucket = np.minimum(summary["frequency"].to_numpy(int), max_frequency)
    weights = summary["weights"].to_numpy(float) if "weights" in summary else np.ones(len(bucket))
    frame = pd.DataFrame(
        {"bucket": bucket, "w": weights,
         "actual": summary["frequency_holdout"].to_numpy(float) * weights,
         "predicted": predicted * weights}
    )  # fmt: skip
    out = frame.groupby("bucket").sum()
    customers = out["w"] if "weights" in summary else out["w"].astype(int)
    out = pd.DataFrame(
        {"customers": customers, "actual": out["actual"] / out["w"],
         "predicted": out["predicted"] / out["w"]}
    )  # fmt: skip
    out.index = [str(b) if b < max_frequency else f"{max_frequency}+" for b in out.index]
    out.index.name = "frequency"
    return out
