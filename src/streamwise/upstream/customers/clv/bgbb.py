"""BG/BB: Fader, Hardie & Shang (2010), "Customer-Base Analysis in a Discrete-Time
Noncontractual Setting", Marketing Science 29(6), 1086-1108.

At each of ``periods`` opportunities an alive customer transacts with probability p ~ Beta(α, β)
and, before the next one, drops out with probability θ ~ Beta(γ, δ). Data per customer:
``frequency`` x (transactions), ``recency`` t_x (opportunity of the last one) and ``periods`` n.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import betaln, gammaln, logsumexp

from streamwise.errors import DataError
from streamwise.upstream.customers.clv.base import ClvModel

__all__ = ["BetaGeoBetaBinom"]


class BetaGeoBetaBinom(ClvModel):
    """The BG/BB model, fitted on (frequency, recency, periods) with optional ``weights``.

    Attributes
    ----------
    params_ : dict
        ``{"alpha", "beta", "gamma", "delta"}``.
    """

    _param_names = ("alpha", "beta", "gamma", "delta")
    _columns = ("frequency", "recency", "periods")

    def _check(self, data: np.ndarray) -> None:
        x, t_x, n = data.T
        if (x < 0).any() or (x > t_x).any() or (t_x > n).any() or ((x > 0) & (t_x < 1)).any():
            raise DataError(
                "need 0 <= frequency <= recency <= periods (recency >= 1 when frequency > 0)"
            )
        if (data != np.round(data)).any():
            raise DataError("frequency, recency and periods count opportunities: whole numbers")

    def _loglik(self, params: np.ndarray, data: np.ndarray) -> np.ndarray:
        """Per-row log-likelihood, eq. 5 of the paper, summed in log space."""
        alpha, beta, gamma, delta = params
        x, t_x, n = data.T
        base_ab, base_gd = betaln(alpha, beta), betaln(gamma, delta)
        alive = betaln(alpha + x, beta + n - x) - base_ab + betaln(gamma, delta + n) - base_gd
        # Dropping out after opportunity t_x + i, for i = 0 .. n - t_x - 1.
        width = int((n - t_x).max()) if len(n) else 0
        i = np.arange(max(width, 1))[:, None]
        terms = (
            betaln(alpha + x, beta + t_x - x + i) - base_ab
            + betaln(gamma + 1, delta + t_x + i) - base_gd
        )  # fmt: skip
        terms = np.where(i < (n - t_x), terms, -np.inf)
        return np.logaddexp(alive, logsumexp(terms, axis=0))

    def probability_alive(self, frequency: Any, recency: Any, periods: Any) -> np.ndarray:
        """P(alive at opportunity n + 1 | x, t_x, n), eq. 11."""
        alpha, beta, gamma, delta = self._params()
        x, t_x, n = np.broadcast_arrays(*self._arrays(frequency, recency, periods))
        data = np.column_stack([x.ravel(), t_x.ravel(), n.ravel()])
        log_num = (
            betaln(alpha + x.ravel(), beta + n.ravel() - x.ravel()) - betaln(alpha, beta)
            + betaln(gamma, delta + n.ravel() + 1) - betaln(gamma, delta)
        )  # fmt: skip
        return np.exp(log_num - self._loglik(np.array(self._params()), data)).reshape(x.shape)

    def expected_purchases(
        self, future: Any, frequency: Any, recency: Any, periods: Any
    ) -> np.ndarray:
        """Expected transactions in the next ``future`` opportunities, eq. 13."""
        alpha, beta, gamma, delta = self._params()
        m, x, t_x, n = np.broadcast_arrays(*self._arrays(future, frequency, recency, periods))
        data = np.column_stack([x.ravel(), t_x.ravel(), n.ravel()])
        log_l = self._loglik(np.array(self._params()), data).reshape(x.shape)
        log_front = (
            betaln(alpha + x + 1, beta + n - x) - betaln(alpha, beta)
            + np.log(delta) - np.log(np.abs(gamma - 1))
            + gammaln(gamma + delta) - gammaln(1 + delta)
        )  # fmt: skip
        bracket = np.exp(gammaln(1 + delta + n) - gammaln(gamma + delta + n)) - np.exp(
            gammaln(1 + delta + n + m) - gammaln(gamma + delta + n + m)
        )
        return np.sign(gamma - 1) * np.exp(log_front - log_l) * bracket
