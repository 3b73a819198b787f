"""Questionnaires, answer checks and respondent screening."""

from __future__ import annotations

import pandas as pd
import pytest

from streamwise.data.sample import generate
from streamwise.errors import DataError
from streamwise.upstream.research.quality import screen
from streamwise.upstream.research.questionnaire import load_questionnaire
from streamwise.upstream.research.responses import Survey

QUESTIONNAIRE = {
    "survey_id": "s1",
    "questions": [
        {"id": "nps", "type": "nps"},
        {"id": "tc", "type": "price_vw", "point": "too_cheap"},
        {"id": "c", "type": "price_vw", "point": "cheap"},
        {"id": "e", "type": "price_vw", "point": "expensive"},
        {"id": "te", "type": "price_vw", "point": "too_expensive"},
        {"id": "gg_99", "type": "price_gg", "price": 99, "options": ["yes", "no"]},
        {"id": "known", "type": "multi", "options": ["A", "B", "C"]},
        *({"id": f"r{i}", "type": "rating", "scale": [1, 5], "grid": "fit"} for i in range(5)),
        {"id": "why", "type": "text", "optional": True},
    ],
}


def answers(rows: dict[str, dict[str, str]], seconds: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"survey_id": "s1", "respondent_id": rid, "question_id": qid, "answer": answer,
             "duration_seconds": seconds[rid], "customer_id": f"C-{rid}"}
            for rid, given in rows.items()
            for qid, answer in given.items()
        ]
    )  # fmt: skip


def person(nps: str, prices: tuple[int, int, int, int], ratings: str) -> dict[str, str]:
    out = {"nps": nps, "gg_99": "yes", "known": "A;C", "why": "fine"}
    out.update(zip(("tc", "c", "e", "te"), map(str, prices), strict=True))
    out.update({f"r{i}": r for i, r in enumerate(ratings)})
    return out


@pytest.fixture
def survey() -> Survey:
    rows = {
        "R1": person("9", (50, 80, 120, 160), "12345"),
        "R2": person("3", (60, 90, 140, 150), "44444"),  # straight-liner
        "R3": person("7", (70, 60, 130, 170), "21354"),  # cheap below too cheap
        "R4": person("10", (40, 70, 110, 150), "53421"),  # speeder
        "R5": person("8", (55, 85, 125, 165), "32145"),
    }
    rows["R6"] = dict(rows["R5"])  # a copy of R5's answers
    seconds = {"R1": 600, "R2": 540, "R3": 620, "R4": 100, "R5": 580, "R6": 590}
    return Survey.from_answers(load_questionnaire(QUESTIONNAIRE), answers(rows, seconds))


def test_every_check_flags_its_respondent_with_a_reason(survey: Survey) -> None:
    result = screen(survey, duplicate_min=5)
    flagged = {(r.respondent_id, r.check) for r in result.flags.itertuples()}
    assert flagged == {
        ("R2", "straight-liner"),
        ("R3", "inconsistent"),
        ("R4", "speeder"),
        ("R6", "duplicate"),
    }
    reasons = result.flags.set_index("respondent_id")["reason"]
    assert reasons["R4"] == "took 100 s; the median is 585 s"
    assert reasons["R6"] == "same answers as R5"
    assert reasons["R3"] == "Van Westendorp prices out of order: too_cheap 70 above cheap 60"
    assert list(result.kept) == ["R1", "R5"]
    assert result.summary() == (
        "2 of 6 respondents analysed; 4 left out "
        "(duplicate 1, inconsistent 1, speeder 1, straight-liner 1)"
    )


def test_answers_are_typed(survey: Survey) -> None:
    wide = survey.wide(["nps", "c", "gg_99", "known"])
    assert wide.loc["R4", "nps"] == 10
    assert wide.loc["R1", "c"] == 80.0
    assert wide.loc["R1", "gg_99"] == "yes"
    assert wide.loc["R1", "known"] == ["A", "C"]


@pytest.mark.parametrize(
    ("question", "answer", "expected"),
    [
        ("nps", "11", "a whole number 0 to 10"),
        ("nps", "7.5", "a whole number 0 to 10"),
        ("c", "cheap", "a positive price"),
        ("gg_99", "maybe", "one of ['yes', 'no']"),
        ("known", "A;D", "options from ['A', 'B', 'C']"),
        ("r0", "6", "a whole number 1 to 5"),
    ],
)
def test_a_wrong_answer_names_respondent_question_and_what_fits(
    question: str, answer: str, expected: str
) -> None:
    given = person("9", (50, 80, 120, 160), "12345")
    given[question] = answer
    frame = answers({"R9": given}, {"R9": 300})
    with pytest.raises(DataError) as err:
        Survey.from_answers(load_questionnaire(QUESTIONNAIRE), frame)
    message = str(err.value)
    assert f"respondent R9 answered {answer!r} to question {question!r}" in message
    assert expected in message


def test_answers_to_unknown_questions_or_twice_are_refused() -> None:
    q = load_questionnaire(QUESTIONNAIRE)
    frame = pd.DataFrame({"respondent_id": ["R1"], "question_id": ["shoe_size"], "answer": ["9"]})
    with pytest.raises(DataError, match="shoe_size"):
        Survey.from_answers(q, frame)
    twice = pd.DataFrame({"respondent_id": ["R1", "R1"], "question_id": ["nps"] * 2,
                          "answer": ["9", "3"]})  # fmt: skip
    with pytest.raises(DataError, match="respondent R1 answered question 'nps' twice"):
        Survey.from_answers(q, twice)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "rating"}, "question 'x': a rating question needs scale"),
        (
            {"type": "price_vw", "point": "cheapish"},
            "question 'x': a price_vw question needs point",
        ),
        ({"type": "price_gg", "price": -3}, "question 'x': a price_gg question needs price"),
        ({"type": "single"}, "question 'x': a single question needs options"),
        ({"type": "kano", "side": "up"}, "question 'x': a kano question needs side"),
        ({"type": "poll"}, "question 'x' field type: Input should be 'nps'"),
        ({"type": "rating", "scale": [1, 5], "at": "nowhere"}, "refers to 'nowhere'"),
    ],
)
def test_a_malformed_question_is_named_with_what_to_write(change: dict, message: str) -> None:
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace("'", "'")):
        load_questionnaire({"questions": [{"id": "x", **change}]})


def test_bad_yaml_and_duplicate_ids_are_refused(tmp_path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text("questions: [\n")
    with pytest.raises(DataError, match="not valid YAML"):
        load_questionnaire(path)
    twice = {"questions": [{"id": "a", "type": "text"}, {"id": "a", "type": "text"}]}
    with pytest.raises(DataError, match="question id 'a' is used twice"):
        load_questionnaire(twice)
    with pytest.raises(DataError, match="exactly one price_vw question per point"):
        load_questionnaire({"questions": [{"id": "a", "type": "price_vw", "point": "cheap"}]})


def test_the_sample_survey_loads_checks_and_screens() -> None:
    biz = generate(n_customers=2000, bad_share=0)
    q = load_questionnaire(biz.questionnaire_yaml)
    survey = Survey.from_answers(q, biz.tables["survey_responses"])
    assert len(survey.respondents) == biz.truth.research.n_respondents
    result = screen(survey)
    assert result.n_respondents == len(survey.respondents)
    # The sample plants no speeders, copies or straight-liners; its Van Westendorp answers are
    # ordered by construction.
    assert result.flags.empty
