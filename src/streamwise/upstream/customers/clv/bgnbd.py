"""BG/NBD: Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way: An Alternative to
the Pareto/NBD Model", Marketing Science 24(2), 275-284.

While alive, a customer buys at Poisson rate λ ~ Gamma(r, α); after each repeat purchase they
drop out with probability p ~ Beta(a, b). Equation numbers below refer to the paper.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import betaln, digamma, gammaln, hyp2f1

from streamwise.upstream.customers.clv.base import ClvModel, check_purchase_history

__all__ = ["BetaGeo"]


class BetaGeo(ClvModel):
    """The BG/NBD model, fitted by maximum likelihood on a summary (frequency, recency, T).

    Parameters
    ----------
    penalizer
        L2 penalty on the parameters (0: plain maximum likelihood).
    initial
        Starting values (``r``, ``alpha``, ``a``, ``b``).
    backend
        ``"auto"`` (JAX where JAX finds a GPU, else NumPy), ``"numpy"`` or ``"jax"``; see
        :mod:`streamwise.upstream.customers.clv.accelerated`.

    Attributes
    ----------
    params_ : dict
        ``{"r", "alpha", "a", "b"}`` at the optimum.
    standard_errors_ : dict
        From the inverse observed information.
    log_likelihood_ : float
        Total log-likelihood at the optimum (eq. 6 summed over customers).

    Examples
    --------
    >>> m = BetaGeo().fit(summary)                                   # doctest: +SKIP
    >>> m.expected_purchases(39, frequency=2, recency=30.43, T=38.86)  # doctest: +SKIP
    """

    _param_names = ("r", "alpha", "a", "b")
    _columns = ("frequency", "recency", "T")

    def _check(self, data: np.ndarray) -> None:
        check_purchase_history(data)

    def _loglik(self, params: np.ndarray, data: np.ndarray) -> np.ndarray:
        """Per-row log-likelihood, eq. 6, in log space (logaddexp of the two terms)."""
        r, alpha, a, b = params
        x, t_x, T = data.T
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = betaln(a, b + x) - betaln(a, b)
        a3 = -(r + x) * np.log(alpha + T)
        with np.errstate(divide="ignore", invalid="ignore"):
            a4 = np.where(
                x > 0,
                np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
                -np.inf,
            )
        return a1 + a2 + np.logaddexp(a3, a4)

    @staticmethod
    def _jax_loglik(params: Any, x: Any, t_x: Any, T: Any) -> Any:
        """Eq. 6 per row in ``jax.numpy`` (the GPU path), as :meth:`_loglik`."""
        import jax.numpy as jnp
        from jax.scipy.special import gammaln

        from streamwise.upstream.customers.clv.accelerated import jax_betaln as betaln

        r, alpha, a, b = params[0], params[1], params[2], params[3]
        a1 = gammaln(r + x) - gammaln(r) + r * jnp.log(alpha)
        a2 = betaln(a, b + x) - betaln(a, b)
        a3 = -(r + x) * jnp.log(alpha + T)
        # both branches are finite, so the gradient of the one not taken is zero, not NaN
        dropout = (
            jnp.log(a) - jnp.log(jnp.maximum(b + x - 1, 1e-300)) - (r + x) * jnp.log(alpha + t_x)
        )
        a4 = jnp.where(x > 0, dropout, -jnp.inf)
        return a1 + a2 + jnp.logaddexp(a3, a4)

    def _prepare(self, data: np.ndarray) -> tuple[np.ndarray, ...]:
        x, t_x, T = (np.ascontiguousarray(c) for c in data.T)  # strided columns are slow
        xs, index = np.unique(x, return_inverse=True)  # few distinct counts: per-x terms once
        return x, t_x, T, xs, index.ravel()

    def _gradient(self, params: np.ndarray, prepared: Any) -> tuple[np.ndarray, np.ndarray]:
        """Eq. 6 and its derivatives in (r, α, a, b). Terms that depend on x alone are computed
        once per distinct x; the per-row work is kept to a few passes (it is most of a fit)."""
        r, alpha, a, b = params
        x, t_x, T, xs, ix = prepared
        # per distinct x
        log_alpha = np.log(alpha)
        const_ll = gammaln(r + xs) - gammaln(r) + r * log_alpha + betaln(a, b + xs) - betaln(a, b)
        const_r = digamma(r + xs) - digamma(r) + log_alpha
        d_a = digamma(a + b) - digamma(a + b + xs)
        d_b = digamma(b + xs) - digamma(a + b + xs) - digamma(b) + digamma(a + b)
        with np.errstate(divide="ignore"):
            # log(a / (b + x - 1)): -inf for x = 0, which has no dropout term
            log_odds = np.where(xs > 0, np.log(a) - np.log(np.maximum(b + xs - 1, 1e-300)), -np.inf)
        inv_bx1 = np.where(xs > 0, 1 / np.maximum(b + xs - 1, 1e-300), 0.0)
        # per row: with A3 = -(r+x) log(α+T) and A4 - A3 = d, ll = A3 + softplus(d) and the
        # dropout term's weight is w4 = sigmoid(d).
        la_T, la_tx = np.log(alpha + T), np.log(alpha + t_x)
        rx = r + x
        gap = la_T - la_tx
        d = log_odds[ix] + rx * gap
        e = np.exp(-np.abs(d))
        w4 = np.where(d >= 0, 1.0, e) / (1.0 + e)
        ll = const_ll[ix] - rx * la_T + np.maximum(d, 0.0) + np.log1p(e)
        inv_T = 1 / (alpha + T)
        grad = np.empty((4, len(x)))  # one contiguous row per parameter
        grad[0] = const_r[ix] - la_T + w4 * gap
        grad[1] = r / alpha - rx * (inv_T + w4 * (1 / (alpha + t_x) - inv_T))
        grad[2] = d_a[ix] + w4 / a
        grad[3] = d_b[ix] - w4 * inv_bx1[ix]
        return ll, grad

    def probability_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """P(alive at T | x, t_x, T), eq. 11 of the technical note (Fader, Hardie & Lee 2008)."""
        r, alpha, a, b = self._params()
        x, t_x, T = self._arrays(frequency, recency, T)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_ratio = (
                np.log(a) - np.log(np.maximum(b + x - 1, 1e-300))
                + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
            )  # fmt: skip
        return np.where(x > 0, 1.0 / (1.0 + np.exp(log_ratio)), 1.0)

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """Expected purchases in (T, T + t] given x, t_x, T: eq. 10."""
        r, alpha, a, b = self._params()
        t, x, t_x, T = self._arrays(t, frequency, recency, T)
        z = t / (alpha + T + t)
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
        first = (a + b + x - 1) / (a - 1)
        second = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp
        with np.errstate(divide="ignore", invalid="ignore"):
            odds = np.where(
                x > 0,
                a / np.maximum(b + x - 1, 1e-300) * ((alpha + T) / (alpha + t_x)) ** (r + x),
                0.0,
            )
        return first * second / (1 + odds)

    def expected_purchases_new_customer(self, t: Any) -> np.ndarray:
        """E[X(t)] for a customer just acquired, eq. 9."""
        r, alpha, a, b = self._params()
        t = np.asarray(t, dtype=float)
        z = t / (alpha + t)
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))
