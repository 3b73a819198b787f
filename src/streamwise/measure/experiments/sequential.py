"""Always-valid inference for experiments that are looked at while they run.

A fixed-horizon t-test checked after every day of an experiment declares far more false winners
than its ``alpha`` (Johari, Koomen, Pekelis and Walsh 2017, "Peeking at A/B tests", section 2).
The mixture sequential probability ratio test (mSPRT; Johari et al. 2017, eq. 6-7; Robbins 1970)
and its asymptotic confidence sequences (Waudby-Smith, Arnold, Wu, Howard and Ramdas 2023,
"Time-uniform central limit theory and asymptotic confidence sequences", arXiv:2103.06476v7;
Howard, Ramdas, McAuliffe and Sekhon 2021) stay valid at every look. As gbstats
``SequentialTwoSidedTTest`` (gbstats 0.8.0), with ``N = n_a + n_b`` units, the effect ``d`` and
its variance ``v`` from :func:`~streamwise.measure.experiments.frequentist.effect_variance`:

* the mixing scale (Waudby-Smith et al. eq. 161), tuned for ``tau`` units::

      rho = sqrt((-2 ln alpha + ln(-2 ln alpha + 1)) / tau)

* the confidence sequence (eq. 9), with ``s**2 = v N``::

      d -/+ s sqrt(2 (N rho**2 + 1) ln(sqrt(N rho**2 + 1) / alpha) / (N rho)**2)

* the always-valid p-value (eq. 155) is ``min(1, 1 / E)`` with the e-value
  ``E = exp(rho**2 N d**2 / (2 v (N rho**2 + 1))) / sqrt(N rho**2 + 1)``.

``tau`` (``sequential_tuning_parameter``, 5000 by default as in GrowthBook) is the total sample
size at which the sequence is tightest; its width at other sizes grows slowly.
"""

from __future__ import annotations

import math

from streamwise.measure.experiments.frequentist import effect_variance
from streamwise.measure.experiments.stats import Moments

__all__ = ["confidence_sequence", "mixing_rho"]


def mixing_rho(alpha: float, tuning: float) -> float:
    """Mixing scale ``rho`` for level ``alpha`` tuned to ``tuning`` units (Waudby-Smith et al.
    2023, eq. 161)."""
    log_alpha = math.log(alpha)
    return math.sqrt((-2.0 * log_alpha + math.log(-2.0 * log_alpha + 1.0)) / tuning)


def confidence_sequence(
    a: Moments,
    b: Moments,
    *,
    relative: bool,
    alpha: float,
    tuning: float = 5000.0,
    test_value: float = 0.0,
) -> dict[str, float]:
    """Effect, asymptotic confidence sequence and always-valid p-value.

    Parameters
    ----------
    a, b
        Moments of the control and the treatment.
    relative
        Relative or absolute effect.
    alpha
        The sequence covers the effect at every look with probability at least ``1 - alpha``.
    tuning
        ``sequential_tuning_parameter``: the total units at which the sequence is tightest.
    test_value
        Effect under the null hypothesis.

    Returns
    -------
    dict
        ``effect``, ``ci_low``, ``ci_high``, ``std_error``, ``p_value``.
    """
    effect, variance = effect_variance(a, b, relative)
    n_total = a.n + b.n
    rho = mixing_rho(alpha, tuning)
    nr2p1 = n_total * rho**2 + 1.0
    s2 = variance * n_total
    width = math.sqrt(s2) * math.sqrt(
        2.0 * nr2p1 * math.log(math.sqrt(nr2p1) / alpha) / (n_total * rho) ** 2
    )
    st2 = (effect - test_value) ** 2 * n_total / variance
    log_evalue = rho**2 * st2 / (2.0 * nr2p1) - 0.5 * math.log(nr2p1)
    p_value = 1.0 if log_evalue <= 0 else math.exp(-log_evalue)
    return {
        "effect": effect,
        "ci_low": effect - width,
        "ci_high": effect + width,
        "std_error": math.sqrt(variance),
        "p_value": p_value,
    }
