"""``compare``: one treatment against its control, by any of the three methods."""

from __future__ import annotations

import math

from streamwise.measure.experiments.bayesian import GaussianPrior, gaussian_posterior
from streamwise.measure.experiments.cuped import CupedStat, cuped_theta
from streamwise.measure.experiments.frequentist import two_sided_ttest, welch_dof
from streamwise.measure.experiments.results import ComparisonResult, Method
from streamwise.measure.experiments.sequential import confidence_sequence
from streamwise.measure.experiments.stats import (
    InvalidStatisticError,
    MeanStat,
    Moments,
    ProportionStat,
    RatioStat,
    check_same_kind,
)

__all__ = ["Stat", "compare"]

Stat = ProportionStat | MeanStat | RatioStat | CupedStat
_METHODS = ("frequentist", "bayesian", "sequential")


def _moments(control: Stat, treatment: Stat) -> tuple[Moments, Moments, float | None]:
    for name, stat in (("control", control), ("treatment", treatment)):
        if not isinstance(stat, ProportionStat | MeanStat | RatioStat | CupedStat):
            raise InvalidStatisticError(
                f"{name} must be a ProportionStat, MeanStat, RatioStat or CupedStat, got "
                f"{type(stat).__name__}",
                field=name,
            )
    check_same_kind((control, treatment))
    if isinstance(control, CupedStat) and isinstance(treatment, CupedStat):
        theta = cuped_theta(control, treatment)
        return control.moments(theta), treatment.moments(theta), theta
    return control.moments(), treatment.moments(), None  # type: ignore[union-attr]


def _problem(a: Moments, b: Moments, relative: bool) -> str | None:
    """Why no effect can be estimated, in plain English; None when one can."""
    for arm, m in (("control", a), ("treatment", b)):
        if m.n < 2:
            return (
                f"the {arm} arm has {int(m.n)} unit(s); at least 2 per arm are needed to "
                "estimate a variance, so collect more data"
            )
    if relative and a.unadjusted_mean == 0:
        return (
            "the control mean is zero, so a relative effect is undefined; compare absolute "
            "effects (relative=False) or wait for the control to record some value"
        )
    for arm, m in (("control", a), ("treatment", b)):
        if not m.variance > 0:
            return (
                f"the {arm} arm shows no variation (every unit has the same value), so the "
                "uncertainty of the effect cannot be estimated; collect more data"
            )
    return None


def _check_options(method: str, alpha: float, tuning: float) -> None:
    if method not in _METHODS:
        raise ValueError(f"method must be one of {', '.join(_METHODS)}; got {method!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1 (e.g. 0.05), got {alpha!r}")
    if not (math.isfinite(tuning) and tuning > 0):
        raise ValueError(
            f"sequential_tuning_parameter must be a positive number of units, got {tuning!r}"
        )


def compare(
    control: Stat,
    treatment: Stat,
    *,
    method: Method = "frequentist",
    relative: bool = True,
    alpha: float = 0.05,
    inverse: bool = False,
    sequential_tuning_parameter: float = 5000.0,
    prior: GaussianPrior | None = None,
) -> ComparisonResult:
    """Compare a treatment arm with its control on one metric.

    Parameters
    ----------
    control, treatment
        Summary statistics of the two arms, of the same kind: :class:`ProportionStat`,
        :class:`MeanStat`, :class:`RatioStat` or :class:`CupedStat` (CUPED's ``theta`` is
        estimated from both arms pooled).
    method
        ``"frequentist"``: Welch's t-test (gbstats ``TwoSidedTTest``); ``"bayesian"``: Gaussian
        posterior on the effect (gbstats ``EffectBayesianABTest``); ``"sequential"``:
        always-valid confidence sequence and p-value (gbstats ``SequentialTwoSidedTTest``).
    relative
        Relative effect ``treatment / control - 1`` (delta method) or absolute difference.
    alpha
        1 minus the level of the interval; the significance level of the p-value.
    inverse
        Lower is better (Bayesian chance to win and risks are flipped; effects keep their sign).
    sequential_tuning_parameter
        Total units at which the confidence sequence is tightest (sequential only; 5000 as
        GrowthBook).
    prior
        Proper Gaussian prior on the relative effect (Bayesian only); None: flat prior.

    Returns
    -------
    ComparisonResult
        Fields that do not apply to ``method`` are None. When the effect cannot be estimated
        (an arm with fewer than 2 units or no variation, a zero control mean for a relative
        effect) the estimates are None and ``error_message`` says why.

    Examples
    --------
    >>> r = compare(ProportionStat(10_000, 1_000), ProportionStat(10_000, 1_100))
    >>> round(r.effect, 3), round(r.p_value, 4)
    (0.1, 0.0279)
    """
    _check_options(method, alpha, sequential_tuning_parameter)
    a, b, theta = _moments(control, treatment)
    common = {
        "method": method,
        "relative": relative,
        "alpha": alpha,
        "control_mean": a.unadjusted_mean,
        "treatment_mean": b.unadjusted_mean,
        "control_n": int(a.n),
        "treatment_n": int(b.n),
        "inverse": inverse,
        "theta": theta,
    }
    empty: dict[str, float | None] = dict.fromkeys(
        ("effect", "ci_low", "ci_high", "std_error", "p_value", "chance_to_win",
         "risk_control", "risk_treatment", "dof"),
    )  # fmt: skip
    problem = _problem(a, b, relative)
    if problem is not None:
        return ComparisonResult(**empty, **common, error_message=problem)  # type: ignore[arg-type]
    if method == "frequentist":
        fields = two_sided_ttest(a, b, relative=relative, alpha=alpha)
    elif method == "sequential":
        fields = confidence_sequence(
            a, b, relative=relative, alpha=alpha, tuning=sequential_tuning_parameter
        )
        fields["dof"] = welch_dof(a, b)
    else:
        fields = gaussian_posterior(
            a, b, relative=relative, alpha=alpha, inverse=inverse, prior=prior
        )
    return ComparisonResult(**{**empty, **fields}, **common)  # type: ignore[arg-type]
