"""Summary statistics of one experiment arm, as value objects that add up across partitions.

Each statistic holds only counts and sums (never raw rows), so that a warehouse can aggregate
per day, per shard or per segment and the partial statistics combine exactly with ``+``, as
GrowthBook's ``SampleMeanStatistic(n, sum, sum_squares)`` does (gbstats 0.8.0,
``gbstats/models/statistics.py``). The moments follow gbstats:

* :class:`ProportionStat`: mean ``p = conversions / n``, variance ``p (1 - p)`` (Bernoulli).
* :class:`MeanStat`: mean ``sum / n``, variance ``(sum_squares - sum**2 / n) / (n - 1)``.
* :class:`RatioStat`: mean ``numerator_sum / denominator_sum``, variance by the delta method
  (Deng, Knoblich and Lu 2018, "Applying the delta method in metric analytics", eq. 3;
  gbstats ``RatioStatistic.variance``).
* :class:`~streamwise.measure.experiments.cuped.CupedStat` (CUPED, in ``cuped.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from streamwise.errors import DataError

__all__ = ["InvalidStatisticError", "MeanStat", "Moments", "ProportionStat", "RatioStat"]

# Relative slack for rounding when checking that sums of squares allow a non-negative variance.
_ROUNDING = 1e-9


class InvalidStatisticError(DataError, ValueError):
    """A summary statistic is impossible (negative count, more conversions than units, ...).

    It is a :class:`~streamwise.errors.DataError` whose ``column`` names the field at fault, and
    a :class:`ValueError`, so that either can be caught.
    """

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message, column=field)
        self.field = field


@dataclass(frozen=True, slots=True)
class Moments:
    """What a test needs from one arm: size, (adjusted) mean, unadjusted mean and variance.

    Parameters
    ----------
    n
        Units in the arm.
    mean
        Mean used for the effect (the CUPED-adjusted mean for CUPED statistics).
    unadjusted_mean
        Plain mean, the denominator of relative effects (gbstats ``unadjusted_mean``).
    variance
        Per-unit variance of ``mean``.
    """

    n: float
    mean: float
    unadjusted_mean: float
    variance: float


def _check_count(n: Any, cls: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int | float | np.integer | np.floating):
        raise InvalidStatisticError(
            f"{cls}.n must be a number of units (an integer >= 0), got {n!r}", field="n"
        )
    if not math.isfinite(n) or n < 0 or n != int(n):
        raise InvalidStatisticError(
            f"{cls}.n must be a whole number of units >= 0, got {n!r}; pass the count of "
            "users (or sessions) in the arm",
            field="n",
        )


def _check_finite(value: Any, field: str, cls: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidStatisticError(f"{cls}.{field} must be a number, got {value!r}", field=field)
    if not math.isfinite(value):
        raise InvalidStatisticError(
            f"{cls}.{field} must be finite, got {value!r}; drop missing or infinite values "
            "before summing",
            field=field,
        )


def _check_sums(n: float, total: float, squares: float, field: str, cls: str) -> None:
    """``squares >= total**2 / n`` (a non-negative variance), allowing for rounding."""
    sum_field, squares_field = f"{field}sum", f"{field}sum_squares"
    if n == 0:
        if total != 0 or squares != 0:
            raise InvalidStatisticError(
                f"{cls} has n=0 but {sum_field}={total!r} and {squares_field}={squares!r}; "
                "an empty arm has zero sums",
                field=sum_field if total != 0 else squares_field,
            )
        return
    if squares < 0 or squares - total * total / n < -_ROUNDING * max(abs(squares), 1.0):
        raise InvalidStatisticError(
            f"{cls}.{squares_field}={squares!r} is smaller than {sum_field}**2 / n = "
            f"{total * total / n!r}, which would make the variance negative; pass the sum of "
            "the squared values (not the square of the sum, nor a variance)",
            field=squares_field,
        )


def _mean_variance(n: float, total: float, squares: float) -> float:
    """Sample variance ``(sum_squares - sum**2 / n) / (n - 1)``; 0 when ``n <= 1`` (gbstats)."""
    if n <= 1:
        return 0.0
    return (squares - total * total / n) / (n - 1)


def _covariance(n: float, sum_x: float, sum_y: float, sum_xy: float) -> float:
    """Sample covariance ``(sum_xy - sum_x sum_y / n) / (n - 1)``; 0 when ``n <= 1``."""
    if n <= 1:
        return 0.0
    return (sum_xy - sum_x * sum_y / n) / (n - 1)


class _Stat:
    """Shared behaviour: ``sum(stats)`` works (``0 + stat``) and ``to_dict``."""

    __slots__ = ()

    def __radd__(self, other: object) -> Self:
        if isinstance(other, int) and other == 0:
            return self  # type: ignore[return-value]
        return NotImplemented

    def to_dict(self) -> dict[str, float]:
        """The fields as a plain dictionary."""
        return asdict(self)  # type: ignore[call-overload, no-any-return]


@dataclass(frozen=True, slots=True)
class ProportionStat(_Stat):
    """Units and conversions of one arm, for a conversion-rate (binomial) metric.

    Parameters
    ----------
    n
        Units (users) in the arm.
    conversions
        Units that converted, ``0 <= conversions <= n``.

    Examples
    --------
    >>> ProportionStat(n=1_000, conversions=100) + ProportionStat(n=500, conversions=40)
    ProportionStat(n=1500, conversions=140)
    """

    n: int
    conversions: float

    def __post_init__(self) -> None:
        _check_count(self.n, "ProportionStat")
        _check_finite(self.conversions, "conversions", "ProportionStat")
        if not 0 <= self.conversions <= self.n:
            raise InvalidStatisticError(
                f"ProportionStat.conversions={self.conversions!r} must be between 0 and "
                f"n={self.n!r}; count each unit at most once (use MeanStat for counts that "
                "can exceed one per unit)",
                field="conversions",
            )

    def __add__(self, other: object) -> ProportionStat:
        if not isinstance(other, ProportionStat):
            return NotImplemented
        return ProportionStat(self.n + other.n, self.conversions + other.conversions)

    @classmethod
    def from_values(cls, values: npt.ArrayLike) -> ProportionStat:
        """Summarise 0/1 (or boolean) outcomes, one per unit."""
        x = np.asarray(values, dtype=np.float64).ravel()
        return cls(n=int(x.size), conversions=float(x.sum()))

    @property
    def sum(self) -> float:
        """Conversions (the sum of the 0/1 outcomes)."""
        return float(self.conversions)

    @property
    def sum_squares(self) -> float:
        """Sum of squared 0/1 outcomes, equal to the conversions."""
        return float(self.conversions)

    @property
    def mean(self) -> float:
        """Conversion rate ``conversions / n`` (0 for an empty arm)."""
        return 0.0 if self.n == 0 else self.conversions / self.n

    @property
    def variance(self) -> float:
        """Bernoulli variance ``p (1 - p)``, as gbstats ``ProportionStatistic.variance``."""
        p = self.mean
        return p * (1.0 - p)

    def moments(self) -> Moments:
        """Size, mean and variance for the tests."""
        return Moments(float(self.n), self.mean, self.mean, self.variance)


@dataclass(frozen=True, slots=True)
class MeanStat(_Stat):
    """Units, sum and sum of squares of one arm, for a per-unit mean (revenue per user, ...).

    Parameters
    ----------
    n
        Units in the arm.
    sum
        Sum of the per-unit values.
    sum_squares
        Sum of the squared per-unit values; at least ``sum**2 / n``.

    Examples
    --------
    >>> MeanStat.from_values([10.0, 0.0, 5.0])
    MeanStat(n=3, sum=15.0, sum_squares=125.0)
    """

    n: int
    sum: float
    sum_squares: float

    def __post_init__(self) -> None:
        _check_count(self.n, "MeanStat")
        _check_finite(self.sum, "sum", "MeanStat")
        _check_finite(self.sum_squares, "sum_squares", "MeanStat")
        _check_sums(self.n, self.sum, self.sum_squares, "", "MeanStat")

    def __add__(self, other: object) -> MeanStat:
        if not isinstance(other, MeanStat):
            return NotImplemented
        return MeanStat(
            self.n + other.n, self.sum + other.sum, self.sum_squares + other.sum_squares
        )

    @classmethod
    def from_values(cls, values: npt.ArrayLike) -> MeanStat:
        """Summarise per-unit values."""
        x = np.asarray(values, dtype=np.float64).ravel()
        return cls(n=int(x.size), sum=float(x.sum()), sum_squares=float(x @ x))

    @property
    def mean(self) -> float:
        """``sum / n`` (0 for an empty arm)."""
        return 0.0 if self.n == 0 else self.sum / self.n

    @property
    def variance(self) -> float:
        """Sample variance ``(sum_squares - sum**2 / n) / (n - 1)`` (gbstats)."""
        return _mean_variance(self.n, self.sum, self.sum_squares)

    def moments(self) -> Moments:
        """Size, mean and variance for the tests."""
        return Moments(float(self.n), self.mean, self.mean, self.variance)


@dataclass(frozen=True, slots=True)
class RatioStat(_Stat):
    """Sums of a ratio metric's numerator and denominator per unit (revenue per order, ...).

    The metric is ``numerator_sum / denominator_sum``; its variance comes from the delta method
    (Deng, Knoblich and Lu 2018, eq. 3), as gbstats ``RatioStatistic``::

        var = var_m / mu_d**2 - 2 cov_md mu_m / mu_d**3 + mu_m**2 var_d / mu_d**4

    with per-unit sample variances and covariance (``n - 1`` denominators).

    Parameters
    ----------
    n
        Units (the randomisation unit, e.g. users).
    numerator_sum, numerator_sum_squares
        Sum and sum of squares of the per-unit numerators (e.g. revenue per user).
    denominator_sum, denominator_sum_squares
        Sum and sum of squares of the per-unit denominators (e.g. orders per user).
    sum_products
        Sum over units of numerator times denominator.
    """

    n: int
    numerator_sum: float
    numerator_sum_squares: float
    denominator_sum: float
    denominator_sum_squares: float
    sum_products: float

    def __post_init__(self) -> None:
        cls = "RatioStat"
        _check_count(self.n, cls)
        for name in (
            "numerator_sum",
            "numerator_sum_squares",
            "denominator_sum",
            "denominator_sum_squares",
            "sum_products",
        ):
            _check_finite(getattr(self, name), name, cls)
        _check_sums(self.n, self.numerator_sum, self.numerator_sum_squares, "numerator_", cls)
        _check_sums(self.n, self.denominator_sum, self.denominator_sum_squares, "denominator_", cls)
        if self.n == 0 and self.sum_products != 0:
            raise InvalidStatisticError(
                f"RatioStat has n=0 but sum_products={self.sum_products!r}; an empty arm has "
                "zero sums",
                field="sum_products",
            )
        _check_cauchy_schwarz(
            self.n,
            (self.numerator_sum, self.numerator_sum_squares),
            (self.denominator_sum, self.denominator_sum_squares),
            self.sum_products,
            "sum_products",
            cls,
        )

    def __add__(self, other: object) -> RatioStat:
        if not isinstance(other, RatioStat):
            return NotImplemented
        return RatioStat(
            self.n + other.n,
            self.numerator_sum + other.numerator_sum,
            self.numerator_sum_squares + other.numerator_sum_squares,
            self.denominator_sum + other.denominator_sum,
            self.denominator_sum_squares + other.denominator_sum_squares,
            self.sum_products + other.sum_products,
        )

    @classmethod
    def from_values(cls, numerator: npt.ArrayLike, denominator: npt.ArrayLike) -> RatioStat:
        """Summarise per-unit numerators and denominators (arrays of equal length)."""
        m = np.asarray(numerator, dtype=np.float64).ravel()
        d = np.asarray(denominator, dtype=np.float64).ravel()
        if m.shape != d.shape:
            raise InvalidStatisticError(
                f"numerator has {m.size} values but denominator has {d.size}; pass one of each "
                "per unit",
                field="denominator",
            )
        return cls(int(m.size), float(m.sum()), float(m @ m), float(d.sum()), float(d @ d),
                   float(m @ d))  # fmt: skip

    @property
    def numerator_mean(self) -> float:
        """Mean numerator per unit."""
        return 0.0 if self.n == 0 else self.numerator_sum / self.n

    @property
    def denominator_mean(self) -> float:
        """Mean denominator per unit."""
        return 0.0 if self.n == 0 else self.denominator_sum / self.n

    @property
    def mean(self) -> float:
        """The ratio ``numerator_sum / denominator_sum`` (0 when the denominator sums to 0)."""
        return 0.0 if self.denominator_sum == 0 else self.numerator_sum / self.denominator_sum

    @property
    def covariance(self) -> float:
        """Sample covariance of numerator and denominator per unit."""
        return _covariance(self.n, self.numerator_sum, self.denominator_sum, self.sum_products)

    @property
    def variance(self) -> float:
        """Delta-method variance of the ratio per unit (Deng et al. 2018, eq. 3; gbstats)."""
        mu_d = self.denominator_mean
        if mu_d == 0 or self.n <= 1:
            return 0.0
        mu_m = self.numerator_mean
        var_m = _mean_variance(self.n, self.numerator_sum, self.numerator_sum_squares)
        var_d = _mean_variance(self.n, self.denominator_sum, self.denominator_sum_squares)
        return var_m / mu_d**2 - 2 * self.covariance * mu_m / mu_d**3 + mu_m**2 * var_d / mu_d**4

    def moments(self) -> Moments:
        """Size, mean and variance for the tests."""
        return Moments(float(self.n), self.mean, self.mean, self.variance)


def _check_cauchy_schwarz(
    n: float,
    x: tuple[float, float],
    y: tuple[float, float],
    sum_xy: float,
    field: str,
    cls: str,
) -> None:
    """The cross-product sum must allow ``cov**2 <= var_x var_y`` (up to rounding)."""
    if n <= 1:
        return
    sxx = x[1] - x[0] * x[0] / n
    syy = y[1] - y[0] * y[0] / n
    sxy = sum_xy - x[0] * y[0] / n
    slack = _ROUNDING * max(abs(x[1]), 1.0) * max(abs(y[1]), 1.0) * 10
    if sxy * sxy > max(sxx, 0.0) * max(syy, 0.0) + slack:
        raise InvalidStatisticError(
            f"{cls}.{field}={sum_xy!r} implies a correlation above 1 given the other sums; "
            "pass the sum over units of the product of the two values",
            field=field,
        )


def check_same_kind(stats: Iterable[object]) -> None:
    """All statistics are of one class (no comparing a proportion with a mean)."""
    kinds = {type(s) for s in stats}
    if len(kinds) > 1:
        names = ", ".join(sorted(k.__name__ for k in kinds))
        raise InvalidStatisticError(
            f"arms have different statistic types ({names}); summarise every arm of a metric "
            "the same way",
            field="type",
        )
