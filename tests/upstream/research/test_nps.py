from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from streamwise.data.sample import generate
from streamwise.errors import DataError
from streamwise.upstream.research.nps import NpsResult, nps, nps_by, nps_difference

Z95 = 1.959963984540054  # standard normal 97.5 % quantile
# 50 promoters, 30 passives, 20 detractors: NPS = 100 × (0.5 − 0.2) = 30.
HUNDRED = [10] * 25 + [9] * 25 + [8] * 15 + [7] * 15 + [6] * 10 + [0] * 10


def test_hand_computed_wald() -> None:
    r = nps(HUNDRED)
    assert isinstance(r, NpsResult)
    assert (r.n, r.promoters, r.passives, r.detractors) == (100, 0.5, 0.3, 0.2)
    assert r.score == pytest.approx(30.0, abs=1e-12)
    # Var = [0.5 + 0.2 − 0.3²] / 100 = 0.0061; SE = 100 × √0.0061 = 7.810249675906654 points.
    assert r.std_error == pytest.approx(7.810249675906654, abs=1e-9)
    # 30 ∓ 1.959963984540054 × 7.810249675906654 = 30 ∓ 15.307808075042667.
    assert r.lower == pytest.approx(14.692191924957333, abs=1e-9)
    assert r.upper == pytest.approx(45.307808075042667, abs=1e-9)
    assert r.to_frame().loc[0, "score"] == pytest.approx(30.0)


def test_hand_computed_adjusted_wald() -> None:
    r = nps(HUNDRED, method="adjusted_wald")
    assert r.score == pytest.approx(30.0)  # the point estimate stays unadjusted
    # n' = 103, p'_P = 50.75/103, p'_D = 20.75/103, centre = 30/103;
    # Var = [71.5/103 − (30/103)²] / 103 = (71.5·103 − 900) / 103³ = 6464.5 / 1092727.
    se = 100 * np.sqrt(6464.5 / 1092727)
    assert se == pytest.approx(7.691510421814756, abs=1e-12)
    assert r.std_error == pytest.approx(7.691510421814756, abs=1e-9)
    assert r.lower == pytest.approx(3000 / 103 - Z95 * se, abs=1e-9)
    assert r.upper == pytest.approx(3000 / 103 + Z95 * se, abs=1e-9)
    assert r.lower == pytest.approx(14.051130178761612, abs=1e-9)
    assert r.upper == pytest.approx(44.20129700570441, abs=1e-9)


def test_interval_is_clipped_at_100() -> None:
    # 19 promoters, 1 passive: Var = (0.95 − 0.95²)/20 = 0.002375, upper 95 + 9.55 > 100.
    near = nps([9] * 19 + [8])
    assert near.std_error == pytest.approx(100 * np.sqrt(0.002375), abs=1e-9)
    assert near.upper == 100.0
    assert near.lower == pytest.approx(95 - Z95 * 100 * np.sqrt(0.002375), abs=1e-9)
    # All promoters: Wald has zero variance; adjusted Wald (n' = 23, centre 20/23,
    # Var = (21.5·23 − 400)/23³ = 94.5/12167) reaches past 100 and is clipped.
    everyone = nps([10] * 20)
    assert (everyone.score, everyone.lower, everyone.upper, everyone.std_error) == (
        100,
        100,
        100,
        0,
    )
    adjusted = nps([10] * 20, method="adjusted_wald")
    assert adjusted.upper == 100.0
    assert adjusted.lower == pytest.approx(2000 / 23 - Z95 * 100 * np.sqrt(94.5 / 12167), abs=1e-9)
    assert nps([0] * 5, method="adjusted_wald").lower == -100.0


def test_digit_strings_and_whole_floats_are_accepted() -> None:
    expected = nps([10, 9, 7, 0])
    assert nps(["10", " 9", "7", "0"]) == expected
    assert nps(pd.Series([10.0, 9.0, 7.0, 0.0])) == expected
    assert nps(np.array([10, 9, 7, 0], dtype=np.int8)) == expected


def test_weights_use_weighted_shares_and_kish_effective_size() -> None:
    r = nps([10, 0, 8], weights=[2.0, 1.0, 1.0])
    # Shares 2/4, 1/4, 1/4 → NPS 25; n_eff = 4² / (4 + 1 + 1) = 8/3;
    # Var = (0.75 − 0.25²) / (8/3) = 0.2578125.
    assert (r.promoters, r.passives, r.detractors, r.n) == (0.5, 0.25, 0.25, 3)
    assert r.score == pytest.approx(25.0)
    assert r.n_effective == pytest.approx(8 / 3)
    assert r.std_error == pytest.approx(100 * np.sqrt(0.2578125), abs=1e-9)
    # Equal weights change nothing.
    assert nps(HUNDRED, weights=np.full(100, 3.5)) == nps(HUNDRED)


@pytest.mark.parametrize("method", ["wald", "adjusted_wald"])
def test_95_percent_interval_covers_the_true_nps_about_95_percent_of_the_time(method: str) -> None:
    rng = np.random.default_rng(20240601)
    p = np.array([0.04, 0.02, 0.02, 0.04, 0.05, 0.05, 0.08, 0.15, 0.15, 0.2, 0.2])
    truth = 100 * (p[9:].sum() - p[:7].sum())  # 40 − 30 = 10
    covered = 0
    for _ in range(2000):
        r = nps(rng.choice(11, size=400, p=p), method=method)
        covered += r.lower <= truth <= r.upper
    assert 0.93 <= covered / 2000 <= 0.97, covered


def test_hand_computed_difference() -> None:
    b = [9] * 60 + [8] * 80 + [0] * 60  # NPS 0, Var = 0.6 / 200 = 0.003
    d = nps_difference(HUNDRED, b)
    assert d.difference == pytest.approx(30.0)
    # SE = 100 × √(0.0061 + 0.003) = 9.539392014169456; z = 30 / SE.
    assert d.std_error == pytest.approx(9.539392014169456, abs=1e-9)
    assert d.z == pytest.approx(3.144854510165755, abs=1e-9)
    assert d.lower == pytest.approx(30 - Z95 * 9.539392014169456, abs=1e-9)
    assert d.upper == pytest.approx(30 + Z95 * 9.539392014169456, abs=1e-9)
    assert d.p_value == pytest.approx(0.0016616944579835, rel=1e-9)  # 2 × (1 − Φ(3.14485...))
    assert (d.a.score, d.b.score) == (30.0, 0.0)
    assert nps_difference(b, HUNDRED).z == pytest.approx(-d.z)


def test_difference_rejects_about_5_percent_under_the_null() -> None:
    rng = np.random.default_rng(7)
    p = np.array([0.03] * 7 + [0.15, 0.15, 0.24, 0.25])
    pvalues = np.array(
        [
            nps_difference(rng.choice(11, 300, p=p), rng.choice(11, 250, p=p)).p_value
            for _ in range(2000)
        ]
    )
    assert 0.035 <= (pvalues < 0.05).mean() <= 0.065
    assert 0.17 <= (pvalues < 0.2).mean() <= 0.23
    assert 0.46 <= (pvalues < 0.5).mean() <= 0.54


def test_nps_by_groups_and_all_row() -> None:
    frame = pd.DataFrame(
        {
            "segment": ["a", "a", "b", "b", "b"],
            "country": ["x", "y", "x", "x", "y"],
            "score": [10, 0, 9, 9, "7"],
        }
    )
    out = nps_by(frame, "score", "segment")
    assert out["segment"].tolist() == ["a", "b", "All"]
    assert out["score"].tolist() == pytest.approx([0.0, 200 / 3, 40.0])
    assert out["n"].tolist() == [2, 3, 5]
    assert out.loc[2, "std_error"] == pytest.approx(nps([10, 0, 9, 9, 7]).std_error)
    two = nps_by(frame, "score", ["segment", "country"], confidence=0.9)
    assert two[["segment", "country"]].values.tolist() == [
        ["a", "x"], ["a", "y"], ["b", "x"], ["b", "y"], ["All", "All"]
    ]  # fmt: skip
    assert two.loc[2, "score"] == 100.0
    with pytest.raises(DataError, match="segmnt"):
        nps_by(frame, "score", "segmnt")


@pytest.mark.parametrize(
    ("scores", "shown"),
    [([10, 9, 11], "11"), ([10, "abc"], "'abc'"), ([3, 9.5], "9.5"), ([1, -1], "-1")],
)
def test_bad_scores_are_named(scores: list[object], shown: str) -> None:
    with pytest.raises(DataError, match=f"{shown} at index {len(scores) - 1}") as err:
        nps(scores)
    assert err.value.row == len(scores)


def test_bad_weights_and_empty_input() -> None:
    with pytest.raises(DataError, match=r"weight .*-1\.0 at index 1"):
        nps([10, 9, 0], weights=[1.0, -1.0, 2.0])
    with pytest.raises(DataError, match="no scores"):
        nps([])
    with pytest.raises(DataError, match="sum to zero"):
        nps([10, 9], weights=[0, 0])
    frame = pd.DataFrame({"g": ["a", "b"], "s": [9, 12]}, index=[10, 20])
    with pytest.raises(DataError, match=r"column 's'.*12 at index 20"):
        nps_by(frame, "s", "g")


@pytest.fixture(scope="module")
def survey() -> tuple[pd.DataFrame, object]:
    biz = generate(n_customers=3_000, seed=42, bad_share=0.0)
    long = biz.tables["survey_responses"]
    wide = long[long["question_id"].isin(["nps", "segment_self"])].pivot(
        index="respondent_id", columns="question_id", values="answer"
    )
    return wide.dropna(subset=["nps"]).reset_index(), biz.truth.research.nps


def test_planted_nps_lies_in_the_99_percent_intervals(survey: tuple[pd.DataFrame, object]) -> None:
    answers, truth = survey
    out = nps_by(answers, "nps", "segment_self", confidence=0.99).set_index("segment_self")
    assert set(out.index) == {*truth.nps, "All"}
    assert out.loc["All", "n"] == len(answers) > 1000
    for segment, planted in [*truth.nps.items(), ("All", truth.overall)]:
        row = out.loc[segment]
        assert row["lower"] <= planted <= row["upper"], (segment, planted, row.to_dict())
        assert abs(row["score"] - planted) <= 2.6 * row["std_error"]
