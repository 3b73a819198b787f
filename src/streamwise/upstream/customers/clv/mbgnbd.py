"""MBG/NBD: Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of
models for customer base analysis", International Journal of Research in Marketing 24(3).

As BG/NBD, except that a customer may also drop out right after the first purchase, so customers
without repeat purchases are not assumed alive.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import betaln, gammaln, hyp2f1

from streamwise.upstream.customers.clv.bgnbd import BetaGeo

__all__ = ["ModifiedBetaGeo"]


class ModifiedBetaGeo(BetaGeo):
    """The MBG/NBD model; same interface as :class:`BetaGeo`."""

    def _gradient(self, params: np.ndarray, prepared: Any) -> None:  # type: ignore[override]
        return None  # BG/NBD's analytic gradient does not apply; numerical gradients are used

    def _loglik(self, params: np.ndarray, data: np.ndarray) -> np.ndarray:
        r, alpha, a, b = params
        x, t_x, T = data.T
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = betaln(a, b + x + 1) - betaln(a, b)
        a3 = -(r + x) * np.log(alpha + T)
        a4 = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return a1 + a2 + a3 + np.logaddexp(0.0, a4)

    @staticmethod
    def _jax_loglik(params: Any, x: Any, t_x: Any, T: Any) -> Any:
        """The log-likelihood per row in ``jax.numpy`` (the GPU path), as :meth:`_loglik`."""
        import jax.numpy as jnp
        from jax.scipy.special import gammaln

        from streamwise.upstream.customers.clv.accelerated import jax_betaln as betaln

        r, alpha, a, b = params[0], params[1], params[2], params[3]
        a1 = gammaln(r + x) - gammaln(r) + r * jnp.log(alpha)
        a2 = betaln(a, b + x + 1) - betaln(a, b)
        a3 = -(r + x) * jnp.log(alpha + T)
        a4 = jnp.log(a) - jnp.log(b + x) + (r + x) * (jnp.log(alpha + T) - jnp.log(alpha + t_x))
        return a1 + a2 + a3 + jnp.logaddexp(0.0, a4)

    def probability_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """P(alive at T | x, t_x, T)."""
        r, alpha, a, b = self._params()
        x, t_x, T = self._arrays(frequency, recency, T)
        log_odds = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return 1.0 / (1.0 + np.exp(log_odds))

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """Expected purchases in (T, T + t] given x, t_x, T."""
        r, alpha, a, b = self._params()
        t, x, t_x, T = self._arrays(t, frequency, recency, T)
        hyp = hyp2f1(r + x, b + x + 1, a + b + x, t / (alpha + T + t))
        numerator = (a + b + x) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
        odds = a / (b + x) * ((alpha + T) / (alpha + t_x)) ** (r + x)
        return numerator / (1 + odds)

    def expected_purchases_new_customer(self, t: Any) -> np.ndarray:
        """E[X(t)] for a customer just acquired."""
        r, alpha, a, b = self._params()
        t = np.asarray(t, dtype=float)
        return (
            b
            / (a - 1)
            * (1 - hyp2f1(r, b + 1, a + b, t / (alpha + t)) * (alpha / (alpha + t)) ** r)
        )
