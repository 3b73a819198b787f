"""Shared machinery of the customer-lifetime-value models: data checks, compression to unique
rows with weights, maximum likelihood in log-parameter space, standard errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import duckdb
import numpy as np
import pandas as pd
from scipy import optimize

from streamwise.errors import DataError, ModelError
from streamwise.numerics import (
    Converged,
    hessian_from_gradient,
    minimize_until_converged,
    numerical_hessian,
)
from streamwise.upstream.customers.clv.accelerated import JaxObjective, resolve_backend

__all__ = ["ClvModel", "check_purchase_history", "compress", "numerical_hessian"]


def compress(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Unique rows of ``columns`` and their weights (``weights`` column if present, else counts).

    Likelihoods are sums over customers of a function of these columns only, so fitting on the
    unique rows with weights gives the same optimum at a fraction of the cost.
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"the summary has no column {missing[0]!r}; it needs {', '.join(columns)} "
            "(make it with streamwise.upstream.customers.summarize)",
            column=missing[0],
        )
    for col in columns:
        if not np.isfinite(frame[col].to_numpy(dtype=float)).all():
            raise DataError(f"the summary's {col!r} holds missing or infinite values; fix them")
    # DuckDB groups 10M rows in about a second on two cores; np.unique(axis=0) sorts rows and
    # takes 30x longer, a pandas group-by 3x.
    con = duckdb.connect()
    con.register("summary", frame)
    cols = ", ".join(f'"{c}"::DOUBLE AS "{c}"' for c in columns)
    weight = 'sum("weights")::DOUBLE' if "weights" in frame.columns else "count(*)::DOUBLE"
    # Sorted, so that a fit sees the same rows in the same order every time (the warm start
    # samples them by position).
    out = con.sql(
        f"SELECT {cols}, {weight} AS _w FROM summary GROUP BY ALL ORDER BY ALL"  # noqa: S608 - names are the model's own
    ).fetchnumpy()
    con.close()
    return np.column_stack([out[c] for c in columns]), np.asarray(out["_w"], dtype=float)


def check_purchase_history(data: np.ndarray) -> None:
    """Refuse (frequency, recency, T) rows no customer can have."""
    x, t_x, T = data.T
    if (x < 0).any() or (t_x < 0).any() or (t_x > T + 1e-9).any():
        raise DataError("need 0 <= recency <= T and frequency >= 0 for every customer")
    if ((x == 0) & (t_x > 0)).any():
        raise DataError("a customer with frequency 0 must have recency 0")


GRADIENT_TOL = 1e-8  # on the mean log-likelihood per customer, in log-parameters


class ClvModel:
    """Base of the CLV estimators: subclasses name their parameters and data columns and give
    the per-row log-likelihood; ``fit`` maximises the weighted sum.

    ``backend`` chooses how: ``"numpy"`` (NumPy and SciPy on the CPU), ``"jax"`` (JAX, on its
    default device: see :mod:`~streamwise.upstream.customers.clv.accelerated`; models with a
    ``_jax_loglik`` only) or ``"auto"`` (JAX where JAX finds a GPU, else NumPy). The path taken
    is in ``backend_`` after the fit, and the device it ran on in ``device_`` (``cpu`` or
    ``gpu``).
    """

    _param_names: tuple[str, ...] = ()
    _columns: tuple[str, ...] = ()
    #: Per-row log-likelihood in ``jax.numpy``, ``(params, *columns) -> rows``, where a model
    #: has one (the GPU path).
    _jax_loglik: ClassVar[Callable[..., Any] | None] = None

    def __init__(
        self,
        penalizer: float = 0.0,
        initial: dict[str, float] | None = None,
        backend: str = "auto",
    ) -> None:
        self.penalizer = penalizer
        self.initial = initial
        self.backend = backend

    # subclasses ----------------------------------------------------------------------------
    def _loglik(self, params: np.ndarray, data: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # fitting -------------------------------------------------------------------------------
    def _gradient(self, params: np.ndarray, data: Any) -> tuple[np.ndarray, np.ndarray] | None:
        """Per-row log-likelihood and its gradient (parameters x rows), when a subclass has an
        analytic one; ``data`` is what :meth:`_prepare` returned."""
        return None

    def _prepare(self, data: np.ndarray) -> Any:
        """Precompute what the gradient needs once per fit (subclasses)."""
        return data

    def _negative_with_gradient(
        self, log_params: np.ndarray, prepared: Any, w: np.ndarray
    ) -> tuple[float, np.ndarray]:
        # A line search may try parameters whose squares overflow: such a point is refused
        # below (not finite), so NumPy's warning would only alarm the user.
        with np.errstate(over="ignore", invalid="ignore"):
            params = np.exp(log_params)
            ll, grad = self._gradient(params, prepared)  # type: ignore[misc]
            total = w.sum()
            value = -(float(np.dot(w, ll)) - self.penalizer * float(np.sum(params**2))) / total
            # d/d(log p) = p d/dp
            g = -(grad @ w - 2 * self.penalizer * params) * params / total
        if not np.isfinite(value) or not np.all(np.isfinite(g)):
            return 1e100, np.zeros_like(log_params)
        return value, g

    def _negative(self, log_params: np.ndarray, data: np.ndarray, w: np.ndarray) -> float:
        params = np.exp(log_params)
        ll = float(np.dot(w, self._loglik(params, data)))
        penalty = self.penalizer * float(np.sum(params**2))
        value = -(ll - penalty) / w.sum()
        return value if np.isfinite(value) else 1e100

    def _warm_start(
        self, start: np.ndarray, data: np.ndarray, w: np.ndarray, analytic: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Fit on a 5% sample of the unique rows (1/20 of the cost per step) and return its
        optimum and inverse curvature: BFGS on all rows then needs only a few steps."""
        pick = np.random.default_rng(0).choice(len(w), len(w) // 20, replace=False)
        sample_data, sample_w = data[pick], w[pick]
        if analytic:
            prepared = self._prepare(sample_data)
            found = optimize.minimize(
                self._negative_with_gradient, start, jac=True, method="BFGS",
                args=(prepared, sample_w), options={"gtol": 1e-6},
            )  # fmt: skip

            def curvature(x: np.ndarray) -> np.ndarray:
                return hessian_from_gradient(
                    lambda lp: self._negative_with_gradient(lp, prepared, sample_w)[1], x
                )
        else:
            found = optimize.minimize(
                self._negative, start, args=(sample_data, sample_w), method="L-BFGS-B",
                options={"ftol": 1e-12, "gtol": 1e-7},
            )  # fmt: skip

            def curvature(x: np.ndarray) -> np.ndarray:
                return numerical_hessian(lambda lp: self._negative(lp, sample_data, sample_w), x)

        if not np.all(np.isfinite(found.x)):
            return start, None
        hess = curvature(found.x)
        if not np.all(np.isfinite(hess)) or not np.all(np.linalg.eigvalsh(hess) > 0):
            return found.x, None
        inverse = np.linalg.inv(hess)
        return found.x, (inverse + inverse.T) / 2

    @staticmethod
    def _bfgs_until_flat(
        start: np.ndarray,
        negative: Callable[[np.ndarray], tuple[float, np.ndarray]],
        options: dict[str, Any],
    ) -> optimize.OptimizeResult:
        """BFGS with the analytic gradient, stopped as soon as the gradient of the mean
        log-likelihood falls below ``GRADIENT_TOL``.

        Near the optimum the mean log-likelihood is flat to rounding; left to its own test,
        BFGS's line search then rejects even better points and spends dozens of evaluations
        before reporting "precision loss" (seen at 10M customers).
        """

        def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
            value, grad = negative(log_params)
            if np.linalg.norm(grad) < GRADIENT_TOL:
                raise Converged(log_params.copy(), value, grad)
            return value, grad

        res = minimize_until_converged(objective, start, options=options)
        # "Precision loss" at a vanishing gradient is convergence.
        res.success = res.success or bool(np.linalg.norm(res.jac) < 1e-6)
        return res

    def fit(self, summary: pd.DataFrame) -> ClvModel:
        """Maximum-likelihood fit on a summary frame; returns ``self``.

        Raises
        ------
        ModelError
            When the optimiser does not converge, with what to try.
        """
        backend = resolve_backend(self.backend, type(self).__name__, self._jax_loglik is not None)
        data, w = compress(summary, self._columns)
        self._check(data)
        start = np.log(
            [self.initial[p] for p in self._param_names]
            if self.initial
            else np.ones(len(self._param_names))
        )
        device = None
        if backend == "jax":
            # Each step is one program on the device: no warm start on a sample is needed.
            loglik = type(self)._jax_loglik
            device = JaxObjective(loglik, data, w, self.penalizer)  # type: ignore[arg-type]
            res = self._bfgs_until_flat(start, device, {"gtol": 1e-10, "maxiter": 2_000})
        else:
            res = self._maximise(start, data, w)
        if not np.all(np.isfinite(res.x)) or np.linalg.norm(res.jac) > 1e-4:
            res = optimize.minimize(
                self._negative, res.x if np.all(np.isfinite(res.x)) else start, args=(data, w),
                method="Nelder-Mead",
                options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 20_000},
            )  # fmt: skip
        if not np.all(np.isfinite(res.x)) or not np.isfinite(res.fun) or res.fun >= 1e100:
            raise ModelError(
                f"{type(self).__name__} did not converge ({res.message}); try a penalizer "
                "(e.g. penalizer=0.001), other initial values, or check the summary for outliers"
            )
        params = np.exp(res.x)
        self.params_ = dict(zip(self._param_names, params.tolist(), strict=True))
        self.n_customers_ = float(w.sum())
        self.n_unique_ = len(w)
        self.backend_ = backend
        self.device_ = "cpu" if device is None else device.platform
        if device is not None:
            self.log_likelihood_ = device.log_likelihood(params)
            hess = device.hessian(params)
        else:
            self.log_likelihood_ = float(np.dot(w, self._loglik(params, data)))
            hess = self._hessian(params, data, w)
        try:
            cov = np.linalg.inv(hess)
            se = np.sqrt(np.clip(np.diag(cov), 0, None))
        except np.linalg.LinAlgError:
            se = np.full(len(params), np.nan)
        self.standard_errors_ = dict(zip(self._param_names, se.tolist(), strict=True))
        return self

    def _maximise(self, start: np.ndarray, data: np.ndarray, w: np.ndarray) -> Any:
        """The NumPy path: BFGS with the analytic gradient where there is one (warm-started on
        a sample of the rows when there are many), else L-BFGS-B polished by BFGS."""
        analytic = self._gradient(np.exp(start), self._prepare(data[:1])) is not None
        options: dict[str, Any] = {"gtol": 1e-10, "maxiter": 2_000}
        warm = len(w) > 50_000 and not self.initial
        if warm:
            start, inverse = self._warm_start(start, data, w, analytic)
            if inverse is not None:
                options["hess_inv0"] = inverse
        if analytic:
            prepared = self._prepare(data)
            return self._bfgs_until_flat(
                start, lambda lp: self._negative_with_gradient(lp, prepared, w), options
            )
        if warm:
            return optimize.minimize(
                self._negative, start, args=(data, w), method="BFGS", options=options
            )
        res = optimize.minimize(
            self._negative, start, args=(data, w), method="L-BFGS-B",
            options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 2_000},
        )  # fmt: skip
        if np.all(np.isfinite(res.x)):  # polish: BFGS gets closer from here
            polished = optimize.minimize(
                self._negative, res.x, args=(data, w), method="BFGS", options={"gtol": 1e-10}
            )
            if np.all(np.isfinite(polished.x)) and polished.fun <= res.fun:
                res = polished
        return res

    def _hessian(self, params: np.ndarray, data: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Hessian of the total negative log-likelihood: differences of the analytic gradient,
        or of the likelihood itself."""
        if self._gradient(params, self._prepare(data[:1])) is not None:
            prepared = self._prepare(data)
            return hessian_from_gradient(
                lambda p: -(self._gradient(p, prepared)[1] @ w),  # type: ignore[index]
                params,
                central=False,
            )

        def total(p: np.ndarray) -> float:
            return -float(np.dot(w, self._loglik(p, data)))

        return numerical_hessian(total, params)

    def _check(self, data: np.ndarray) -> None:
        """Subclasses refuse data that breaks the model's assumptions."""

    def _params(self) -> list[float]:
        if not hasattr(self, "params_"):
            raise ModelError(f"{type(self).__name__} is not fitted yet; call fit(summary) first")
        return [self.params_[p] for p in self._param_names]

    def summary(self) -> pd.DataFrame:
        """Parameters with standard errors and 95% intervals."""
        self._params()
        rows = []
        for p in self._param_names:
            est, se = self.params_[p], self.standard_errors_[p]
            rows.append({"parameter": p, "estimate": est, "std_error": se,
                         "lower_95": est - 1.96 * se, "upper_95": est + 1.96 * se})  # fmt: skip
        return pd.DataFrame(rows).set_index("parameter")

    def __repr__(self) -> str:
        name = type(self).__name__
        if not hasattr(self, "params_"):
            return f"<streamwise {name}: not fitted>"
        shown = ", ".join(f"{k}: {v:.3f}" for k, v in self.params_.items())
        return f"<streamwise {name}: fitted with {self.n_customers_:,.0f} customers, {shown}>"

    def _arrays(self, *values: Any) -> list[np.ndarray]:
        return [np.asarray(v, dtype=float) for v in values]
