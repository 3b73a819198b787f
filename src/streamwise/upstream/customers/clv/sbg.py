"""Shifted-beta-geometric (sBG) model of contract churn: Fader & Hardie (2007), "How to Project
Customer Retention", Journal of Interactive Marketing 21(1), 76-90.

Each customer renews each period with a constant probability 1 - θ, θ ~ Beta(α, β).
P(T = t) = B(α + 1, β + t - 1) / B(α, β) and S(t) = B(α, β + t) / B(α, β) (eqs. 5, 6).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betaln

from streamwise.errors import DataError
from streamwise.upstream.customers.clv.base import ClvModel

__all__ = ["ShiftedBetaGeo"]


class ShiftedBetaGeo(ClvModel):
    """sBG churn model fitted on ``periods`` (periods a customer stayed) and ``churned`` (1 if
    they left after those periods, 0 if still subscribed: censored), with optional ``weights``.

    Attributes
    ----------
    params_ : dict
        ``{"alpha", "beta"}``.
    """

    _param_names = ("alpha", "beta")
    _columns = ("periods", "churned")

    @staticmethod
    def from_survivors(survivors: Any) -> pd.DataFrame:
        """Turn counts alive at the start of periods 0, 1, ..., n into a fitting frame."""
        s = np.asarray(survivors, dtype=float)
        if s.ndim != 1 or len(s) < 2 or np.any(np.diff(s) > 0):
            raise DataError("survivors must be a non-increasing sequence of at least 2 counts")
        lost = -np.diff(s)
        periods = np.arange(1, len(s))
        return pd.DataFrame(
            {
                "periods": np.append(periods, len(s) - 1),
                "churned": np.append(np.ones(len(lost)), 0),
                "weights": np.append(lost, s[-1]),
            }
        )

    def _check(self, data: np.ndarray) -> None:
        t, churned = data.T
        if (t < 1).any() or not np.isin(churned, (0, 1)).all():
            raise DataError("periods must be >= 1 and churned 0 or 1")

    def _loglik(self, params: np.ndarray, data: np.ndarray) -> np.ndarray:
        alpha, beta = params
        t, churned = data.T
        died = betaln(alpha + 1, beta + t - 1) - betaln(alpha, beta)
        alive = betaln(alpha, beta + t) - betaln(alpha, beta)
        return np.where(churned == 1, died, alive)

    def survival(self, t: Any) -> np.ndarray:
        """S(t): the share still subscribed after t periods (eq. 6)."""
        alpha, beta = self._params()
        t = np.asarray(t, dtype=float)
        return np.exp(betaln(alpha, beta + t) - betaln(alpha, beta))

    def retention_rate(self, t: Any) -> np.ndarray:
        """r_t = S(t) / S(t - 1) = (β + t - 1) / (α + β + t - 1) (eq. 8)."""
        alpha, beta = self._params()
        t = np.asarray(t, dtype=float)
        return (beta + t - 1) / (alpha + beta + t - 1)
