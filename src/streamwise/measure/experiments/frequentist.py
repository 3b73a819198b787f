"""Welch's two-sided t-test on absolute or relative effects, as gbstats ``TwoSidedTTest``.

With per-unit variances ``s_a**2``, ``s_b**2``, sizes ``n_a``, ``n_b`` and means ``m_a``,
``m_b`` (gbstats 0.8.0, ``gbstats/frequentist/tests.py``):

* absolute effect ``d = m_b - m_a`` with variance ``s_b**2 / n_b + s_a**2 / n_a``;
* relative effect ``d = (m_b - m_a) / m_a`` with the delta-method variance
  ``s_b**2 / (m_a**2 n_b) + s_a**2 m_b**2 / (m_a**4 n_a)`` (Deng, Knoblich and Lu 2018,
  "Applying the delta method in metric analytics", section 3.3), where ``m_a`` and ``m_b`` are
  the unadjusted means (they differ from the adjusted ones only under CUPED);
* Welch-Satterthwaite degrees of freedom
  ``nu = (s_b**2/n_b + s_a**2/n_a)**2 / (s_b**4/(n_b**2 (n_b-1)) + s_a**4/(n_a**2 (n_a-1)))``
  (Welch 1947, eq. 29), computed from the per-unit variances for relative effects too;
* ``p = 2 (1 - F_nu(|d| / se))`` and the interval ``d -/+ F_nu^-1(1 - alpha/2) se``.
"""

from __future__ import annotations

import math

from scipy import special

from streamwise.measure.experiments.stats import Moments

__all__ = ["effect_variance", "two_sided_ttest", "welch_dof"]


def effect_variance(a: Moments, b: Moments, relative: bool) -> tuple[float, float]:
    """Point estimate and variance of the effect of ``b`` over ``a`` (gbstats
    ``frequentist_diff`` and ``frequentist_variance``).

    Parameters
    ----------
    a, b
        Moments of the control and the treatment.
    relative
        Relative (``b / a - 1``) or absolute (``b - a``) effect.

    Returns
    -------
    tuple of float
        The effect and its variance.
    """
    if relative:
        effect = (b.mean - a.mean) / a.unadjusted_mean
        variance = b.variance / (a.unadjusted_mean**2 * b.n) + a.variance * (
            b.unadjusted_mean**2
        ) / (a.unadjusted_mean**4 * a.n)
    else:
        effect = b.mean - a.mean
        variance = b.variance / b.n + a.variance / a.n
    return effect, variance


def welch_dof(a: Moments, b: Moments) -> float:
    """Welch-Satterthwaite degrees of freedom (Welch 1947, eq. 29; gbstats ``TTest.dof``)."""
    va, vb = a.variance / a.n, b.variance / b.n
    return (vb + va) ** 2 / (vb**2 / (b.n - 1) + va**2 / (a.n - 1))


def two_sided_ttest(
    a: Moments, b: Moments, *, relative: bool, alpha: float, test_value: float = 0.0
) -> dict[str, float]:
    """Welch two-sided t-test of ``effect == test_value`` with a ``1 - alpha`` interval.

    Parameters
    ----------
    a, b
        Moments of the control and the treatment (each ``n >= 2``, variance > 0).
    relative
        Relative or absolute effect.
    alpha
        Significance level; the interval has level ``1 - alpha``.
    test_value
        Effect under the null hypothesis.

    Returns
    -------
    dict
        ``effect``, ``ci_low``, ``ci_high``, ``std_error``, ``p_value``, ``dof``.
    """
    effect, variance = effect_variance(a, b, relative)
    se = math.sqrt(variance)
    dof = welch_dof(a, b)
    t_stat = (effect - test_value) / se
    p_value = float(2.0 * special.stdtr(dof, -abs(t_stat)))
    width = float(special.stdtrit(dof, 1.0 - alpha / 2.0)) * se
    return {
        "effect": effect,
        "ci_low": effect - width,
        "ci_high": effect + width,
        "std_error": se,
        "p_value": p_value,
        "dof": dof,
    }
