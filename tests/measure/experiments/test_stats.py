"""Summary statistics: validation and additivity across partitions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from streamwise.errors import DataError
from streamwise.measure.experiments import (
    CupedStat,
    InvalidStatisticError,
    MeanStat,
    ProportionStat,
    RatioStat,
    compare,
)

FIELDS = (
    "effect",
    "ci_low",
    "ci_high",
    "std_error",
    "p_value",
    "chance_to_win",
    "risk_control",
    "risk_treatment",
    "dof",
    "theta",
    "control_mean",
    "treatment_mean",
)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: ProportionStat(n=-1, conversions=0), "n"),
        (lambda: ProportionStat(n=10.5, conversions=1), "n"),
        (lambda: ProportionStat(n=100, conversions=101), "conversions"),
        (lambda: ProportionStat(n=100, conversions=-1), "conversions"),
        (lambda: ProportionStat(n=100, conversions=float("nan")), "conversions"),
        (lambda: MeanStat(n=10, sum=100.0, sum_squares=500.0), "sum_squares"),
        (lambda: MeanStat(n=0, sum=1.0, sum_squares=1.0), "sum"),
        (lambda: MeanStat(n=10, sum=float("inf"), sum_squares=1.0), "sum"),
        (lambda: MeanStat(n="10", sum=1.0, sum_squares=1.0), "n"),
        (lambda: RatioStat(10, 10.0, 5.0, 10.0, 20.0, 10.0), "numerator_sum_squares"),
        (lambda: RatioStat(10, 10.0, 20.0, 10.0, 5.0, 10.0), "denominator_sum_squares"),
        (lambda: RatioStat(4, 4.0, 6.0, 4.0, 6.0, 50.0), "sum_products"),
        (lambda: CupedStat(4, 4.0, 6.0, 4.0, 6.0, -50.0), "post_pre_sum_products"),
        (lambda: CupedStat(4, 4.0, 6.0, 4.0, 1.0, 4.0), "pre_sum_squares"),
    ],
)
def test_invalid_statistics_name_the_field(build, field):
    with pytest.raises(InvalidStatisticError) as info:
        build()
    assert info.value.field == field
    assert field in str(info.value)
    # catchable both as the project's data error and as a ValueError
    assert isinstance(info.value, DataError)
    assert isinstance(info.value, ValueError)


def test_variance_consistency_allows_rounding_and_constant_data():
    x = np.full(1000, 0.1)
    s = MeanStat.from_values(x)  # sum_squares == sum**2 / n up to rounding
    assert s.variance == pytest.approx(0.0, abs=1e-12)
    assert MeanStat(0, 0.0, 0.0).mean == 0.0


def test_from_values_matches_numpy():
    rng = np.random.default_rng(1)
    x = rng.gamma(2.0, 10.0, 500)
    s = MeanStat.from_values(x)
    assert s.mean == pytest.approx(x.mean(), rel=1e-12)
    assert s.variance == pytest.approx(x.var(ddof=1), rel=1e-10)
    p = ProportionStat.from_values(x > 20)
    assert p.mean == pytest.approx((x > 20).mean(), rel=1e-12)
    d = rng.poisson(2.0, 500).astype(float)
    r = RatioStat.from_values(x * d, d)
    assert r.mean == pytest.approx((x * d).sum() / d.sum(), rel=1e-12)
    assert r.covariance == pytest.approx(np.cov(x * d, d)[0, 1], rel=1e-9)
    c = CupedStat.from_values(x, d)
    assert c.covariance == pytest.approx(np.cov(x, d)[0, 1], rel=1e-9)


def test_mismatched_types_cannot_be_added_or_compared():
    with pytest.raises(TypeError):
        ProportionStat(10, 1) + MeanStat(10, 1.0, 1.0)  # type: ignore[operator]
    with pytest.raises(InvalidStatisticError, match="different statistic types"):
        compare(ProportionStat(100, 10), MeanStat(100, 10.0, 10.0))


def _arm_values(rng, kind, n, lift):
    if kind == "proportion":
        return (rng.random(n) < 0.1 * (1 + lift)).astype(float), None
    if kind == "mean":
        return rng.gamma(0.6, 50.0 * (1 + lift), n), None
    if kind == "ratio":
        d = rng.poisson(1.5, n).astype(float)
        return d * rng.gamma(4.0, 15.0 * (1 + lift), n), d
    pre = rng.gamma(2.0, 10.0, n)
    return (0.7 * pre + rng.gamma(2.0, 3.0, n)) * (1 + lift), pre


def _stat(kind, x, y):
    if kind == "proportion":
        return ProportionStat.from_values(x)
    if kind == "mean":
        return MeanStat.from_values(x)
    if kind == "ratio":
        return RatioStat.from_values(x, y)
    return CupedStat.from_values(x, y)


def _partitioned(rng, kind, x, y):
    """Statistics of random partitions (random sizes, some possibly empty), added up."""
    k = int(rng.integers(2, 12))
    part = rng.integers(0, k, x.size)
    parts = [_stat(kind, x[part == i], None if y is None else y[part == i]) for i in range(k)]
    return sum(parts)


@pytest.mark.parametrize("kind", ["proportion", "mean", "ratio", "cuped"])
def test_partitions_add_up_to_the_whole(kind):
    rng = np.random.default_rng(7)
    xa, ya = _arm_values(rng, kind, 3000, 0.0)
    xb, yb = _arm_values(rng, kind, 3200, 0.08)
    whole = (_stat(kind, xa, ya), _stat(kind, xb, yb))
    for _ in range(5):
        parts = (_partitioned(rng, kind, xa, ya), _partitioned(rng, kind, xb, yb))
        assert type(parts[0]) is type(whole[0])
        assert parts[0].n == whole[0].n
        for method in ("frequentist", "bayesian", "sequential"):
            for relative in (True, False):
                r_whole = compare(*whole, method=method, relative=relative)
                r_parts = compare(*parts, method=method, relative=relative)
                assert r_whole.ok
                for f in FIELDS:
                    u, v = getattr(r_whole, f), getattr(r_parts, f)
                    assert (u is None) == (v is None), f
                    if u is not None:
                        assert math.isclose(u, v, rel_tol=1e-12, abs_tol=1e-12), (f, u, v)


def test_statistics_are_frozen_and_accept_numpy_numbers():
    s = MeanStat(np.int64(5), np.float64(10.0), np.float64(30.0))
    assert s.mean == 2.0
    with pytest.raises(AttributeError):
        s.n = 6  # type: ignore[misc]
    assert s.to_dict() == {"n": 5, "sum": 10.0, "sum_squares": 30.0}
    empty = compare(ProportionStat(0, 0), ProportionStat(100, 10))
    assert not empty.ok
    assert "0 unit(s)" in empty.error_message
