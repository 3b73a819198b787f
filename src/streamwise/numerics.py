"""Numerical pieces the estimators share: Hessians by finite differences, and BFGS that stops
as soon as the objective says it has converged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import optimize

__all__ = ["Converged", "hessian_from_gradient", "minimize_until_converged", "numerical_hessian"]


def numerical_hessian(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``x`` (steps scaled to each coordinate)."""
    n = len(x)
    h = 1e-4 * np.maximum(np.abs(x), 1e-2)
    hess = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            e_i, e_j = np.eye(n)[i] * h[i], np.eye(n)[j] * h[j]
            value = (f(x + e_i + e_j) - f(x + e_i - e_j) - f(x - e_i + e_j) + f(x - e_i - e_j)) / (
                4 * h[i] * h[j]
            )
            hess[i, j] = hess[j, i] = value
    return hess


def hessian_from_gradient(
    grad: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    *,
    central: bool = True,
    at_x: np.ndarray | None = None,
) -> np.ndarray:
    """Differences of an analytic gradient, symmetrised: central (2n gradients), or forward
    (n + 1 gradients, or n when ``at_x``, the gradient at ``x``, is given; error ~1e-5
    relative, plenty for standard errors)."""
    n = len(x)
    h = 1e-5 * np.maximum(np.abs(x), 1e-2)
    hess = np.empty((n, n))
    if not central and at_x is None:
        at_x = grad(x)
    for i in range(n):
        e = np.eye(n)[i] * h[i]
        if central:
            hess[i] = (grad(x + e) - grad(x - e)) / (2 * h[i])
        else:
            hess[i] = (grad(x + e) - at_x) / h[i]
    return (hess + hess.T) / 2


class Converged(Exception):  # noqa: N818 - a signal, not an error
    """Raised by an objective to stop :func:`minimize_until_converged` at ``x``."""

    def __init__(self, x: np.ndarray, value: float, grad: np.ndarray) -> None:
        super().__init__("converged")
        self.x, self.value, self.grad = x, value, grad


def minimize_until_converged(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: np.ndarray,
    *,
    options: dict[str, Any],
    callback: Callable[[np.ndarray], Any] | None = None,
) -> optimize.OptimizeResult:
    """BFGS on ``objective`` (value and gradient), ended early when it raises :class:`Converged`.

    Near an optimum a log-likelihood is flat to rounding; left to its own test, BFGS's line
    search then rejects even better points and spends dozens of evaluations before reporting
    "precision loss". The objective knows better when to stop (a vanishing gradient, a small
    Newton decrement) and says so by raising :class:`Converged`.
    """
    try:
        return optimize.minimize(
            objective, x0, jac=True, method="BFGS", callback=callback, options=options
        )
    except Converged as done:
        return optimize.OptimizeResult(
            x=done.x, fun=done.value, jac=done.grad, success=True, message="converged"
        )
