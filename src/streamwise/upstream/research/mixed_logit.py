"""Mixed logit for choice-based conjoint: normal random coefficients by simulated maximum
likelihood with scrambled Halton draws (Train 2009, ch. 6 and 10; Bhat 2003)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from streamwise.errors import ModelError
from streamwise.numerics import Converged, hessian_from_gradient, minimize_until_converged
from streamwise.upstream.research.choices import _Tasks
from streamwise.upstream.research.conjoint import Coding, _ChoiceModel, _newton

__all__ = ["MixedLogit"]


# --------------------------------------------------------------------------------------------


class MixedLogit(_ChoiceModel):
    """Mixed logit with independent normal random coefficients, by simulated maximum likelihood
    over each respondent's sequence of tasks (Revelt & Train 1998; Train 2009, eq. 6.2, ch. 10).

    ``P_n = (1/R) Σ_r Π_t P_nt(β_nr)`` with ``β_nr = μ + σ ⊙ ξ_nr`` and ``ξ_nr`` from a scrambled
    Halton sequence (Bhat 2003) turned normal. The gradient is analytic:
    ``∂ log P_n / ∂μ = Σ_r w_nr Σ_t (x_nt,chosen − x̄_ntr)`` and, for σ, the same weighted by
    ``ξ_nr``, with ``w_nr`` the draw's share of ``P_n``. BFGS starts from the MNL estimates
    (standard deviations at half their size) with the BHHH matrix (Berndt et al. 1974) as its
    first curvature. Simulation biases SML when draws are few: on the sample survey (2,500
    respondents × 12 tasks, 22 parameters) 100 draws leave a mean 3.5 SE off, 300 recover every
    mean and sd within 2.6 SE, in about 10 s on two cores.

    Parameters
    ----------
    coding, price, none, attributes
        As for :class:`MultinomialLogit`.
    random
        Parameters with a random coefficient (default: all).
    n_draws
        Halton draws per respondent.
    random_state
        Seed of the Halton scrambling (and of the simulator's draws).

    Attributes
    ----------
    params_ : pandas.Series
        Means μ (part-worths, importances and WTP use them).
    sds_ : pandas.Series
        Standard deviations |σ| (0 for fixed coefficients).
    standard_errors_, sd_standard_errors_ : pandas.Series
        Of the means and of the standard deviations, from the inverse of the Hessian of the
        simulated log-likelihood (differences of its analytic gradient).
    covariance_ : numpy.ndarray
        Covariance of the means.
    log_likelihood_ : float
        Simulated log-likelihood at the optimum.
    n_respondents_, n_tasks_, n_iterations_ : int
    """

    def __init__(
        self,
        coding: Coding = "effects",
        price: str | None = "price",
        none: bool = True,
        attributes: Sequence[str] | None = None,
        random: Sequence[str] | None = None,
        n_draws: int = 200,
        random_state: int = 0,
    ) -> None:
        self.coding = coding
        self.price = price
        self.none = none
        self.attributes = attributes
        self.random = random
        self.n_draws = n_draws
        self.random_state = random_state

    def fit(self, frame: pd.DataFrame) -> MixedLogit:
        """Simulated maximum-likelihood fit on a choice frame; returns ``self``.

        Raises
        ------
        DataError
            The frame is malformed.
        ModelError
            BFGS does not converge, or the information matrix is singular.
        """
        tasks, x = self._prepare(frame)
        names = self._coder.names
        random = names if self.random is None else list(self.random)
        unknown = [r for r in random if r not in names]
        if unknown:
            raise ModelError(f"random names {unknown[0]!r}, not a parameter; use one of {names}")
        panel = _Panel.of(x, tasks)
        k = len(names)
        self._random_mask = np.array([n in random for n in names])
        xi = _halton_normal(panel.n, self.n_draws, k, self.random_state)
        xi[:, :, ~self._random_mask] = 0.0

        mnl_beta = _newton(tasks.dense(x), names)[0]
        start = np.concatenate(
            [mnl_beta, np.where(self._random_mask, 0.5 * np.abs(mnl_beta) + 1e-3, 0.0)]
        )
        free = np.concatenate([np.ones(k, dtype=bool), self._random_mask])

        def gradient(theta_free: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
            theta = np.zeros(2 * k)
            theta[free] = theta_free
            ll, grad, scores = panel.loglik(theta[:k], theta[k:], xi)
            return ll, grad[free], scores[:, free]

        def objective(theta_free: np.ndarray) -> tuple[float, np.ndarray]:
            """Minus the mean simulated log-likelihood and its gradient; stops BFGS once the
            Newton decrement g'B⁻¹g (B: BHHH, the scores' mean outer product) is below 1e-12:
            the log-likelihood is then within ~1e-9 of its maximum, and BFGS, left to its own
            test, spends dozens of evaluations on rounding noise."""
            ll, grad, scores = gradient(theta_free)
            value, g = -ll / panel.n, -grad / panel.n
            decrement = float(g @ np.linalg.solve(scores.T @ scores / panel.n, g))
            if decrement < 1e-12:
                raise Converged(theta_free.copy(), value, g)
            return value, g

        _, _, scores = gradient(start[free])
        inverse = np.linalg.inv(scores.T @ scores / panel.n)  # BHHH (Berndt et al. 1974)
        steps: list[np.ndarray] = []
        res = minimize_until_converged(
            objective, start[free], callback=steps.append,
            options={"gtol": 1e-6, "maxiter": 1_000, "hess_inv0": (inverse + inverse.T) / 2},
        )  # fmt: skip
        found, value, jac = res.x, res.fun, res.jac
        if not np.all(np.isfinite(found)) or np.max(np.abs(jac)) > 1e-4:
            raise ModelError(
                "the mixed logit did not converge; try more draws or fewer random terms"
            )
        theta = np.zeros(2 * k)
        theta[free] = found
        hess = hessian_from_gradient(
            lambda t: gradient(t)[1], found, central=False, at_x=-jac * panel.n
        )
        try:
            cov_free = np.linalg.inv(-hess)
        except np.linalg.LinAlgError:
            cov_free = np.full_like(hess, np.nan)
        cov = np.zeros((2 * k, 2 * k))
        cov[np.ix_(free, free)] = cov_free
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
        self.params_ = pd.Series(theta[:k], index=names, name="mean")
        self.sds_ = pd.Series(np.abs(theta[k:]), index=names, name="sd")
        self.covariance_ = cov[:k, :k]
        self.standard_errors_ = pd.Series(se[:k], index=names, name="std_error")
        self.sd_standard_errors_ = pd.Series(se[k:], index=names, name="sd_std_error")
        self.log_likelihood_ = float(-value * panel.n)
        self.n_iterations_ = len(steps)
        return self

    def summary(self) -> pd.DataFrame:
        """Means and standard deviations with standard errors."""
        out = super().summary()
        out["sd"] = self.sds_
        out["sd_std_error"] = self.sd_standard_errors_
        return out

    def _simulation_betas(self) -> np.ndarray:
        k = len(self.params_)
        z = _halton_normal(1, 10_000, k, self.random_state + 1)[0]
        return self.params_.to_numpy() + self.sds_.to_numpy() * z


def _halton_normal(n: int, draws: int, k: int, seed: int) -> np.ndarray:
    """Scrambled Halton points (Bhat 2003) as standard normals, ``(n, draws, k)``; respondent
    *i* takes consecutive points ``i·draws`` … ``(i+1)·draws − 1`` (Train 2009, sec. 9.3.3)."""
    points = stats.qmc.Halton(d=k, scramble=True, seed=seed).random(n * draws)
    return stats.norm.ppf(np.clip(points, 1e-12, 1 - 1e-12)).reshape(n, draws, k)


@dataclass(frozen=True)
class _Panel:
    """The choice frame as respondents × (tasks · alternatives) × parameters, padded so every
    respondent has the same number of tasks and alternatives: a padded alternative is never
    available, a padded task has one all-zero alternative that is chosen (probability 1)."""

    x: np.ndarray  # (n, T·J, K)
    avail: np.ndarray | None  # (n, T·J, 1) as 0/1, None when nothing is padded
    x_chosen: np.ndarray  # (n, K): Σ_t x_nt,chosen
    n_tasks: int
    n_alts: int

    @property
    def n(self) -> int:
        return self.x.shape[0]

    @classmethod
    def of(cls, x: np.ndarray, tasks: _Tasks) -> _Panel:
        n = tasks.n_respondents
        first = np.ones(len(tasks.starts), dtype=bool)
        first[1:] = tasks.respondent[1:] != tasks.respondent[:-1]
        idx = np.arange(len(tasks.starts))
        task_no = idx - np.maximum.accumulate(np.where(first, idx, 0))
        t_max, j_max = int(task_no.max()) + 1, int(tasks.sizes.max())
        slot = np.repeat(task_no, tasks.sizes)
        alt = np.arange(len(x)) - np.repeat(tasks.starts, tasks.sizes)
        who = np.repeat(tasks.respondent, tasks.sizes)
        big = np.zeros((n, t_max, j_max, x.shape[1]))
        avail = np.zeros((n, t_max, j_max), dtype=bool)
        big[who, slot, alt] = x
        avail[who, slot, alt] = True
        avail[:, :, 0] |= ~avail.any(axis=2)  # a padded task: one all-zero alternative
        x_chosen = np.zeros((n, x.shape[1]))
        np.add.at(x_chosen, tasks.respondent, x[tasks.chosen])
        tj = t_max * j_max
        mask = None if avail.all() else avail.reshape(n, tj, 1).astype(float)
        return cls(big.reshape(n, tj, -1), mask, x_chosen, t_max, j_max)

    def loglik(
        self, mu: np.ndarray, sigma: np.ndarray, xi: np.ndarray, chunk: int = 16
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """Simulated log-likelihood, its gradient in (μ, σ) and each respondent's score.

        With ``L_nr = Π_t P_nt(β_nr)`` and ``w_nr = L_nr / Σ_r L_nr``: the score in μ is
        ``x_n,chosen − Σ_r w_nr X_n'P_nr`` and in σ_k ``Σ_r w_nr ξ_nrk (x_n,chosen − X_n'P_nr)_k``.
        """
        k, r = len(mu), xi.shape[1]
        scores = np.zeros((self.n, 2 * k))
        ll = 0.0
        for lo in range(0, self.n, chunk):
            sl = slice(lo, min(lo + chunk, self.n))
            x, z, xc = self.x[sl], xi[sl], self.x_chosen[sl]
            m = x.shape[0]
            beta = mu + sigma * z  # (m, R, K)
            v = np.matmul(x, beta.transpose(0, 2, 1))  # (m, TJ, R)
            shift = float(np.abs(v).max())
            shift = 0.0 if shift < 300 else shift  # exp(±300) is still a float
            e = np.exp(v - shift)
            if self.avail is not None:
                e *= self.avail[sl]
            denom = e.reshape(m, self.n_tasks, self.n_alts, r).sum(axis=2)  # (m, T, R)
            # log Π_t P_nt(β_nr) = Σ_t v_nt,chosen − Σ_t log Σ_j exp v_ntj
            log_l = (
                np.einsum("nk,nrk->nr", xc, beta) - np.log(denom).sum(axis=1) - self.n_tasks * shift
            )
            peak = log_l.max(axis=1, keepdims=True)
            w = np.exp(log_l - peak)
            total = w.sum(axis=1, keepdims=True)
            ll += float((np.log(total[:, 0]) + peak[:, 0]).sum() - m * np.log(r))
            w /= total
            q = e.reshape(m, self.n_tasks, self.n_alts, r) * (
                w[:, None, None, :] / denom[:, :, None, :]
            )
            g = np.matmul(x.transpose(0, 2, 1), q.reshape(m, -1, r))  # (m, K, R): Σ_r-weighted X'P
            scores[sl, :k] = xc - g.sum(axis=2)
            scores[sl, k:] = xc * np.einsum("nr,nrk->nk", w, z) - np.einsum("nkr,nrk->nk", g, z)
        return ll, scores.sum(axis=0), scores
