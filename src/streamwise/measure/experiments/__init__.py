"""Experiments: compare arms of an A/B test on summary statistics, as GrowthBook's gbstats does.

Statistics per arm (:class:`ProportionStat`, :class:`MeanStat`, :class:`RatioStat`,
:class:`CupedStat`) add up across partitions; :func:`compare` runs a frequentist (Welch
t-test), Bayesian (Gaussian posterior on the effect) or sequential (always-valid confidence
sequence) comparison; :func:`srm_check` tests the traffic split; :func:`compare_arms` adjusts
for several variants; ``sample_size_*`` / ``power_*`` plan an experiment; :func:`decide_winner`
picks the arm a campaign should send; :func:`arm_stats` sums a table of units into statistics
in the analytics engine. See ``docs/experiments.md``.

Examples
--------
>>> r = compare(ProportionStat(n=10_000, conversions=1_000),
...             ProportionStat(n=10_000, conversions=1_100), method="bayesian")
>>> round(r.chance_to_win, 3)
0.986
"""

from streamwise.measure.experiments.bayesian import GaussianPrior
from streamwise.measure.experiments.compare import Stat, compare
from streamwise.measure.experiments.correction import (
    ArmComparisons,
    Correction,
    adjust_p_values,
    compare_arms,
)
from streamwise.measure.experiments.cuped import CupedStat, cuped_theta
from streamwise.measure.experiments.power import (
    SampleSize,
    power_mean,
    power_proportion,
    sample_size_mean,
    sample_size_proportion,
)
from streamwise.measure.experiments.results import ComparisonResult, Method
from streamwise.measure.experiments.srm import SrmResult, srm_check
from streamwise.measure.experiments.stats import (
    InvalidStatisticError,
    MeanStat,
    ProportionStat,
    RatioStat,
)
from streamwise.measure.experiments.tables import StatKind, arm_stats, arm_stats_expr
from streamwise.measure.experiments.winner import (
    Guardrail,
    Status,
    WinnerDecision,
    decide_winner,
)

__all__ = [
    "ArmComparisons",
    "ComparisonResult",
    "Correction",
    "CupedStat",
    "GaussianPrior",
    "Guardrail",
    "InvalidStatisticError",
    "MeanStat",
    "Method",
    "ProportionStat",
    "RatioStat",
    "SampleSize",
    "SrmResult",
    "Stat",
    "StatKind",
    "Status",
    "WinnerDecision",
    "adjust_p_values",
    "arm_stats",
    "arm_stats_expr",
    "compare",
    "compare_arms",
    "cuped_theta",
    "decide_winner",
    "power_mean",
    "power_proportion",
    "sample_size_mean",
    "sample_size_proportion",
    "srm_check",
]
