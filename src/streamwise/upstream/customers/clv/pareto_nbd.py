"""Pareto/NBD: Schmittlein, Morrison & Colombo (1987), "Counting Your Customers: Who Are They
and What Will They Do Next?", Management Science 33(1); likelihood as in Fader, Hardie & Lee
(2005), "A Note on Implementing the Pareto/NBD Model in MATLAB" (eqs. 1-3).

Purchases while alive are Poisson(λ), λ ~ Gamma(r, α); lifetimes are exponential(μ),
μ ~ Gamma(s, β).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import integrate
from scipy.special import gammaln, hyp2f1

from streamwise.upstream.customers.clv.base import ClvModel, check_purchase_history

__all__ = ["ParetoNBD", "log_hyp2f1_a_a1"]


def _log_hyp2f1_by_quadrature(a: float, b: float, z: float) -> float:
    """log 2F1(a, b; a+1; z) = log(a ∫_0^1 u^(a-1) (1 - z u)^(-b) du), integrated with the
    integrand scaled by its maximum (at u = 1), so nothing overflows."""
    peak = -b * np.log1p(-z)

    def scaled(u: float) -> float:
        if u <= 0.0:
            return 0.0
        return float(np.exp((a - 1) * np.log(u) - b * np.log1p(-z * u) - peak))

    marks = sorted({p for p in (1 - 1 / max(a, 1.0), 1 - (1 - z) * 10, 1 - (1 - z)) if 0 < p < 1})
    with warnings.catch_warnings():  # extreme corners only reach ~1e-8; that is plenty
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        value, _ = integrate.quad(
            scaled, 0.0, 1.0, points=marks or None, limit=500, epsabs=0.0, epsrel=1e-10
        )
    return float(np.log(a) + peak + np.log(value))


def log_hyp2f1_a_a1(a: np.ndarray, b: np.ndarray, z: np.ndarray) -> np.ndarray:
    """log 2F1(a, b; a + 1; z) for a > 0, b > 0 and 0 <= z < 1, finite where scipy's fails.

    scipy's ``hyp2f1`` gives NaN or infinity for large ``a`` with ``z`` near 1 (which the
    Pareto/NBD meets for heavy buyers); those few values come from the integral representation
    (Abramowitz & Stegun 15.3.1), integrated in scaled form.
    """
    a, b, z = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (a, b, z)))
    with np.errstate(all="ignore"):
        direct = np.log(hyp2f1(a, b, a + 1, z))
    bad = ~np.isfinite(direct)
    if bad.any():
        direct = direct.copy()
        direct[bad] = [
            _log_hyp2f1_by_quadrature(ai, bi, zi)
            for ai, bi, zi in zip(a[bad], b[bad], z[bad], strict=True)
        ]
    return direct


def _distinct(first: np.ndarray, second: np.ndarray | None = None):
    """The distinct values (or pairs, as two arrays) and each row's index among them.

    A pair is sorted as one complex number (real, then imaginary part), which numpy sorts ten
    times faster than the rows of a two-column array.
    """
    if second is None:
        values, index = np.unique(first, return_inverse=True)
        return [values], index
    values, index = np.unique(first + 1j * second, return_inverse=True)
    return [values.real, values.imag], index


@dataclass(frozen=True)
class _Factored:
    """(x, t_x, T) rows split into their distinct parts.

    The costly terms of the likelihood each depend on x alone, T alone, (x, t_x) or (x, T),
    which take far fewer distinct values than the (x, t_x, T) rows (at 1M customers, ~30k
    pairs for ~250k rows): each is computed once per distinct value and gathered.
    """

    x: np.ndarray
    x_values: np.ndarray
    x_index: np.ndarray
    T_values: np.ndarray
    T_index: np.ndarray
    last_x: np.ndarray
    last_t: np.ndarray
    last_index: np.ndarray
    end_x: np.ndarray
    end_t: np.ndarray
    end_index: np.ndarray

    @classmethod
    def of(cls, data: np.ndarray) -> _Factored:
        x, t_x, T = data.T
        (x_values,), x_index = _distinct(x)
        (T_values,), T_index = _distinct(T)
        (last_x, last_t), last_index = _distinct(x, t_x)
        (end_x, end_t), end_index = _distinct(x, T)
        return cls(
            x,
            x_values,
            x_index,
            T_values,
            T_index,
            last_x,
            last_t,
            last_index,
            end_x,
            end_t,
            end_index,
        )


class ParetoNBD(ClvModel):
    """The Pareto/NBD model fitted on (frequency, recency, T).

    Attributes
    ----------
    params_ : dict
        ``{"r", "alpha", "s", "beta"}``.
    """

    _param_names = ("r", "alpha", "s", "beta")
    _columns = ("frequency", "recency", "T")

    def _check(self, data: np.ndarray) -> None:
        check_purchase_history(data)

    def _factored(self, data: np.ndarray) -> _Factored:
        """The factored form of ``data``, kept for the arrays a fit evaluates again and again."""
        cache: list[tuple[np.ndarray, _Factored]] = self.__dict__.setdefault("_factor_cache", [])
        for array, factored in cache:
            if array is data:
                return factored
        factored = _Factored.of(data)
        cache[:] = [*cache[-1:], (data, factored)]  # the sample and the whole, during a fit
        return factored

    def _loglik(self, params: np.ndarray, data: np.ndarray) -> np.ndarray:
        r, alpha, s, beta = params
        f = self._factored(data)
        x = f.x
        a1 = (
            (gammaln(r + f.x_values) - gammaln(r))[f.x_index] + r * np.log(alpha) + s * np.log(beta)
        )
        first = (
            -(r + x) * np.log(alpha + f.T_values)[f.T_index]
            - s * np.log(beta + f.T_values)[f.T_index]
        )
        # log A0 of FHL's note (eq. 2/3): a difference of two terms, one of (x, t_x), one of
        # (x, T), each computed once per distinct pair; log(exp(log_1) - exp(log_2)).
        if alpha >= beta:
            big, diff = alpha, alpha - beta
        else:
            big, diff = beta, beta - alpha

        def term(px: np.ndarray, pt: np.ndarray) -> np.ndarray:
            rsx = r + s + px
            second = np.full_like(px, s + 1) if alpha >= beta else r + px
            return log_hyp2f1_a_a1(rsx, second, diff / (big + pt)) - rsx * np.log(big + pt)

        log_1 = term(f.last_x, f.last_t)[f.last_index]
        log_2 = term(f.end_x, f.end_t)[f.end_index]
        with np.errstate(divide="ignore"):
            log_a0 = log_1 + np.log1p(-np.exp(np.minimum(log_2 - log_1, 0.0)))
        second = np.log(s) - np.log(r + s + x) + log_a0
        return a1 + np.logaddexp(first, second)

    def probability_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """P(alive at T | x, t_x, T) = exp(log of the first likelihood term - log L)."""
        params = np.array(self._params())
        r, alpha, s, beta = params
        x, t_x, T = self._arrays(frequency, recency, T)
        x, t_x, T = np.broadcast_arrays(x, t_x, T)
        data = np.column_stack([x.ravel(), t_x.ravel(), T.ravel()])
        a1 = gammaln(r + x.ravel()) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        first = a1 - (r + x.ravel()) * np.log(alpha + T.ravel()) - s * np.log(beta + T.ravel())
        return np.exp(first - self._loglik(params, data)).reshape(x.shape)

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """Expected purchases in (T, T + t] (Schmittlein et al. 1987, eq. 22)."""
        r, alpha, s, beta = self._params()
        t, x, t_x, T = self._arrays(t, frequency, recency, T)
        alive = self.probability_alive(x, t_x, T)
        growth = (r + x) * (beta + T) / ((alpha + T) * (s - 1))
        return alive * growth * (1 - ((beta + T) / (beta + T + t)) ** (s - 1))
