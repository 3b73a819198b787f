"""Sample-ratio mismatch, multiple-arm corrections and power, against scipy and statsmodels."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower, TTestIndPower

from streamwise.measure.experiments import (
    ProportionStat,
    adjust_p_values,
    compare,
    compare_arms,
    power_mean,
    power_proportion,
    sample_size_mean,
    sample_size_proportion,
    srm_check,
)


def test_srm_matches_scipy_chisquare_and_flags_mismatch():
    obs, w = [5_000, 5_400, 4_700], [1, 1, 1]
    r = srm_check(obs, w)
    ref = stats.chisquare(obs, f_exp=[sum(obs) / 3] * 3)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.expected == pytest.approx((5_033.333333, 5_033.333333, 5_033.333333))
    assert r.dof == 2
    assert r.mismatch  # p ~ 1e-10 < 0.001
    ok = srm_check([10_000, 10_300], [0.5, 0.5])
    assert not ok.mismatch
    assert srm_check([10_000, 10_300], [0.5, 0.5], threshold=0.05).mismatch
    uneven = srm_check([2_000, 8_000], [0.2, 0.8])
    assert uneven.p_value == pytest.approx(1.0)
    assert uneven.expected == pytest.approx((2_000.0, 8_000.0))
    assert srm_check([0, 0], [0.5, 0.5]).p_value == 1.0
    assert len(ok.to_frame()) == 2


@pytest.mark.parametrize(
    ("observed", "weights", "phrase"),
    [
        ([100, 100], [0.5, 0.3, 0.2], "one weight per arm"),
        ([100, -1], [0.5, 0.5], "observed counts"),
        ([100, 100], [0.0, 0.0], "positive total"),
        ([100], [1.0], "at least two arms"),
    ],
)
def test_srm_input_errors(observed, weights, phrase):
    with pytest.raises(ValueError, match=phrase):
        srm_check(observed, weights)


@pytest.mark.parametrize(("ours", "theirs"), [("holm", "holm"), ("bh", "fdr_bh"),
                                              ("bonferroni", "bonferroni")])  # fmt: skip
def test_adjusted_p_values_match_statsmodels(ours, theirs):
    rng = np.random.default_rng(9)
    for m in (1, 2, 5, 12):
        p = np.concatenate([rng.uniform(0, 0.05, m // 2), rng.uniform(0, 1, m - m // 2)])
        p[0] = p[-1]  # a tie
        expected = multipletests(p, method=theirs)[1]
        np.testing.assert_allclose(adjust_p_values(p, ours), expected, rtol=1e-12, atol=0)


def test_adjust_p_values_rejects_bad_input():
    with pytest.raises(ValueError, match="between 0 and 1"):
        adjust_p_values([0.1, 1.2])
    with pytest.raises(ValueError, match="method must be"):
        adjust_p_values([0.1], "sidak")  # type: ignore[arg-type]


def test_compare_arms_adjusts_for_several_variants():
    control = ProportionStat(5_000, 500)
    variants = {"B": ProportionStat(5_000, 560), "C": ProportionStat(5_000, 505),
                "D": ProportionStat(5_000, 470)}  # fmt: skip
    arms = compare_arms(control, variants, correction="holm")
    raw = [compare(control, v).p_value for v in variants.values()]
    assert [r.p_value for r in arms.results] == pytest.approx(raw, rel=1e-15)
    expected = multipletests(raw, method="holm")[1]
    assert [r.adjusted_p_value for r in arms.results] == pytest.approx(expected, rel=1e-12)
    assert arms["B"].correction == "holm"
    assert arms["B"].adjusted_p_value >= arms["B"].p_value
    frame = arms.to_frame()
    assert list(frame["arm"]) == ["B", "C", "D"]
    listed = compare_arms(control, list(variants.values()), correction="bh")
    assert listed.names == ("1", "2", "3")
    assert [r.adjusted_p_value for r in listed.results] == pytest.approx(
        multipletests(raw, method="fdr_bh")[1], rel=1e-12
    )
    with pytest.raises(ValueError, match="correction=None"):
        compare_arms(control, variants, method="bayesian")
    bayes = compare_arms(control, variants, method="bayesian", correction=None)
    assert bayes["B"].chance_to_win > 0.9
    assert bayes["B"].adjusted_p_value is None


@pytest.mark.parametrize(("rate", "mde", "arms"), [(0.1, 0.1, 2), (0.03, 0.05, 2),
                                                    (0.5, -0.02, 3), (0.2, 0.15, 4)])  # fmt: skip
def test_proportion_sample_size_and_power_match_statsmodels(rate, mde, arms):
    s = sample_size_proportion(rate, mde, alpha=0.05, power=0.8, arms=arms)
    p1 = rate * (1 + mde)
    h = abs(p1 - rate) / np.sqrt((rate * (1 - rate) + p1 * (1 - p1)) / 2)
    assert s.effect_size == pytest.approx(h, rel=1e-12)
    assert s.alpha_per_comparison == pytest.approx(0.05 / (arms - 1))
    ref = NormalIndPower().solve_power(effect_size=h, alpha=0.05 / (arms - 1), power=0.8)
    assert s.n_exact == pytest.approx(ref, rel=1e-6)
    assert s.n_per_arm == int(np.ceil(ref))
    assert s.n_total == s.n_per_arm * arms
    got = power_proportion(rate, mde, 3_000, arms=arms)
    assert got == pytest.approx(NormalIndPower().power(h, 3_000, 0.05 / (arms - 1)), rel=1e-10)
    assert power_proportion(rate, mde, s.n_per_arm, arms=arms) >= 0.8


@pytest.mark.parametrize(("mean", "sd", "mde", "arms"), [(50.0, 80.0, 0.05, 2),
                                                         (3.0, 1.0, -0.1, 3)])  # fmt: skip
def test_mean_sample_size_and_power_match_statsmodels(mean, sd, mde, arms):
    s = sample_size_mean(mean, sd, mde, arms=arms, power=0.9)
    d = abs(mde * mean) / sd
    ref = TTestIndPower().solve_power(effect_size=d, alpha=0.05 / (arms - 1), power=0.9)
    assert s.n_exact == pytest.approx(ref, rel=1e-6)
    got = power_mean(mean, sd, mde, 500, arms=arms)
    assert got == pytest.approx(TTestIndPower().power(d, 500, 0.05 / (arms - 1)), rel=1e-10)
    assert s.to_frame().loc[0, "n_per_arm"] == s.n_per_arm


def test_more_arms_need_more_units_per_arm():
    two = sample_size_proportion(0.1, 0.1)
    four = sample_size_proportion(0.1, 0.1, arms=4)
    assert four.n_per_arm > two.n_per_arm
    assert power_proportion(0.1, 0.1, two.n_per_arm, arms=4) < 0.8


@pytest.mark.parametrize(
    ("call", "phrase"),
    [
        (lambda: sample_size_proportion(1.2, 0.1), "baseline_rate"),
        (lambda: sample_size_proportion(0.6, 1.0), "choose a smaller mde"),
        (lambda: sample_size_proportion(0.1, 0.0), "mde"),
        (lambda: sample_size_proportion(0.1, 0.1, power=0.01), "power"),
        (lambda: sample_size_proportion(0.1, 0.1, arms=1), "arms"),
        (lambda: sample_size_mean(10.0, -1.0, 0.1), "std"),
        (lambda: power_mean(10.0, 1.0, 0.1, 1), "n_per_arm"),
    ],
)
def test_power_input_errors(call, phrase):
    with pytest.raises(ValueError, match=phrase):
        call()
