"""Bayesian comparison with a Gaussian posterior on the (relative) effect.

As gbstats ``EffectBayesianABTest`` (gbstats 0.8.0, ``gbstats/bayesian/tests.py``): the data
give the effect ``d`` and its variance ``v`` (the same estimates as the t-test,
:func:`~streamwise.measure.experiments.frequentist.effect_variance`), read as a Gaussian
likelihood. With the default flat prior the posterior is ``N(d, v)``; with a proper Gaussian
prior ``N(mu_0, v_0)`` it is the conjugate update (Gelman et al. 2013, *Bayesian Data Analysis*,
3rd ed., eq. 2.9-2.10)::

    precision = 1 / v + 1 / v_0,    mean = (d / v + mu_0 / v_0) / precision

From the posterior ``N(mu, s**2)``:

* chance to win ``P(effect > 0) = Phi(mu / s)`` (``P(effect < 0)`` for inverse metrics);
* credible interval ``mu + s Phi^-1(alpha/2)`` to ``mu + s Phi^-1(1 - alpha/2)``;
* risk (expected loss; Stucchio 2015, "Bayesian A/B testing at VWO", section 4) of keeping the
  control ``E[max(effect, 0)] = mu Phi(mu/s) + s phi(mu/s)`` and of shipping the treatment
  ``E[max(-effect, 0)] = s phi(mu/s) - mu Phi(-mu/s)`` (the truncated-normal means gbstats takes
  from ``scipy.stats.truncnorm``), swapped for inverse metrics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import special

from streamwise.measure.experiments.frequentist import effect_variance
from streamwise.measure.experiments.stats import Moments

__all__ = ["GaussianPrior", "gaussian_posterior", "normal_risk"]

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True, slots=True)
class GaussianPrior:
    """A proper Gaussian prior on the relative effect (GrowthBook's ``prior_type="relative"``).

    For absolute effects it is rescaled by the control mean ``m_a``: mean ``mean |m_a|``,
    variance ``variance m_a**2``, as gbstats does.

    Parameters
    ----------
    mean
        Prior mean of the relative effect (0: no change expected).
    variance
        Prior variance of the relative effect (``0.1**2``: most effects within +/-20 %).
    """

    mean: float = 0.0
    variance: float = 0.01

    def __post_init__(self) -> None:
        if not (math.isfinite(self.mean) and math.isfinite(self.variance)):
            raise ValueError("GaussianPrior mean and variance must be finite numbers")
        if self.variance <= 0:
            raise ValueError(
                f"GaussianPrior.variance must be > 0, got {self.variance!r}; for no prior "
                "information pass prior=None (a flat prior)"
            )


def normal_risk(mu: float, sigma: float) -> tuple[float, float]:
    """Expected losses ``(E[max(X, 0)], E[max(-X, 0)])`` for ``X ~ N(mu, sigma**2)``.

    Parameters
    ----------
    mu, sigma
        Posterior mean and standard deviation of the effect.

    Returns
    -------
    tuple of float
        Risk of keeping the control, risk of shipping the treatment.
    """
    z = mu / sigma
    density = sigma * _INV_SQRT_2PI * math.exp(-0.5 * z * z)
    risk_control = mu * float(special.ndtr(z)) + density
    risk_treatment = density - mu * float(special.ndtr(-z))
    return max(risk_control, 0.0), max(risk_treatment, 0.0)


def gaussian_posterior(
    a: Moments,
    b: Moments,
    *,
    relative: bool,
    alpha: float,
    inverse: bool = False,
    prior: GaussianPrior | None = None,
) -> dict[str, float]:
    """Posterior summaries of the effect of ``b`` over ``a``.

    Parameters
    ----------
    a, b
        Moments of the control and the treatment.
    relative
        Relative or absolute effect.
    alpha
        The credible interval has probability ``1 - alpha``.
    inverse
        Lower is better (chance to win is ``P(effect < 0)``; risks swap).
    prior
        Proper Gaussian prior on the relative effect; None for gbstats' default flat prior.

    Returns
    -------
    dict
        ``effect`` (posterior mean), ``ci_low``, ``ci_high``, ``std_error`` (posterior standard
        deviation), ``chance_to_win``, ``risk_control``, ``risk_treatment``.
    """
    data_mean, data_variance = effect_variance(a, b, relative)
    if prior is None:
        mean, precision = data_mean, 1.0 / data_variance
    else:
        scale = 1.0 if relative else a.unadjusted_mean
        prior_mean = prior.mean * abs(scale)
        prior_variance = prior.variance * scale**2
        precision = 1.0 / data_variance + 1.0 / prior_variance
        mean = (data_mean / data_variance + prior_mean / prior_variance) / precision
    sd = math.sqrt(1.0 / precision)
    z = float(special.ndtri(1.0 - alpha / 2.0))
    better = float(special.ndtr(mean / sd))  # P(effect > 0)
    risk_control, risk_treatment = normal_risk(mean, sd)
    if inverse:
        better = 1.0 - better
        risk_control, risk_treatment = risk_treatment, risk_control
    return {
        "effect": mean,
        "ci_low": mean - z * sd,
        "ci_high": mean + z * sd,
        "std_error": sd,
        "chance_to_win": better,
        "risk_control": risk_control,
        "risk_treatment": risk_treatment,
    }
