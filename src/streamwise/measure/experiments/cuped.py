"""CUPED: variance reduction with a pre-experiment covariate.

Deng, Xu, Kohavi and Walker (2013), "Improving the sensitivity of online controlled experiments
by utilizing pre-experiment data" (WSDM), eq. 3-4: with ``Y`` the metric during the experiment
and ``X`` the same metric before it, ``Y_cv = Y - theta (X - E X)`` has the same expectation
and variance ``var(Y) (1 - rho**2)`` for ``theta = cov(Y, X) / var(X)``. As in gbstats
``RegressionAdjustedStatistic`` and ``compute_theta`` (gbstats 0.8.0,
``gbstats/models/statistics.py``), ``theta`` is estimated once from both arms pooled (so that the
same adjustment applies to each arm and the effect stays unbiased under randomisation), the
adjusted mean of an arm is ``mean(Y) - theta mean(X)`` and its variance
``var(Y) + theta**2 var(X) - 2 theta cov(Y, X)``. Relative effects divide by the unadjusted
control mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from streamwise.measure.experiments.stats import (
    InvalidStatisticError,
    Moments,
    _check_cauchy_schwarz,
    _check_count,
    _check_finite,
    _check_sums,
    _covariance,
    _mean_variance,
    _Stat,
)

__all__ = ["CupedStat", "cuped_theta"]


@dataclass(frozen=True, slots=True)
class CupedStat(_Stat):
    """Joint sums of a metric during (post) and before (pre) the experiment, for one arm.

    Parameters
    ----------
    n
        Units in the arm (units without pre-period data count with ``pre = 0``).
    post_sum, post_sum_squares
        Sum and sum of squares of the metric during the experiment.
    pre_sum, pre_sum_squares
        Sum and sum of squares of the same metric in the pre-period.
    post_pre_sum_products
        Sum over units of post times pre.

    Examples
    --------
    >>> a = CupedStat.from_values(post=[3.0, 5.0, 4.0], pre=[2.0, 4.0, 3.0])
    >>> (a + a).n
    6
    """

    n: int
    post_sum: float
    post_sum_squares: float
    pre_sum: float
    pre_sum_squares: float
    post_pre_sum_products: float

    def __post_init__(self) -> None:
        cls = "CupedStat"
        _check_count(self.n, cls)
        for name in (
            "post_sum",
            "post_sum_squares",
            "pre_sum",
            "pre_sum_squares",
            "post_pre_sum_products",
        ):
            _check_finite(getattr(self, name), name, cls)
        _check_sums(self.n, self.post_sum, self.post_sum_squares, "post_", cls)
        _check_sums(self.n, self.pre_sum, self.pre_sum_squares, "pre_", cls)
        if self.n == 0 and self.post_pre_sum_products != 0:
            raise InvalidStatisticError(
                "CupedStat has n=0 but post_pre_sum_products="
                f"{self.post_pre_sum_products!r}; an empty arm has zero sums",
                field="post_pre_sum_products",
            )
        _check_cauchy_schwarz(
            self.n,
            (self.post_sum, self.post_sum_squares),
            (self.pre_sum, self.pre_sum_squares),
            self.post_pre_sum_products,
            "post_pre_sum_products",
            cls,
        )

    def __add__(self, other: object) -> CupedStat:
        if not isinstance(other, CupedStat):
            return NotImplemented
        return CupedStat(
            self.n + other.n,
            self.post_sum + other.post_sum,
            self.post_sum_squares + other.post_sum_squares,
            self.pre_sum + other.pre_sum,
            self.pre_sum_squares + other.pre_sum_squares,
            self.post_pre_sum_products + other.post_pre_sum_products,
        )

    @classmethod
    def from_values(cls, post: npt.ArrayLike, pre: npt.ArrayLike) -> CupedStat:
        """Summarise per-unit metric values during and before the experiment."""
        y = np.asarray(post, dtype=np.float64).ravel()
        x = np.asarray(pre, dtype=np.float64).ravel()
        if y.shape != x.shape:
            raise InvalidStatisticError(
                f"post has {y.size} values but pre has {x.size}; pass one of each per unit "
                "(0 for units without pre-period data)",
                field="pre",
            )
        return cls(int(y.size), float(y.sum()), float(y @ y), float(x.sum()), float(x @ x),
                   float(y @ x))  # fmt: skip

    @property
    def post_mean(self) -> float:
        """Unadjusted mean of the metric during the experiment."""
        return 0.0 if self.n == 0 else self.post_sum / self.n

    @property
    def pre_mean(self) -> float:
        """Mean of the pre-period metric."""
        return 0.0 if self.n == 0 else self.pre_sum / self.n

    @property
    def post_variance(self) -> float:
        """Sample variance of the metric during the experiment."""
        return _mean_variance(self.n, self.post_sum, self.post_sum_squares)

    @property
    def pre_variance(self) -> float:
        """Sample variance of the pre-period metric."""
        return _mean_variance(self.n, self.pre_sum, self.pre_sum_squares)

    @property
    def covariance(self) -> float:
        """Sample covariance of post and pre values."""
        return _covariance(self.n, self.post_sum, self.pre_sum, self.post_pre_sum_products)

    def moments(self, theta: float) -> Moments:
        """Size, adjusted mean ``mean(Y) - theta mean(X)``, unadjusted mean and the adjusted
        variance ``var(Y) + theta**2 var(X) - 2 theta cov(Y, X)`` (Deng et al. 2013, eq. 4)."""
        if self.n <= 1:
            variance = 0.0
        else:
            variance = (
                self.post_variance + theta**2 * self.pre_variance - 2 * theta * self.covariance
            )
        return Moments(
            float(self.n), self.post_mean - theta * self.pre_mean, self.post_mean, variance
        )


def cuped_theta(*arms: CupedStat) -> float:
    """``theta = cov(Y, X) / var(X)`` from all arms pooled (gbstats ``compute_theta``).

    The pooled covariance and variance are taken around the grand means, as gbstats does; when
    either pooled variance is zero, ``theta`` is 0 (no adjustment).

    Parameters
    ----------
    *arms
        The CUPED statistics of the arms compared.

    Returns
    -------
    float
        The adjustment coefficient shared by the arms.
    """
    joint: CupedStat = sum(arms)  # type: ignore[assignment]
    if joint.pre_variance == 0 or joint.post_variance == 0:
        return 0.0
    return joint.covariance / joint.pre_variance
