"""Gamma-Gamma spend model: Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for
Customer Base Analysis", Journal of Marketing Research 42(4), 415-430 (and Colombo & Jiang 1999).

The value of each transaction is Gamma(p, ν); ν varies over customers as Gamma(q, γ). Fitted on
repeat buyers: their number of repeat transactions ``frequency`` and mean repeat value
``monetary_value``. ``v`` is γ in the paper (lifetimes' name).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from streamwise.errors import DataError
from streamwise.upstream.customers.clv.base import ClvModel

__all__ = ["GammaGamma"]


class GammaGamma(ClvModel):
    """Gamma-Gamma model of average transaction value.

    ``fit(summary)`` uses the rows with ``frequency > 0`` (customers without repeat purchases
    carry no information on spend) and needs ``monetary_value > 0`` for them.

    Attributes
    ----------
    params_ : dict
        ``{"p", "q", "v"}``.
    """

    _param_names = ("p", "q", "v")
    _columns = ("frequency", "monetary_value")

    def fit(self, summary: pd.DataFrame) -> GammaGamma:
        """Fit on the repeat buyers of ``summary``; returns ``self``."""
        if "frequency" not in summary.columns:
            raise DataError("the summary has no column 'frequency'", column="frequency")
        repeat = summary[summary["frequency"] > 0]
        if repeat.empty:
            raise DataError("no customer has a repeat purchase; the spend model needs some")
        super().fit(repeat)
        return self

    def _check(self, data: np.ndarray) -> None:
        if (data[:, 1] <= 0).any():
            raise DataError(
                "monetary_value must be positive for every repeat buyer; drop zero-value rows"
            )

    def _prepare(self, data: np.ndarray) -> tuple[np.ndarray, ...]:
        x, m = (np.ascontiguousarray(c) for c in data.T)
        return x, m, np.log(x), np.log(m)

    def _gradient(self, params: np.ndarray, prepared: Any) -> tuple[np.ndarray, np.ndarray]:
        """The log-likelihood below and its derivatives in (p, q, v). Without them the fit
        fell back to a derivative-free search that took minutes on a million repeat buyers."""
        p, q, v = params
        x, m, log_x, log_m = prepared
        px = p * x
        log_xmv = np.log(x * m + v)
        psi_pxq = digamma(px + q)
        ll = (
            gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
            + (px - 1) * log_m + px * log_x - (px + q) * log_xmv
        )  # fmt: skip
        grad = np.vstack(
            [
                x * (psi_pxq - digamma(px) + log_m + log_x - log_xmv),
                psi_pxq - digamma(q) + np.log(v) - log_xmv,
                q / v - (px + q) / (x * m + v),
            ]
        )
        return ll, grad

    def _loglik(self, params: np.ndarray, data: np.ndarray) -> np.ndarray:
        """Per-customer log-likelihood of the mean repeat value (FHL 2005, appendix)."""
        p, q, v = params
        x, m = data.T
        px = p * x
        return (
            gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
            + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(x * m + v)
        )  # fmt: skip

    def expected_spend(self, frequency: Any, monetary_value: Any) -> np.ndarray:
        """E[mean transaction value | x, m̄] (FHL 2005, eq. 5): a weighted mean of the
        population mean and the customer's own mean."""
        p, q, v = self._params()
        x, m = self._arrays(frequency, monetary_value)
        population = p * v / (q - 1)
        weight = (q - 1) / (p * x + q - 1)
        return weight * population + (1 - weight) * m
