"""Golden numbers: GrowthBook's own test values and outputs recorded from gbstats 0.8.0.

The recorded outputs were produced by gbstats 0.8.0 (PyPI) in ``benchmarks/.venvs/gbstats``
(``TwoSidedTTest``, ``SequentialTwoSidedTTest`` with the default tuning 5000,
``EffectBayesianABTest`` with its default flat prior; alpha 0.05) on the inputs below; the slow
test in ``test_gbstats.py`` re-runs that comparison on a larger grid.
"""

from __future__ import annotations

import pytest

from streamwise.measure.experiments import (
    CupedStat,
    MeanStat,
    ProportionStat,
    RatioStat,
    compare,
    srm_check,
)

INPUTS = {
    "proportion": (ProportionStat(10000, 1000), ProportionStat(10000, 1100)),
    "mean": (MeanStat(5000, 250000.0, 40000000.0), MeanStat(5100, 265000.0, 42500000.0)),
    "ratio": (
        RatioStat(4000, 120000.0, 9000000.0, 6000.0, 15000.0, 270000.0),
        RatioStat(4100, 130000.0, 9900000.0, 6200.0, 15600.0, 295000.0),
    ),
    "cuped": (
        CupedStat(3000, 90000.0, 3600000.0, 84000.0, 3000000.0, 3100000.0),
        CupedStat(3050, 95000.0, 3900000.0, 85500.0, 3050000.0, 3250000.0),
    ),
}

# frequentist/sequential: [effect, ci_low, ci_high, p_value];
# bayesian: [effect, ci_low, ci_high, chance_to_win, risk_control, risk_treatment]
GBSTATS_0_8_0 = {
    "proportion frequentist relative": [
        0.09999999999999995,
        0.010864708144846927,
        0.189135291855153,
        0.027889528764600602,
    ],
    "proportion sequential relative": [
        0.09999999999999995,
        -0.04220635376208545,
        0.24220635376208535,
        0.5490379443452079,
    ],
    "proportion bayesian relative": [
        0.09999999999999995,
        0.010870112525621006,
        0.18912988747437887,
        0.9860609494573318,
        0.10022287267691717,
        0.00022287267691721734,
    ],
    "proportion frequentist absolute": [
        0.009999999999999995,
        0.0015035439810862743,
        0.018496456018913716,
        0.021068257468733753,
    ],
    "proportion sequential absolute": [
        0.009999999999999995,
        -0.0035552372713726008,
        0.02355523727137259,
        0.43372021342570605,
    ],
    "proportion bayesian absolute": [
        0.009999999999999995,
        0.0015040591315121105,
        0.018495940868487874,
        0.9894709633919611,
        0.010015552281279093,
        1.5552281279096158e-05,
    ],
    "mean frequentist relative": [
        0.0392156862745098,
        -0.020149684786118095,
        0.0985810573351377,
        0.1953940521730495,
    ],
    "mean sequential relative": [
        0.0392156862745098,
        -0.053524311125664165,
        0.13195568367468377,
        1.0,
    ],
    "mean bayesian relative": [
        0.0392156862745098,
        -0.020142568723456752,
        0.09857394127247635,
        0.9023177774692015,
        0.04060962024689332,
        0.001393933972383516,
    ],
    "mean frequentist absolute": [
        1.9607843137254903,
        -0.94998038915038,
        4.87154901660136,
        0.18671381885897897,
    ],
    "mean sequential absolute": [1.9607843137254903, -2.5863836084886422, 6.507952235939623, 1.0],
    "mean bayesian absolute": [
        1.9607843137254903,
        -0.9496314789414813,
        4.871200106392461,
        0.9066580548607254,
        2.025503125599751,
        0.06471881187426091,
    ],
    "ratio frequentist relative": [
        0.048387096774193596,
        0.0001283978134826655,
        0.09664579573490453,
        0.049393702773691706,
    ],
    "ratio sequential relative": [
        0.048387096774193596,
        -0.02665192331827366,
        0.12342611686666086,
        0.6201671659614957,
    ],
    "ratio bayesian relative": [
        0.048387096774193596,
        0.00013561468163328372,
        0.0966385788667539,
        0.9753202192695812,
        0.048616274300721095,
        0.00022917752652750135,
    ],
    "ratio frequentist absolute": [
        0.9677419354838719,
        0.025873688337876066,
        1.9096101826298677,
        0.044031368727924125,
    ],
    "ratio sequential absolute": [
        0.9677419354838719,
        -0.4967996258123777,
        2.4322834967801215,
        0.5669105395964797,
    ],
    "ratio bayesian absolute": [
        0.9677419354838719,
        0.026014540435037703,
        1.909469330532706,
        0.9780008274060138,
        0.9716699227700961,
        0.003927987286224209,
    ],
    "cuped frequentist relative": [
        0.03727123375723025,
        0.017654887353891303,
        0.056887580160569204,
        0.00019733266846944097,
    ],
    "cuped sequential relative": [
        0.03727123375723025,
        0.0068830459164760625,
        0.06765942159798444,
        0.006085264739475131,
    ],
    "cuped bayesian relative": [
        0.03727123375723025,
        0.017658814161208774,
        0.056883653353251726,
        0.9999022241409934,
        0.03727146775801927,
        2.3400078901904708e-07,
    ],
    "cuped frequentist absolute": [
        1.1181370127169075,
        0.5405237002334448,
        1.69575032520037,
        0.00014918553967269155,
    ],
    "cuped sequential absolute": [
        1.1181370127169075,
        0.2233413418941269,
        2.012932683539688,
        0.00479240398448657,
    ],
    "cuped bayesian absolute": [
        1.1181370127169075,
        0.5406393270752373,
        1.6956346983585775,
        0.9999261290818774,
        1.1181421401585454,
        5.127441637863396e-06,
    ],
}


@pytest.mark.parametrize("key", sorted(GBSTATS_0_8_0))
def test_matches_recorded_gbstats(key):
    kind, method, difference = key.split()
    a, b = INPUTS[kind]
    r = compare(a, b, method=method, relative=difference == "relative")
    if method == "bayesian":
        got = [r.effect, r.ci_low, r.ci_high, r.chance_to_win, r.risk_control, r.risk_treatment]
    else:
        got = [r.effect, r.ci_low, r.ci_high, r.p_value]
    assert got == pytest.approx(GBSTATS_0_8_0[key], rel=1e-9, abs=1e-12)


def _mean_stat(n: int, mean: float, sd: float) -> MeanStat:
    total = mean * n
    return MeanStat(n, total, (n - 1) * sd**2 + total**2 / n)


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        # GrowthBook packages/stats/tests/frequentist/test_tests.py (absolute version, 2022):
        # expected 0.29, ci [0.04538, 0.53462], uplift stddev 0.12478, p 0.02016
        (False, [0.29, 0.04538, 0.53462, 0.12478, 0.02016]),
        # the same test after relative effects became the default (2023):
        # expected 0.70732, ci [-0.03526, 1.44989], uplift stddev 0.37879, p 0.06191
        (True, [0.70732, -0.03526, 1.44989, 0.37879, 0.06191]),
    ],
)
def test_growthbook_published_ttest(relative, expected):
    a, b = _mean_stat(3407, 0.41, 3.9), _mean_stat(3461, 0.70, 6.2)
    r = compare(a, b, method="frequentist", relative=relative)
    got = [r.effect, r.ci_low, r.ci_high, r.std_error, r.p_value]
    assert [round(x, 5) for x in got] == expected


def test_srm_matches_recorded_gbstats_check_srm():
    # gbstats.utils.check_srm([10000, 10300], [0.5, 0.5]) and a three-arm split
    assert srm_check([10_000, 10_300], [0.5, 0.5]).p_value == pytest.approx(
        0.035240223824274594, rel=1e-12
    )
    assert srm_check([1000, 1100, 950], [0.3, 0.4, 0.3]).p_value == pytest.approx(
        2.7014800295271902e-05, rel=1e-9
    )
