"""Sample size and power for a planned experiment.

Per-arm sample size for detecting a relative lift ``mde`` over the baseline with a two-sided
test at level ``alpha`` and the given power; with more than two arms every variant is compared
with the control at ``alpha / (arms - 1)`` (Bonferroni, which also bounds Holm's procedure).

* Proportions: the two-sample z-test with unpooled variances (the test
  :func:`~streamwise.measure.experiments.compare` runs), standardised effect
  ``h = |p_1 - p_0| / sqrt((p_0 (1 - p_0) + p_1 (1 - p_1)) / 2)`` and, with ``n`` per arm,
  ``power = Phi(h sqrt(n/2) - z_{1-a/2}) + Phi(-h sqrt(n/2) - z_{1-a/2})``
  (Chow, Shao and Wang 2008, *Sample Size Calculations in Clinical Research*, 2nd ed., section
  4.2; statsmodels ``NormalIndPower``).
* Means: the two-sample t-test with effect ``d = |mde mean| / sd``, ``nu = 2n - 2`` degrees of
  freedom and the noncentral t distribution with noncentrality ``d sqrt(n/2)``
  (Cohen 1988, *Statistical Power Analysis for the Behavioral Sciences*, 2nd ed., ch. 2;
  statsmodels ``TTestIndPower``).

``n`` solves ``power(n) = target`` exactly (Brent's method); ``n_per_arm`` rounds it up.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from scipy import optimize, special

__all__ = [
    "SampleSize",
    "power_mean",
    "power_proportion",
    "sample_size_mean",
    "sample_size_proportion",
]


@dataclass(frozen=True, slots=True)
class SampleSize:
    """Units an experiment needs.

    Parameters
    ----------
    n_per_arm
        Units per arm (rounded up).
    n_total
        ``n_per_arm * arms``.
    n_exact
        The unrounded solution of ``power(n) = power``.
    arms
        Arms including the control.
    alpha
        Family-wise significance level asked for.
    alpha_per_comparison
        ``alpha / (arms - 1)``.
    power
        Target power.
    mde
        Minimum detectable relative effect.
    effect_size
        Standardised effect (Cohen's ``d`` or the proportion analogue).
    """

    n_per_arm: int
    n_total: int
    n_exact: float
    arms: int
    alpha: float
    alpha_per_comparison: float
    power: float
    mde: float
    effect_size: float

    def to_dict(self) -> dict[str, Any]:
        """All fields as a plain dictionary."""
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """A one-row frame."""
        return pd.DataFrame([self.to_dict()])


def _check(alpha: float, arms: int, mde: float, power: float | None = None) -> float:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1 (e.g. 0.05), got {alpha!r}")
    if power is not None and not alpha < power < 1:
        raise ValueError(f"power must be between alpha and 1 (e.g. 0.8), got {power!r}")
    if int(arms) != arms or arms < 2:
        raise ValueError(f"arms must be a whole number >= 2 (control included), got {arms!r}")
    if not math.isfinite(mde) or mde == 0:
        raise ValueError(f"mde must be a non-zero relative effect (0.05 for +5 %), got {mde!r}")
    return alpha / (arms - 1)


def _proportion_effect(baseline_rate: float, mde: float) -> float:
    if not 0 < baseline_rate < 1:
        raise ValueError(
            f"baseline_rate must be between 0 and 1 (e.g. 0.1 for 10 %), got {baseline_rate!r}"
        )
    p1 = baseline_rate * (1 + mde)
    if not 0 < p1 < 1:
        raise ValueError(
            f"baseline_rate {baseline_rate!r} lifted by mde {mde!r} gives {p1!r}, outside (0, 1);"
            " choose a smaller mde"
        )
    q = (baseline_rate * (1 - baseline_rate) + p1 * (1 - p1)) / 2
    return abs(p1 - baseline_rate) / math.sqrt(q)


def _mean_effect(baseline_mean: float, std: float, mde: float) -> float:
    if not (math.isfinite(std) and std > 0):
        raise ValueError(f"std must be a positive standard deviation per unit, got {std!r}")
    if not math.isfinite(baseline_mean) or baseline_mean == 0:
        raise ValueError(
            f"baseline_mean must be non-zero (the mde is relative to it), got {baseline_mean!r}"
        )
    return abs(mde * baseline_mean) / std


def _normal_power(h: float, n: float, alpha: float) -> float:
    z = float(special.ndtri(1 - alpha / 2))
    shift = h * math.sqrt(n / 2)
    return float(special.ndtr(shift - z) + special.ndtr(-shift - z))


def _t_power(d: float, n: float, alpha: float) -> float:
    df = 2 * n - 2
    crit = float(special.stdtrit(df, 1 - alpha / 2))
    nc = d * math.sqrt(n / 2)
    return float(1 - special.nctdtr(df, nc, crit) + special.nctdtr(df, nc, -crit))


def _solve(power_of_n: Any, target: float, start: float, low: float) -> float:
    high = max(start, low * 2)
    while power_of_n(high) < target:
        high *= 2
    return float(
        optimize.brentq(lambda n: power_of_n(n) - target, low, high, xtol=1e-10, rtol=1e-12)
    )


def _result(n: float, arms: int, alpha: float, a: float, power: float, mde: float, e: float):
    per_arm = math.ceil(n - 1e-9)
    return SampleSize(per_arm, per_arm * arms, n, arms, alpha, a, power, mde, e)


def sample_size_proportion(
    baseline_rate: float, mde: float, *, alpha: float = 0.05, power: float = 0.8, arms: int = 2
) -> SampleSize:
    """Units per arm to detect a relative lift ``mde`` of a conversion rate.

    Parameters
    ----------
    baseline_rate
        Expected conversion rate of the control.
    mde
        Minimum detectable relative effect (0.05: +5 %; negative for a drop).
    alpha
        Two-sided significance level over all comparisons.
    power
        Probability of detecting the effect when it is there.
    arms
        Arms including the control.

    Returns
    -------
    SampleSize

    Examples
    --------
    >>> sample_size_proportion(0.1, 0.1).n_per_arm
    14749
    """
    a = _check(alpha, arms, mde, power)
    h = _proportion_effect(baseline_rate, mde)
    z = float(special.ndtri(1 - a / 2) + special.ndtri(power))
    n = _solve(lambda n: _normal_power(h, n, a), power, 2 * (z / h) ** 2, 1e-6)
    return _result(n, arms, alpha, a, power, mde, h)


def power_proportion(
    baseline_rate: float, mde: float, n_per_arm: float, *, alpha: float = 0.05, arms: int = 2
) -> float:
    """Power of the two-sided test for a relative lift ``mde`` with ``n_per_arm`` units per arm.

    Parameters are as :func:`sample_size_proportion`.
    """
    a = _check(alpha, arms, mde)
    if not n_per_arm > 0:
        raise ValueError(f"n_per_arm must be > 0, got {n_per_arm!r}")
    return _normal_power(_proportion_effect(baseline_rate, mde), n_per_arm, a)


def sample_size_mean(
    baseline_mean: float,
    std: float,
    mde: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    arms: int = 2,
) -> SampleSize:
    """Units per arm to detect a relative lift ``mde`` of a per-unit mean (revenue per user).

    Parameters
    ----------
    baseline_mean
        Expected mean of the control (``MeanStat.mean`` of past data).
    std
        Standard deviation per unit (``sqrt(MeanStat.variance)``).
    mde, alpha, power, arms
        As :func:`sample_size_proportion`.

    Returns
    -------
    SampleSize
    """
    a = _check(alpha, arms, mde, power)
    d = _mean_effect(baseline_mean, std, mde)
    z = float(special.ndtri(1 - a / 2) + special.ndtri(power))
    n = _solve(lambda n: _t_power(d, n, a), power, 2 * (z / d) ** 2 + 2, 1.5)
    return _result(n, arms, alpha, a, power, mde, d)


def power_mean(
    baseline_mean: float,
    std: float,
    mde: float,
    n_per_arm: float,
    *,
    alpha: float = 0.05,
    arms: int = 2,
) -> float:
    """Power of the two-sample t-test for a relative lift ``mde`` with ``n_per_arm`` per arm.

    Parameters are as :func:`sample_size_mean`.
    """
    a = _check(alpha, arms, mde)
    if not n_per_arm > 1:
        raise ValueError(f"n_per_arm must be > 1, got {n_per_arm!r}")
    return _t_power(_mean_effect(baseline_mean, std, mde), n_per_arm, a)
