"""Pricing research: hand-computed fixtures, the sample business's planted truth, refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from streamwise.data.sample import generate
from streamwise.errors import DataError
from streamwise.upstream.research.pricing import (
    NMS_CALIBRATION,
    VW_DEFINITIONS,
    gabor_granger,
    newton_miller_smith,
    van_westendorp,
)

# Five respondents A..E: (too cheap, cheap, expensive, too expensive) and the NMS likelihoods at
# their cheap / expensive prices (calibrated: 1 → 0, 2 → .1, 3 → .3, 4 → .5, 5 → .7).
#   A: 30  50  80  90   4 (.5)  3 (.3)
#   B: 10  20  40  70   5 (.7)  2 (.1)
#   C: 50  80 100 110   3 (.3)  1 (0)
#   D: 70  90 100 110   4 (.5)  4 (.5)
#   E: 40  80 120 130   2 (.1)  2 (.1)
HAND = pd.DataFrame(
    {
        "too_cheap": [30, 10, 50, 70, 40],
        "cheap": [50, 20, 80, 90, 80],
        "expensive": [80, 40, 100, 100, 120],
        "too_expensive": [90, 70, 110, 110, 130],
        "nms_cheap": [4, 5, 3, 4, 2],
        "nms_expensive": [3, 2, 1, 4, 2],
    },
    index=list("ABCDE"),
)
# Grid: every distinct answer. Sorted answers: too cheap 10 30 40 50 70; cheap 20 50 80 80 90;
# expensive 40 80 100 100 120; too expensive 70 90 110 110 130. With F_x(p) = share <= p:
HAND_CURVES = pd.DataFrame(
    {  # price: 10   20   30   40   50   70   80   90  100  110  120  130
        "too_cheap": [.8, .8, .6, .4, .2, 0, 0, 0, 0, 0, 0, 0],  # 1 − F_too_cheap
        "cheap": [1, .8, .8, .8, .6, .6, .2, 0, 0, 0, 0, 0],  # 1 − F_cheap
        "expensive": [0, 0, 0, .2, .2, .2, .4, .4, .8, .8, 1, 1],  # F_expensive
        "too_expensive": [0, 0, 0, 0, 0, .2, .2, .4, .4, .8, .8, 1],  # F_too_expensive
        "not_cheap": [0, .2, .2, .2, .4, .4, .8, 1, 1, 1, 1, 1],  # F_cheap
        "not_expensive": [1, 1, 1, .8, .8, .8, .6, .6, .2, .2, 0, 0],  # 1 − F_expensive
    },
    index=pd.Index([10.0, 20, 30, 40, 50, 70, 80, 90, 100, 110, 120, 130], name="price"),
)  # fmt: skip


def test_van_westendorp_hand_computed() -> None:
    r = van_westendorp(HAND)
    pd.testing.assert_frame_equal(r.curves, HAND_CURVES, check_exact=False, atol=1e-12)
    # PMC: too_cheap − not_cheap = .2 at 40, .2 − .4 = −.2 at 50       → 40 + .2/.4 · 10 = 45
    # OPP: too_cheap − too_expensive = .2 at 50, 0 − .2 = −.2 at 70     → 50 + .2/.4 · 20 = 60
    # IPP: cheap − expensive = .6 − .2 = .4 at 70, .2 − .4 = −.2 at 80  → 70 + .4/.6 · 10
    # PME: not_expensive − too_expensive = .2 at 90, .2 − .4 = −.2 at 100 → 90 + .2/.4 · 10 = 95
    assert r.pmc == pytest.approx(45.0, abs=1e-9)
    assert r.opp == pytest.approx(60.0, abs=1e-9)
    assert r.ipp == pytest.approx(70 + 40 / 6, abs=1e-9)
    assert r.pme == pytest.approx(95.0, abs=1e-9)
    assert r.acceptable_range == (r.pmc, r.pme)
    assert r.n == 5
    assert r.definitions["opp"] == VW_DEFINITIONS["opp"]
    assert r.to_dict()["acceptable_range"] == [r.pmc, r.pme]
    pd.testing.assert_frame_equal(r.to_frame(), r.curves)


def test_van_westendorp_takes_the_lowest_price_where_curves_touch() -> None:
    # Two respondents: too_cheap − too_expensive is 1 at 10 (B's 12 > 10), then 0 from 12 to 32
    # (nobody too cheap, nobody too expensive) and −1 from 40: OPP = 12, the lowest such price
    # (pricesensitivitymeter's intersection_method = "min").
    two = pd.DataFrame(
        {"too_cheap": [10, 12], "cheap": [20, 22], "expensive": [30, 32], "too_expensive": [40, 42]}
    )
    assert van_westendorp(two).opp == 12.0


def test_van_westendorp_refuses_a_grid_where_curves_never_cross() -> None:
    with pytest.raises(DataError, match=r"PMC \(point of marginal cheapness"):
        van_westendorp(HAND, prices=[200, 300])


def test_newton_miller_smith_hand_computed() -> None:
    m = newton_miller_smith(HAND)
    # At 80: A .5 + (.3 − .5)·30/30 = .3; B 0 (>= 70); C .3 (its cheap); D .5·10/20 = .25;
    #        E .1 (its cheap)                                    → trial = .95 / 5 = .19
    # At 100: A 0; B 0; C 0 (expensive, likelihood 1); D .5; E .1 → trial = .6 / 5 = .12
    assert m.curves.loc[80.0, "trial"] == pytest.approx(0.19, abs=1e-9)
    assert m.curves.loc[100.0, "trial"] == pytest.approx(0.12, abs=1e-9)
    assert m.curves.loc[100.0, "revenue"] == pytest.approx(12.0, abs=1e-9)
    # Elsewhere: 10 → 0, 20 → .14, 30 → .08, 40 → .07, 50 → .11833, 70 → .12833, 90 → .15,
    # 110 → .02, 120 → .02, 130 → 0: both trial and revenue (80 × .19 = 15.2) peak at 80.
    assert m.curves.loc[20.0, "trial"] == pytest.approx(0.14, abs=1e-9)
    assert m.curves.loc[130.0, "trial"] == pytest.approx(0.0, abs=1e-9)
    assert (m.trial_price, m.revenue_price) == (80.0, 80.0)
    # At 60 (not an answer; given as a grid price): A .5 − .2·10/30; B .1·10/30; C .3·10/30;
    # D 0; E .1·20/40                         → (13 + 1 + 3 + 1.5) / 30 / 5 = 18.5 / 150
    custom = newton_miller_smith(HAND, prices=[60, 100])
    assert custom.curves["trial"].tolist() == pytest.approx([18.5 / 150, 0.12], abs=1e-9)
    assert custom.trial_price == 60.0  # .12333 > .12
    assert custom.revenue_price == 100.0  # 60 × .12333 = 7.4 < 100 × .12 = 12
    assert custom.to_dict()["calibration"] == dict(NMS_CALIBRATION)


def test_gabor_granger_hand_computed() -> None:
    frame = pd.DataFrame(
        {
            "gg_price_10": ["yes", "YES", 1, True, " no ", "yes"],  # 5 yes of 6
            "gg_price_20": [True, False, 1, 0, None, 1],  # 3 yes of 5 answered
            "gg_price_30": ["no", "no", "yes", np.nan, "no", "no"],  # 1 yes of 5 answered
        },
        dtype=object,
    )
    g = gabor_granger(frame)
    d = g.demand
    assert d.index.tolist() == [10.0, 20.0, 30.0]
    assert d["n"].tolist() == [6, 5, 5]
    assert d["yes"].tolist() == [5, 3, 1]
    assert d["share"].tolist() == pytest.approx([5 / 6, 0.6, 0.2], abs=1e-9)
    # revenue index: 10 · 5/6 = 8.33, 20 · .6 = 12, 30 · .2 = 6 → 20 maximises revenue
    assert d["revenue"].tolist() == pytest.approx([50 / 6, 12.0, 6.0], abs=1e-9)
    assert g.revenue_price == 20.0
    # 10 → 20: (−7/30 / (43/60)) / (10/15) = −21/43; 20 → 30: (−.4/.4) / (10/25) = −2.5
    assert g.elasticity["elasticity"].tolist() == pytest.approx([-21 / 43, -2.5], abs=1e-9)
    assert g.elasticity[["price_from", "price_to"]].to_numpy().tolist() == [[10, 20], [20, 30]]
    # Wilson interval, cross-checked with scipy's; 5 of 6 is (0.4365, 0.9699) in printed tables.
    for price, k, n in ((10.0, 5, 6), (20.0, 3, 5), (30.0, 1, 5)):
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert d.loc[price, "lower"] == pytest.approx(ci.low, abs=1e-9)
        assert d.loc[price, "upper"] == pytest.approx(ci.high, abs=1e-9)
    assert (round(d.loc[10.0, "lower"], 4), round(d.loc[10.0, "upper"], 4)) == (0.4365, 0.9699)


def test_gabor_granger_explicit_prices() -> None:
    frame = pd.DataFrame({"cheap_offer": [1, 1, 0], "dear_offer": [1, 0, 0], "other": ["x"] * 3})
    g = gabor_granger(frame, prices={"dear_offer": 50.0, "cheap_offer": 25.0})
    assert g.demand["question"].tolist() == ["cheap_offer", "dear_offer"]
    assert g.demand["share"].tolist() == pytest.approx([2 / 3, 1 / 3])
    named = frame.rename(columns={"cheap_offer": "gg_price_25", "dear_offer": "offer_50.5"})
    by_name = gabor_granger(named.drop(columns="other"))  # prices read from the names
    assert by_name.demand.index.tolist() == [25.0, 50.5]
    assert by_name.demand["share"].tolist() == g.demand["share"].tolist()
    with pytest.raises(DataError, match="no price at the end") as info:
        gabor_granger(named)
    assert info.value.column == "other"


@pytest.mark.parametrize(
    ("change", "column", "text"),
    [
        (lambda f: f.drop(columns="cheap"), "cheap", "no price column"),
        (lambda f: f.assign(expensive=["80", "40", "abc", "100", "120"]), "expensive", "'abc'"),
        (lambda f: f.assign(too_cheap=[30, 10, -5, 70, 40]), "too_cheap", "negative"),
        (lambda f: f.assign(too_expensive=[90, 70, None, 110, 130]), "too_expensive", "missing"),
    ],
)
def test_price_answers_are_refused_naming_the_column(change, column, text) -> None:
    for method in (van_westendorp, newton_miller_smith):
        with pytest.raises(DataError, match=text) as info:
            method(change(HAND))
        assert info.value.column == column
        assert f"column {column!r}" in str(info.value)


def test_newton_miller_smith_refusals() -> None:
    with pytest.raises(DataError, match="no calibration") as info:
        newton_miller_smith(HAND.assign(nms_expensive=[3, 2, 6, 4, 2]))
    assert info.value.column == "nms_expensive"
    assert "index 'C'" in str(info.value)
    with pytest.raises(DataError, match="index 'B' do not strictly increase"):
        newton_miller_smith(HAND.assign(cheap=[50, 10, 80, 90, 80]))


def test_bad_yes_no_answer_names_column_and_row() -> None:
    frame = pd.DataFrame(
        {"gg_price_99": ["yes", "no", "no"], "gg_price_149": ["no", "no", "maybe"]}
    )
    with pytest.raises(DataError, match="'maybe' at index 2") as info:
        gabor_granger(frame)
    assert info.value.column == "gg_price_149"
    assert "column 'gg_price_149'" in str(info.value)
    with pytest.raises(DataError, match="'gg_price_99'"):
        gabor_granger(frame.assign(gg_price_99=[1, 2, 0]))  # 2 is neither 1 nor 0


# --- planted truth of the sample business ------------------------------------------------------

VW_COLUMNS = {
    "too_cheap": "vw_too_cheap",
    "cheap": "vw_cheap",
    "expensive": "vw_expensive",
    "too_expensive": "vw_too_expensive",
}


@pytest.fixture(scope="module")
def sample():
    # The survey has 2,000 customers + 20 % non-customers = 2,500 respondents whatever
    # n_customers is (>= 2,000), so the default-sized survey is generated in ~2 s. No invalid
    # rows: these functions take screened answers.
    biz = generate(n_customers=2_000, seed=42, bad_share=0)
    long = biz.tables["survey_responses"]
    pricing = long[long["question_id"].str.match(r"(vw_|nms_|gg_price_)")]
    wide = pricing.pivot(index="respondent_id", columns="question_id", values="answer")
    return wide, biz.truth.research


def test_planted_van_westendorp_points_are_recovered(sample) -> None:
    wide, truth = sample
    r = van_westendorp(wide, **VW_COLUMNS)
    assert r.n == truth.n_respondents == 2_500
    planted = truth.van_westendorp.points["overall"]
    # A bootstrap of this survey (200 resamples, seeds 42, 7 and 123) puts the standard error of
    # each point at 0.8–1.2 % of it; answers rounded to whole dollars add at most $0.50. A 4 %
    # tolerance is about 4 standard errors. Measured at seed 42: PMC 142.96 vs 143.22 (−0.18 %),
    # OPP 199.11 vs 199.24 (−0.06 %), IPP 211.90 vs 212.05 (−0.07 %), PME 300.89 vs 300.59
    # (+0.10 %).
    for point in ("pmc", "opp", "ipp", "pme"):
        assert getattr(r, point) == pytest.approx(planted[point], rel=0.04), point
    assert r.pmc < r.opp < r.ipp < r.pme


def test_planted_nms_prices_are_recovered(sample) -> None:
    wide, truth = sample
    m = newton_miller_smith(wide, **VW_COLUMNS)
    # The trial curve is flat near its top: bootstrap standard errors of the maximising prices are
    # about $5–7 (trial) and $3–5.5 (revenue); $20 is about 3 of them. Measured at seed 42:
    # trial 200 vs 208, revenue 263 vs 258.
    assert m.trial_price == pytest.approx(truth.van_westendorp.nms_trial_price["overall"], abs=20)
    assert m.revenue_price == pytest.approx(
        truth.van_westendorp.nms_revenue_price["overall"], abs=20
    )
    assert m.trial_price < m.revenue_price


def test_planted_gabor_granger_demand_is_recovered(sample) -> None:
    wide, truth = sample
    g = gabor_granger(wide[[c for c in wide.columns if c.startswith("gg_price_")]])
    planted = truth.gabor_granger.demand["overall"]
    assert g.demand.index.tolist() == [float(p) for p in truth.gabor_granger.prices]
    for price, share in planted.items():
        row = g.demand.loc[float(price)]
        se = np.sqrt(share * (1 - share) / row["n"])  # binomial standard error at the truth
        assert abs(row["share"] - share) < 3 * se, (price, row["share"], share)
    assert g.revenue_price == truth.gabor_granger.revenue_price["overall"]
    assert (g.elasticity["elasticity"] < 0).all()  # demand falls as the price rises
