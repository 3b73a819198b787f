"""The three methods against independent references, and simulations of their guarantees."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from streamwise.measure.experiments import (
    CupedStat,
    GaussianPrior,
    MeanStat,
    ProportionStat,
    compare,
)


def test_welch_matches_scipy_on_raw_data():
    rng = np.random.default_rng(3)
    a = rng.gamma(0.5, 80.0, 700)
    b = rng.gamma(0.5, 90.0, 650)
    r = compare(MeanStat.from_values(a), MeanStat.from_values(b), relative=False, alpha=0.1)
    ref = stats.ttest_ind(b, a, equal_var=False)
    ci = ref.confidence_interval(confidence_level=0.9)
    assert r.effect == pytest.approx(b.mean() - a.mean(), rel=1e-12)
    assert r.effect / r.std_error == pytest.approx(ref.statistic, rel=1e-10)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert r.dof == pytest.approx(ref.df, rel=1e-10)
    assert (r.ci_low, r.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert r.chance_to_win is None
    assert r.risk_treatment is None


def test_relative_standard_error_matches_simulated_spread():
    # The delta-method standard error of the relative lift should equal the actual spread of
    # the estimate over repeated experiments (Deng et al. 2018).
    rng = np.random.default_rng(11)
    n, p0, p1 = 4000, 0.05, 0.055
    ca, cb = rng.binomial(n, p0, 3000), rng.binomial(n, p1, 3000)
    results = [
        compare(ProportionStat(n, x), ProportionStat(n, y)) for x, y in zip(ca, cb, strict=True)
    ]
    effects = np.array([r.effect for r in results])
    ses = np.array([r.std_error for r in results])
    assert effects.std() == pytest.approx(np.median(ses), rel=0.06)
    covered = np.mean([r.ci_low <= p1 / p0 - 1 <= r.ci_high for r in results])
    assert 0.93 <= covered <= 0.97


def test_bayesian_posterior_summaries():
    a, b = ProportionStat(3000, 300), ProportionStat(3000, 330)
    f = compare(a, b, method="frequentist")
    r = compare(a, b, method="bayesian")
    assert r.p_value is None
    assert r.dof is None
    # flat prior: posterior N(effect, se**2) from the same delta-method estimates
    assert r.effect == pytest.approx(f.effect, rel=1e-12)
    assert r.std_error == pytest.approx(f.std_error, rel=1e-12)
    assert r.chance_to_win == pytest.approx(stats.norm.sf(0, r.effect, r.std_error), rel=1e-12)
    assert (r.ci_low, r.ci_high) == pytest.approx(
        stats.norm.interval(0.95, r.effect, r.std_error), rel=1e-12
    )
    # risks are E[max(effect, 0)] and E[max(-effect, 0)], by numerical integration
    pdf = stats.norm(r.effect, r.std_error).pdf
    risk_c = integrate.quad(lambda x: x * pdf(x), 0, np.inf)[0]
    risk_t = integrate.quad(lambda x: -x * pdf(x), -np.inf, 0)[0]
    assert r.risk_control == pytest.approx(risk_c, rel=1e-7)
    assert r.risk_treatment == pytest.approx(risk_t, rel=1e-7)
    assert r.expected_loss == r.risk_treatment
    # inverse metric: lower is better
    inv = compare(a, b, method="bayesian", inverse=True)
    assert inv.chance_to_win == pytest.approx(1 - r.chance_to_win, abs=1e-15)
    assert (inv.risk_control, inv.risk_treatment) == (r.risk_treatment, r.risk_control)


def test_bayesian_proper_prior_is_the_conjugate_update():
    a, b = ProportionStat(800, 80), ProportionStat(800, 100)
    flat = compare(a, b, method="bayesian")
    prior = GaussianPrior(mean=0.0, variance=0.05**2)
    r = compare(a, b, method="bayesian", prior=prior)
    like = stats.norm(flat.effect, flat.std_error).pdf
    pri = stats.norm(0.0, 0.05).pdf
    z = integrate.quad(lambda x: like(x) * pri(x), -2, 2, points=[0, flat.effect])[0]
    mean = integrate.quad(lambda x: x * like(x) * pri(x), -2, 2, points=[0, flat.effect])[0] / z
    assert r.effect == pytest.approx(mean, rel=1e-6)
    assert 0 < r.effect < flat.effect
    assert r.std_error < flat.std_error
    # absolute effects: the relative prior is rescaled by the control mean
    ab = compare(a, b, method="bayesian", relative=False, prior=prior)
    ab_flat = compare(a, b, method="bayesian", relative=False)
    assert 0 < ab.effect < ab_flat.effect


def test_sequential_interval_is_wider_and_tightest_near_the_tuning_size():
    a, b = MeanStat.from_values([1.0, 3.0] * 1250), MeanStat.from_values([1.2, 3.2] * 1250)
    fixed = compare(a, b, method="frequentist")
    seq = compare(a, b, method="sequential")
    assert seq.effect == fixed.effect
    assert seq.ci_low < fixed.ci_low
    assert seq.ci_high > fixed.ci_high
    assert seq.p_value > fixed.p_value
    # ratio of widths at n_total = 5000 (tuned) is smaller than when tuned for 500 units
    small_tune = compare(a, b, method="sequential", sequential_tuning_parameter=500)
    assert seq.ci_high - seq.ci_low < small_tune.ci_high - small_tune.ci_low


def test_peeking_sequential_stays_valid_naive_does_not():
    # Johari et al. (2017), "Peeking at A/B tests": an A/A test checked at 20 looks.
    rng = np.random.default_rng(2024)
    experiments, looks, per_look = 1000, 20, 250
    alpha = 0.05
    ever_naive = ever_seq = 0
    for _ in range(experiments):
        xa = rng.normal(10.0, 4.0, (looks, per_look))
        xb = rng.normal(10.0, 4.0, (looks, per_look))
        sa, sb = np.cumsum(xa.sum(1)), np.cumsum(xb.sum(1))
        qa, qb = np.cumsum((xa * xa).sum(1)), np.cumsum((xb * xb).sum(1))
        hit_naive = hit_seq = False
        for k in range(looks):
            n = (k + 1) * per_look
            a, b = MeanStat(n, sa[k], qa[k]), MeanStat(n, sb[k], qb[k])
            hit_naive |= compare(a, b, method="frequentist", alpha=alpha).p_value < alpha
            hit_seq |= compare(a, b, method="sequential", alpha=alpha).p_value < alpha
        ever_naive += hit_naive
        ever_seq += hit_seq
    se = math.sqrt(alpha * (1 - alpha) / experiments)
    assert ever_seq / experiments <= alpha + 3 * se
    assert ever_naive / experiments >= 2 * alpha  # repeated fixed-horizon tests: ~0.2-0.25


def test_cuped_reduces_variance_without_bias():
    # Deng et al. (2013): with pre/post correlation rho the variance shrinks by ~(1 - rho**2).
    rng = np.random.default_rng(5)
    true_effect, n = 1.0, 600
    cuped, plain, cuped_se, plain_se = [], [], [], []
    for _ in range(400):
        pre = rng.normal(20.0, 5.0, 2 * n)
        post = 5.0 + 0.8 * pre + rng.normal(0.0, 3.0, 2 * n)
        post[n:] += true_effect
        a = CupedStat.from_values(post[:n], pre[:n])
        b = CupedStat.from_values(post[n:], pre[n:])
        rc = compare(a, b, relative=False)
        rp = compare(MeanStat.from_values(post[:n]), MeanStat.from_values(post[n:]), relative=False)
        cuped.append(rc.effect)
        plain.append(rp.effect)
        cuped_se.append(rc.std_error)
        plain_se.append(rp.std_error)
        assert rc.theta == pytest.approx(0.8, abs=0.1)
    cuped_arr = np.array(cuped)
    # unbiased: the mean estimate is within 4 standard errors of the truth
    assert abs(cuped_arr.mean() - true_effect) < 4 * cuped_arr.std() / math.sqrt(cuped_arr.size)
    # rho**2 = 16 / (16 + 9) = 0.64, so the variance should drop to about 36 %
    ratio = cuped_arr.var() / np.var(plain)
    assert 0.25 < ratio < 0.5
    assert np.mean(cuped_se) < 0.7 * np.mean(plain_se)
    # and the reported standard error matches the actual spread
    assert np.mean(cuped_se) == pytest.approx(cuped_arr.std(), rel=0.12)


def test_cuped_without_pre_variation_falls_back_to_plain_means():
    a = CupedStat.from_values([1.0, 2.0, 3.0, 4.0], [5.0] * 4)
    b = CupedStat.from_values([2.0, 3.0, 4.0, 6.0], [5.0] * 4)
    r = compare(a, b)
    p = compare(MeanStat.from_values([1.0, 2.0, 3.0, 4.0]), MeanStat.from_values([2, 3, 4, 6.0]))
    assert r.theta == 0.0
    assert r.effect == pytest.approx(p.effect)
    assert r.p_value == pytest.approx(p.p_value)


@pytest.mark.parametrize("method", ["frequentist", "bayesian", "sequential"])
@pytest.mark.parametrize(
    ("a", "b", "relative", "phrase"),
    [
        (MeanStat(1, 3.0, 9.0), MeanStat(50, 100.0, 400.0), True, "at least 2"),
        (ProportionStat(500, 0), ProportionStat(500, 10), True, "control mean is zero"),
        (ProportionStat(500, 0), ProportionStat(500, 10), False, "no variation"),
        (MeanStat(4, 8.0, 16.0), MeanStat(4, 9.0, 25.0), True, "no variation"),
    ],
)
def test_inestimable_effects_explain_why(method, a, b, relative, phrase):
    r = compare(a, b, method=method, relative=relative)
    assert not r.ok
    assert phrase in r.error_message
    assert r.effect is None
    assert r.ci_low is None
    assert r.p_value is None
    assert r.chance_to_win is None


def test_absolute_effect_with_zero_control_mean_is_estimated():
    a = MeanStat.from_values([-1.0, 1.0] * 50)
    b = MeanStat.from_values([-1.0, 1.5] * 50)
    assert not compare(a, b).ok
    r = compare(a, b, relative=False)
    assert r.ok
    assert r.effect == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("kwargs", "phrase"),
    [
        ({"method": "bayes"}, "method must be one of"),
        ({"alpha": 1.5}, "alpha must be between 0 and 1"),
        ({"sequential_tuning_parameter": 0}, "positive number of units"),
    ],
)
def test_bad_options_raise(kwargs, phrase):
    with pytest.raises(ValueError, match=phrase):
        compare(ProportionStat(100, 10), ProportionStat(100, 12), **kwargs)


def test_result_to_dict_and_frame():
    r = compare(ProportionStat(1000, 100), ProportionStat(1000, 120), method="bayesian")
    d = r.to_dict()
    assert d["chance_to_win"] == r.chance_to_win
    assert d["p_value"] is None
    assert d["method"] == "bayesian"
    frame = r.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert frame.shape[0] == 1
    assert frame.loc[0, "effect"] == r.effect
    with pytest.raises(AttributeError):
        r.effect = 0.0  # type: ignore[misc]
