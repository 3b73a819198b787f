"""Kano: the evaluation table, a hand-computed fixture, planted categories recovered, refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from streamwise.data.sample import generate
from streamwise.data.sample.survey import KANO_ANSWERS as SAMPLE_ANSWERS
from streamwise.data.sample.survey import KANO_TABLE as SAMPLE_TABLE
from streamwise.errors import DataError
from streamwise.upstream.research.kano import (
    KANO_ANSWERS,
    KANO_CATEGORIES,
    KANO_TABLE,
    KanoFeature,
    KanoResult,
    kano,
    kano_by,
    kano_pairs,
)
from streamwise.upstream.research.questionnaire import load_questionnaire
from streamwise.upstream.research.responses import Survey

OPTIONS = {a: a.replace("_", " ") for a in KANO_ANSWERS}
# (functional, dysfunctional) per respondent and feature → category (evaluation table):
#        f1                        f2
# R1  like / dislike      O     neutral / neutral    I
# R2  like / neutral      A     like / live_with     A
# R3  must_be / dislike   M     must_be / dislike    M
# R4  like / dislike      O     like / must_be       A
# R5  like / like         Q     live_with / dislike  M
# R6  like / (none)       -     dislike / neutral    R
# f1: A 1, O 2, M 1, I 0, R 0, Q 1 (n 5, unpaired 1); mode O.
#     Better = (1 + 2) / (1 + 2 + 1 + 0) = 0.75; Worse = −(2 + 1) / 4 = −0.75.
# f2: A 2, O 0, M 2, I 1, R 1, Q 0 (n 6); A and M tie → M (M > O > A > I).
#     Better = (2 + 0) / (2 + 0 + 2 + 1) = 0.4; Worse = −(0 + 2) / 5 = −0.4.
HAND = {
    "R1": (("like", "dislike"), ("neutral", "neutral")),
    "R2": (("like", "neutral"), ("like", "live_with")),
    "R3": (("must_be", "dislike"), ("must_be", "dislike")),
    "R4": (("like", "dislike"), ("like", "must_be")),
    "R5": (("like", "like"), ("live_with", "dislike")),
    "R6": (("like", None), ("dislike", "neutral")),
}


def hand_questionnaire(options=OPTIONS):
    questions = [
        {"id": f"kano_{f}_{side}", "type": "kano", "feature": f, "side": side}
        | ({"options": options} if options else {})
        for f in ("f1", "f2")
        for side in ("functional", "dysfunctional")
    ]
    return load_questionnaire({"survey_id": "kano-hand", "questions": questions})


def hand_rows(answers=HAND, recode=None):
    rows = []
    for rid, pairs in answers.items():
        for f, pair in zip(("f1", "f2"), pairs, strict=True):
            for side, a in zip(("functional", "dysfunctional"), pair, strict=True):
                if a is not None:
                    a = recode[a] if recode else a
                    rows.append({"respondent_id": rid, "question_id": f"kano_{f}_{side}",
                                 "answer": a})  # fmt: skip
    return pd.DataFrame(rows)


def test_table_is_the_standard_one_and_matches_the_sample() -> None:
    assert KANO_ANSWERS == SAMPLE_ANSWERS
    assert {f: dict(row) for f, row in KANO_TABLE.items()} == SAMPLE_TABLE
    # Spot checks against Berger et al. (1993).
    assert KANO_TABLE["like"]["dislike"] == "O"
    assert KANO_TABLE["neutral"]["dislike"] == "M"
    assert KANO_TABLE["like"]["neutral"] == "A"
    assert KANO_TABLE["dislike"]["like"] == "R"
    assert KANO_TABLE["like"]["like"] == KANO_TABLE["dislike"]["dislike"] == "Q"
    assert set(KANO_CATEGORIES) == {"A", "O", "M", "I", "R", "Q"}


def test_hand_computed_fixture() -> None:
    result = kano(Survey.from_answers(hand_questionnaire(), hand_rows()))
    assert isinstance(result, KanoResult)
    assert [f.feature for f in result.features] == ["f1", "f2"]
    f1, f2 = result.features
    assert f1 == KanoFeature("f1", attractive=1, one_dimensional=2, must_be=1, questionable=1,
                             unpaired=1)  # fmt: skip
    assert f2 == KanoFeature("f2", attractive=2, must_be=2, indifferent=1, reverse=1)
    assert (f1.n, f2.n) == (5, 6)
    assert f1.category == "one-dimensional"
    assert f2.category == "must-be"  # A and M tie at 2: the M > O > A > I rule picks M
    assert f1.better == pytest.approx(0.75, abs=1e-12)
    assert f1.worse == pytest.approx(-0.75, abs=1e-12)
    assert f2.better == pytest.approx(0.4, abs=1e-12)
    assert f2.worse == pytest.approx(-0.4, abs=1e-12)
    assert f1.shares["questionable"] == pytest.approx(0.2, abs=1e-12)
    assert f2.shares == pytest.approx({"attractive": 2 / 6, "one-dimensional": 0, "must-be": 2 / 6,
                                       "indifferent": 1 / 6, "reverse": 1 / 6,
                                       "questionable": 0})  # fmt: skip
    # Fong (1996): f1 |2 − 1| < 1.65·√(3·7/10) ≈ 2.39 and f2 |2 − 2| = 0: neither stands out.
    assert not f1.significant
    assert not f2.significant
    frame = result.to_frame()
    assert frame.loc["f1", "questionable"] == 1
    assert frame.loc["f1", "unpaired"] == 1
    assert frame.loc["f2", "share_must_be"] == pytest.approx(2 / 6, abs=1e-12)
    assert frame.loc["f2", "category"] == "must-be"
    assert result.to_dict()["f1"]["better"] == pytest.approx(0.75, abs=1e-12)


def test_pairs_and_frame_input_agree() -> None:
    survey = Survey.from_answers(hand_questionnaire(), hand_rows())
    pairs = kano_pairs(survey)
    assert list(pairs.columns) == ["respondent_id", "feature", "functional", "dysfunctional",
                                   "category"]  # fmt: skip
    r5 = pairs[pairs["respondent_id"] == "R5"].set_index("feature")["category"]
    assert r5.to_dict() == {"f1": "Q", "f2": "M"}
    assert pd.isna(pairs[(pairs["respondent_id"] == "R6") & (pairs["feature"] == "f1")]
                   ["category"].iloc[0])  # fmt: skip
    assert kano(pairs.drop(columns="category")) == kano(survey)


def test_other_answer_codes_are_mapped() -> None:
    numbers = {a: str(i) for i, a in enumerate(KANO_ANSWERS, start=1)}
    survey = Survey.from_answers(hand_questionnaire(options=None), hand_rows(recode=numbers))
    codes = {v: k for k, v in numbers.items()}
    expected = kano(Survey.from_answers(hand_questionnaire(), hand_rows()))
    assert kano(survey, codes=codes) == expected


def test_groups_add_up_to_all() -> None:
    survey = Survey.from_answers(hand_questionnaire(), hand_rows())
    group = pd.Series({"R1": "x", "R2": "x", "R3": "y", "R4": "y", "R5": "y", "R6": "y"})
    table = kano_by(survey, group, name="segment")
    assert table["segment"].unique().tolist() == ["x", "y", "All"]
    counts = ["attractive", "one_dimensional", "must_be", "indifferent", "reverse",
              "questionable", "unpaired"]  # fmt: skip
    parts = table[table["segment"] != "All"].groupby("feature")[counts].sum()
    everyone = table[table["segment"] == "All"].set_index("feature")[counts]
    pd.testing.assert_frame_equal(parts, everyone.loc[parts.index], check_names=False)
    answers = survey.answers
    x, y = (
        kano(Survey.from_answers(survey.questionnaire, answers[answers["respondent_id"].isin(ids)]))
        for ids in (["R1", "R2"], ["R3", "R4", "R5", "R6"])
    )
    assert x.feature("f2") + y.feature("f2") == kano(survey).feature("f2")


def test_unknown_answer_is_refused_naming_respondent_and_question() -> None:
    rows = hand_rows()
    rows.loc[(rows["respondent_id"] == "R4") & (rows["question_id"] == "kano_f2_dysfunctional"),
             "answer"] = "love it"  # fmt: skip
    survey = Survey.from_answers(hand_questionnaire(options=None), rows)
    with pytest.raises(DataError, match=r"respondent R4 answered 'love it' to question "
                       r"'kano_f2_dysfunctional'"):  # fmt: skip
        kano(survey)
    frame = pd.DataFrame({"respondent_id": ["A"], "feature": ["tent"], "functional": ["yes"],
                          "dysfunctional": ["dislike"]})  # fmt: skip
    with pytest.raises(DataError, match=r"respondent A answered 'yes' to the functional "
                       r"question of feature 'tent'"):  # fmt: skip
        kano(frame)


@pytest.fixture(scope="module")
def sample():
    biz = generate(n_customers=2_000, seed=42, bad_share=0)
    survey = Survey.from_answers(
        load_questionnaire(biz.questionnaire_yaml), biz.tables["survey_responses"]
    )
    return kano(survey), biz.truth.research.kano


def test_planted_categories_are_recovered(sample) -> None:
    result, truth = sample
    assert [f.feature for f in result.features] == list(truth.features)
    for f in result.features:
        assert f.n == 2_500
        assert f.unpaired == 0
        assert f.category == truth.category[f.feature], f.feature
        assert f.significant, f.feature  # 60 % against 18 % stands out clearly


def test_planted_category_probabilities_are_recovered(sample) -> None:
    result, truth = sample
    # Each share is a multinomial proportion: SE = √(p(1 − p)/n) at the planted p. 48 shares
    # (8 features × 6 categories) within 3 SE; measured at seed 42: largest |z| = 2.3.
    for f in result.features:
        for name, p in truth.probabilities[f.feature].items():
            se = np.sqrt(p * (1 - p) / f.n)
            assert abs(f.shares[name] - p) < 3 * se, (f.feature, name, f.shares[name], p)
        # Planted Better and Worse follow from the planted probabilities; their SE is binomial
        # among the n·(A + O + M + I) pairs that enter the denominator.
        p = {k: truth.probabilities[f.feature][KANO_CATEGORIES[k]] for k in "AOMI"}
        base = sum(p.values())
        better, worse = (p["A"] + p["O"]) / base, (p["O"] + p["M"]) / base
        m = f.n * base
        assert abs(f.better - better) < 3 * np.sqrt(better * (1 - better) / m), f.feature
        assert abs(-f.worse - worse) < 3 * np.sqrt(worse * (1 - worse) / m), f.feature
