"""The result of comparing a treatment arm with its control."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import pandas as pd

__all__ = ["ComparisonResult", "Method"]

Method = Literal["frequentist", "bayesian", "sequential"]


@dataclass(frozen=True, slots=True)
class ComparisonResult:
    """Treatment versus control on one metric. Fields that do not apply to ``method`` are None.

    Parameters
    ----------
    method
        ``"frequentist"`` (Welch t-test), ``"bayesian"`` (Gaussian posterior on the effect) or
        ``"sequential"`` (always-valid confidence sequence).
    relative
        Whether ``effect`` is relative (``treatment / control - 1``) or absolute (a difference).
    effect
        Estimated effect (posterior mean for the Bayesian method); None when it could not be
        estimated (see ``error_message``).
    ci_low, ci_high
        Confidence interval (frequentist), credible interval (Bayesian) or confidence sequence
        (sequential) at level ``1 - alpha``.
    std_error
        Standard error of the effect (posterior standard deviation for the Bayesian method).
    p_value
        Two-sided p-value (frequentist, sequential).
    chance_to_win
        Posterior probability that the treatment is better (Bayesian); for ``inverse`` metrics,
        better means lower.
    risk_control, risk_treatment
        Expected loss of keeping the control and of shipping the treatment (Bayesian), in the
        units of ``effect``.
    dof
        Welch-Satterthwaite degrees of freedom (frequentist, sequential).
    alpha
        1 minus the interval level.
    control_mean, treatment_mean
        Unadjusted means of the arms.
    control_n, treatment_n
        Units per arm.
    inverse
        True for metrics where lower is better (chance to win and risks are flipped).
    theta
        CUPED adjustment coefficient, for CUPED statistics.
    adjusted_p_value, correction
        Multiplicity-adjusted p-value and the correction used (see ``compare_arms``).
    error_message
        Why no effect could be estimated (zero control mean, an arm without variation, ...).
    """

    method: Method
    relative: bool
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    std_error: float | None
    p_value: float | None
    chance_to_win: float | None
    risk_control: float | None
    risk_treatment: float | None
    dof: float | None
    alpha: float
    control_mean: float
    treatment_mean: float
    control_n: int
    treatment_n: int
    inverse: bool = False
    theta: float | None = None
    adjusted_p_value: float | None = None
    correction: str | None = None
    error_message: str | None = None

    @property
    def expected_loss(self) -> float | None:
        """Expected loss of shipping the treatment (``risk_treatment``), Bayesian only."""
        return self.risk_treatment

    @property
    def significant(self) -> bool | None:
        """Whether the (adjusted, when corrected) p-value is below ``alpha``; None without one."""
        p = self.adjusted_p_value if self.adjusted_p_value is not None else self.p_value
        return None if p is None else p < self.alpha

    @property
    def ok(self) -> bool:
        """Whether an effect was estimated."""
        return self.error_message is None

    def with_adjusted_p_value(self, p: float, correction: str) -> ComparisonResult:
        """A copy carrying a multiplicity-adjusted p-value."""
        return replace(self, adjusted_p_value=p, correction=correction)

    def to_dict(self) -> dict[str, Any]:
        """All fields as a plain dictionary."""
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """A one-row frame with one column per field."""
        return pd.DataFrame([self.to_dict()])
