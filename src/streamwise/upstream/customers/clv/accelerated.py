"""The JAX path of the CLV fits, for a machine with a GPU.

The NumPy path is the default and is fast on a CPU (analytic gradients, terms computed once per
distinct value). On a GPU, the compressed rows are copied to the device once, and every step of
BFGS is one compiled program that returns the mean log-likelihood and its gradient (by automatic
differentiation of the same formula); only the parameters and those few numbers cross between
host and device. The standard errors come from differences of that gradient, as on the NumPy
path (JAX's exact Hessian took 4 s to compile, twice the gradient's program). Everything runs in
64-bit floats (JAX's default is 32-bit, too coarse for a likelihood summed over millions of
customers), inside ``jax.enable_x64`` so that nothing else in the process (the media mix model,
say) changes precision.

``backend="auto"``, the models' default, takes this path only when JAX finds a GPU. To keep a
CPU-only machine from paying JAX's import (about a second) on every fit, the GPU is looked for
first by its device file (``/dev/nvidiactl``), then JAX is asked.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from streamwise.errors import ModelError
from streamwise.numerics import hessian_from_gradient

__all__ = ["BACKENDS", "JaxObjective", "gpu_present", "jax_betaln", "resolve_backend"]

#: The values a model's ``backend`` parameter takes.
BACKENDS = ("auto", "numpy", "jax")


def jax_betaln(a: Any, b: Any) -> Any:
    """log B(a, b) in JAX from log-gammas.

    Written here because ``jax.scipy.special.betaln`` (JAX 0.10) is off by up to ~1e-7
    (1.5e-7 at a = 0.79, b = 12.4, against SciPy's), which summed over customers moved the
    CDNOW log-likelihood by 3e-5; the log-gammas are exact to ~1e-15.
    """
    from jax.scipy.special import gammaln

    return gammaln(a) + gammaln(b) - gammaln(a + b)


@cache
def gpu_present() -> bool:
    """Whether JAX runs on a GPU here (decided once per process)."""
    if "jax" not in sys.modules and (
        not Path("/dev/nvidiactl").exists() or importlib.util.find_spec("jax") is None
    ):
        return False
    try:
        import jax

        return jax.default_backend() == "gpu"
    except Exception:  # a broken CUDA install means "no GPU", not a failed fit
        return False


def resolve_backend(backend: str, model: str, supported: bool) -> Literal["numpy", "jax"]:
    """The path a fit takes: ``numpy`` or ``jax`` (``auto``: JAX where there is a GPU)."""
    if backend not in BACKENDS:
        raise ModelError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if backend == "numpy" or (backend == "auto" and not supported):
        return "numpy"
    if backend == "auto":
        return "jax" if gpu_present() else "numpy"
    if not supported:
        raise ModelError(
            f"{model} has no JAX likelihood yet (BetaGeo and ModifiedBetaGeo have); "
            "use backend='numpy' or 'auto'"
        )
    if importlib.util.find_spec("jax") is None:
        raise ModelError(
            "backend='jax' needs JAX: pip install 'streamwise[bayes]' "
            "(and 'jax[cuda12]' for an NVIDIA GPU)"
        )
    return "jax"


class JaxObjective:
    """The penalised mean negative log-likelihood over weighted rows, on JAX's device.

    Parameters
    ----------
    loglik
        ``loglik(params, *columns)``: per-row log-likelihood written with ``jax.numpy``.
    data
        Rows (one column per model input), as ``clv.base.compress`` returns them.
    weights
        Customers per row.
    penalizer
        L2 penalty on the parameters, as in the NumPy path.

    Calling the object with log-parameters returns ``(value, gradient)`` as the NumPy path's
    objective does (``1e100`` and a zero gradient where the value is not finite).
    """

    def __init__(
        self, loglik: Callable[..., Any], data: np.ndarray, weights: np.ndarray, penalizer: float
    ) -> None:
        import jax
        import jax.numpy as jnp

        self._jax = jax
        self._total = total = float(weights.sum())
        self._penalizer = penalizer

        def negative(log_params: Any, columns: tuple[Any, ...], w: Any) -> Any:
            params = jnp.exp(log_params)
            ll = jnp.dot(w, loglik(params, *columns))
            return -(ll - penalizer * jnp.sum(params**2)) / total

        with jax.enable_x64(True):
            self._columns = tuple(
                jax.device_put(np.ascontiguousarray(c, dtype=np.float64)) for c in data.T
            )
            self._weights = jax.device_put(np.asarray(weights, dtype=np.float64))
            # One program, compiled on the first call: every other number is derived from it.
            self._value_and_grad = jax.jit(jax.value_and_grad(negative))

    @property
    def platform(self) -> str:
        """Where the rows are: ``gpu`` or ``cpu``."""
        return next(iter(self._weights.devices())).platform

    def _evaluate(self, log_params: np.ndarray) -> tuple[float, np.ndarray]:
        with self._jax.enable_x64(True):
            value, grad = self._value_and_grad(
                np.asarray(log_params, dtype=np.float64), self._columns, self._weights
            )
            return float(value), np.asarray(grad, dtype=float)

    def __call__(self, log_params: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = self._evaluate(log_params)
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return 1e100, np.zeros_like(np.asarray(log_params, dtype=float))
        return value, grad

    def log_likelihood(self, params: np.ndarray) -> float:
        """Total (weighted) log-likelihood at ``params`` (the penalty taken back out)."""
        value, _ = self._evaluate(np.log(params))
        return -value * self._total + self._penalizer * float(np.sum(np.square(params)))

    def _gradient(self, params: np.ndarray) -> np.ndarray:
        """Gradient of the total negative log-likelihood in the parameters."""
        _, grad = self._evaluate(np.log(params))
        # grad = -(dLL/dp - 2 penalizer p) p / total, by the chain rule d/dlog p = p d/dp
        return grad * self._total / params - 2 * self._penalizer * params

    def hessian(self, params: np.ndarray) -> np.ndarray:
        """Hessian of the total negative log-likelihood in the parameters (not their logs)."""
        return hessian_from_gradient(self._gradient, np.asarray(params, dtype=float), central=False)
