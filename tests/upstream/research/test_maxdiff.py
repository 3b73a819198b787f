"""MaxDiff: hand-computed counts, the logit's derivatives, planted utilities recovered, refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from streamwise.data.sample import generate
from streamwise.errors import DataError, ModelError
from streamwise.upstream.research.maxdiff import (
    MaxDiffCounts,
    _arrays,
    _log_likelihood,
    maxdiff_counts,
    maxdiff_counts_by,
    maxdiff_logit,
    maxdiff_logit_by,
    maxdiff_tasks,
)
from streamwise.upstream.research.questionnaire import load_questionnaire
from streamwise.upstream.research.responses import Survey

# Four items, two versions of two tasks of three items:
#   version 1: task 1 [a, b, c], task 2 [b, c, d];  version 2: task 1 [a, c, d], task 2 [a, b, d]
# Three respondents (best / worst):
#   R1 (v1): t1 a / c,  t2 b / d
#   R2 (v2): t1 c / d,  t2 a / b
#   R3 (v1): t1 b / a,  t2 c / d
# Shown: a 4 (R1t1 R2t1 R2t2 R3t1), b 5, c 5, d 4 (18 = 6 tasks × 3).
# Best:  a 2 (R1t1 R2t2), b 2 (R1t2 R3t1), c 2 (R2t1 R3t2), d 0.
# Worst: a 1 (R3t1), b 1 (R2t2), c 1 (R1t1), d 3 (R1t2 R2t1 R3t2).
# Score B − W: 1, 1, 1, −3; standardised: 1/4, 1/5, 1/5, −3/4.
TINY_DESIGN = {
    "items": {"a": "Item A", "b": "Item B", "c": "Item C", "d": "Item D"},
    "versions": [
        {"version": 1, "tasks": [{"task": 1, "items": ["a", "b", "c"]},
                                 {"task": 2, "items": ["b", "c", "d"]}]},
        {"version": 2, "tasks": [{"task": 1, "items": ["a", "c", "d"]},
                                 {"task": 2, "items": ["a", "b", "d"]}]},
    ],
}  # fmt: skip
TINY_ANSWERS = {  # respondent: (version, t1 best, t1 worst, t2 best, t2 worst)
    "R1": ("1", "a", "c", "b", "d"),
    "R2": ("2", "c", "d", "a", "b"),
    "R3": ("1", "b", "a", "c", "d"),
}


def tiny_questionnaire():
    questions = [{"id": "md_version", "type": "maxdiff", "role": "version", "design": "md"}]
    for t in (1, 2):
        for side in ("best", "worst"):
            questions.append(
                {"id": f"md_t{t}_{side}", "type": "maxdiff", "role": side, "task": t,
                 "design": "md"}
            )  # fmt: skip
    return load_questionnaire({"survey_id": "tiny", "questions": questions,
                               "designs": {"md": TINY_DESIGN}})  # fmt: skip


def tiny_rows(answers=TINY_ANSWERS):
    ids = ["md_version", "md_t1_best", "md_t1_worst", "md_t2_best", "md_t2_worst"]
    return pd.DataFrame(
        [
            {"respondent_id": rid, "question_id": qid, "answer": a}
            for rid, values in answers.items()
            for qid, a in zip(ids, values, strict=True)
            if a is not None
        ]
    )


def tiny_survey(answers=TINY_ANSWERS) -> Survey:
    return Survey.from_answers(tiny_questionnaire(), tiny_rows(answers))


def test_long_frame_of_the_tiny_survey() -> None:
    long = maxdiff_tasks(tiny_survey())
    assert list(long.columns) == ["respondent_id", "version", "task", "position", "item",
                                  "best", "worst"]  # fmt: skip
    assert len(long) == 18
    assert list(long["item"].cat.categories) == ["a", "b", "c", "d"]
    r2t1 = long[(long["respondent_id"] == "R2") & (long["task"] == 1)]
    assert r2t1["item"].tolist() == ["a", "c", "d"]
    assert r2t1["best"].tolist() == [False, True, False]
    assert r2t1["worst"].tolist() == [False, False, True]


def test_hand_computed_counts() -> None:
    c = maxdiff_counts(tiny_survey())
    assert isinstance(c, MaxDiffCounts)
    assert c.items == ("a", "b", "c", "d")
    assert c.shown == (4, 5, 5, 4)
    assert c.best == (2, 2, 2, 0)
    assert c.worst == (1, 1, 1, 3)
    assert c.score == (1, 1, 1, -3)
    assert c.standardised == pytest.approx((0.25, 0.2, 0.2, -0.75), abs=1e-12)
    assert (c.respondents, c.tasks) == (3, 6)
    frame = c.to_frame()
    assert frame["rank"].tolist() == [1, 2, 2, 4]
    assert frame.loc["d", "standardised"] == pytest.approx(-0.75, abs=1e-12)


def test_counts_of_groups_add_up_to_all() -> None:
    survey = tiny_survey()
    long = maxdiff_tasks(survey)
    group = pd.Series({"R1": "x", "R2": "y", "R3": "y"})
    parts = [
        maxdiff_counts(long[long["respondent_id"].isin(ids)]) for ids in (["R1"], ["R2", "R3"])
    ]
    assert parts[0] + parts[1] == maxdiff_counts(long)
    table = maxdiff_counts_by(long, group, name="segment")
    assert table["segment"].unique().tolist() == ["x", "y", "All"]
    assert table[table["segment"] == "x"]["best"].tolist() == [1, 1, 0, 0]  # R1: a, b best
    everyone = table[table["segment"] == "All"].set_index("item")
    assert everyone["shown"].tolist() == [4, 5, 5, 4]


def test_null_log_likelihood_and_one_task_by_hand() -> None:
    fit = maxdiff_logit(tiny_survey())
    # Each task: best among 3 (1/3), worst among the other 2 (1/2) → 6 · log(1/6).
    assert fit.null_log_likelihood == pytest.approx(6 * np.log(1 / 6), abs=1e-12)
    assert fit.log_likelihood > fit.null_log_likelihood
    # One task [a, b, c], best a, worst c, at u = (1, 0, −1):
    # P(best a) = e / (e + 1 + e⁻¹); P(worst c | b, c left) = e¹ / (e⁰ + e¹).
    one = pd.DataFrame({"respondent_id": "R", "task": 1, "item": ["a", "b", "c"],
                        "best": [True, False, False], "worst": [False, False, True]})  # fmt: skip
    ll, _, _ = _log_likelihood(np.array([1.0, 0.0, -1.0]), _arrays(one))
    e = np.e
    assert ll == pytest.approx(np.log(e / (e + 1 + 1 / e)) + np.log(e / (1 + e)), abs=1e-12)


def simulate(u, n_respondents, rng, n_tasks=9, per_task=4):
    """Sequential best–worst choices of identical respondents (Gumbel errors), as a long frame."""
    n_items = len(u)
    shown = np.argsort(rng.random((n_respondents * n_tasks, n_items)), axis=1)[:, :per_task]
    util = u[shown]
    best = (util + rng.gumbel(size=util.shape)).argmax(axis=1)
    worst_score = -util + rng.gumbel(size=util.shape)
    worst_score[np.arange(len(shown)), best] = -np.inf
    worst = worst_score.argmax(axis=1)
    slot = np.arange(per_task)
    return pd.DataFrame(
        {
            "respondent_id": np.repeat(np.arange(n_respondents), n_tasks * per_task),
            "task": np.tile(np.repeat(np.arange(n_tasks), per_task), n_respondents),
            "item": pd.Categorical.from_codes(shown.ravel(), [f"i{j}" for j in range(n_items)]),
            "best": (slot == best[:, None]).ravel(),
            "worst": (slot == worst[:, None]).ravel(),
        }
    )


PLANTED = np.array([1.4, 1.1, 0.8, 0.5, 0.25, 0.0, -0.25, -0.5, -0.75, -0.95, -1.15, -1.35])


def test_gradient_and_information_match_finite_differences() -> None:
    rng = np.random.default_rng(1)
    t = _arrays(simulate(PLANTED, 50, rng, n_tasks=6, per_task=5))
    u = rng.normal(0, 0.7, size=len(PLANTED))
    _, grad, info = _log_likelihood(u, t)
    h = 1e-6
    for j in range(len(u)):
        e = np.zeros(len(u))
        e[j] = h
        up, grad_up, _ = _log_likelihood(u + e, t)
        down, grad_down, _ = _log_likelihood(u - e, t)
        assert grad[j] == pytest.approx((up - down) / (2 * h), abs=1e-5)
        # The information is minus the Hessian, the derivative of the gradient.
        np.testing.assert_allclose(info[:, j], -(grad_up - grad_down) / (2 * h), atol=1e-5)
    # Utilities are identified up to a constant: the gradient sums to 0 and 1 spans the
    # information's null space.
    assert grad.sum() == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose(info @ np.ones(len(u)), 0.0, atol=1e-9)


def test_homogeneous_respondents_are_recovered_within_their_standard_errors() -> None:
    rng = np.random.default_rng(7)
    centred = PLANTED - PLANTED.mean()
    fit = maxdiff_logit(simulate(PLANTED, 800, rng))
    z = (np.array(fit.utility) - centred) / np.array(fit.std_error)
    # 12 items: the Bonferroni 5 % two-sided bound is z = 3.2. Measured (seed 7): largest 2.2.
    assert np.max(np.abs(z)) < 3.5
    shares = np.exp(centred) / np.exp(centred).sum()
    np.testing.assert_allclose(fit.share, shares, atol=3.5 * np.max(fit.share_std_error))
    assert np.sum(fit.share) == pytest.approx(1.0, abs=1e-12)
    assert fit.utility_vs_reference[-1] == 0.0
    assert fit.std_error_vs_reference[-1] == 0.0
    # Centred utilities and shares do not depend on the reference item.
    other = maxdiff_logit(simulate(PLANTED, 800, np.random.default_rng(7)), reference="i0")
    np.testing.assert_allclose(other.utility, fit.utility, atol=1e-8)
    np.testing.assert_allclose(other.std_error, fit.std_error, rtol=1e-6)


def test_standard_errors_match_the_spread_of_repeated_estimates() -> None:
    rng = np.random.default_rng(11)
    fits = [maxdiff_logit(simulate(PLANTED, 200, rng)) for _ in range(60)]
    spread = np.std([f.utility for f in fits], axis=0, ddof=1)
    reported = np.mean([f.std_error for f in fits], axis=0)
    # With 60 replications the sample standard deviation is within ±20 % of the truth with
    # probability ≈ 0.99 per item (its relative SE is 1/√118 ≈ 9 %); check the average ratio
    # tightly and every item loosely. Measured (seed 11): mean ratio 0.99, items 0.79–1.18.
    ratio = spread / reported
    assert np.mean(ratio) == pytest.approx(1.0, abs=0.08)
    assert np.all((ratio > 0.7) & (ratio < 1.3))


@pytest.fixture(scope="module")
def sample():
    biz = generate(n_customers=2_000, seed=42, bad_share=0)
    q = load_questionnaire(biz.questionnaire_yaml)
    survey = Survey.from_answers(q, biz.tables["survey_responses"])
    return survey, maxdiff_tasks(survey), biz.truth.research.maxdiff


def test_sample_long_frame(sample) -> None:
    _, long, truth = sample
    assert long["respondent_id"].nunique() == 2_500
    assert len(long) == 2_500 * truth.tasks * truth.items_per_task
    assert list(long["item"].cat.categories) == list(truth.items)
    per_task = long.groupby(["respondent_id", "task"])[["best", "worst"]].sum()
    assert (per_task == 1).all().all()


def test_planted_overall_utilities_are_recovered(sample) -> None:
    _, long, truth = sample
    fit = maxdiff_logit(long)
    planted = np.array([truth.utilities["overall"][k] for k in fit.items])
    est, se = np.array(fit.utility), np.array(fit.std_error)
    assert stats.spearmanr(est, planted).statistic >= 0.95
    assert [fit.items[i] for i in np.argsort(est)[::-1][:5]] == list(truth.rank[:5])
    # A pooled logit over heterogeneous respondents (segments plus individual N(0, 0.4²)
    # deviations) estimates flatter utilities (a mixture of logits is no logit; the spread of
    # tastes acts as extra noise, about a common scale λ < 1). Fit λ by least squares; at seed
    # 42 λ = 0.926. The scaled planted utilities then lie within 4 standard errors (SE ≈ 0.02)
    # of the estimates; measured: largest |z| = 2.1 (lightweight 0.810 vs 0.851).
    scale = est @ planted / (planted @ planted)
    assert 0.85 < scale <= 1.0
    assert np.max(np.abs(est - scale * planted) / se) < 4
    counts = maxdiff_counts(long)
    assert stats.spearmanr(counts.standardised, planted).statistic >= 0.95


def test_planted_segment_utilities_are_recovered(sample) -> None:
    survey, long, truth = sample
    table = maxdiff_logit_by(long, survey.values("segment_self"), name="segment")
    assert table["segment"].iloc[-1] == "All"
    for segment, rows in table[table["segment"] != "All"].groupby("segment"):
        rows = rows.set_index("item")
        planted = pd.Series(truth.utilities[segment])[rows.index].to_numpy()
        est, se = rows["utility"].to_numpy(), rows["std_error"].to_numpy()
        assert stats.spearmanr(est, planted).statistic >= 0.95, segment
        # Within a segment only the individual deviations remain, so the shrinkage is small:
        # measured λ 0.93–1.00 and largest |z| 2.6 (Alpine Pros, 239 respondents).
        scale = est @ planted / (planted @ planted)
        assert 0.85 < scale < 1.1, segment
        assert np.max(np.abs(est - scale * planted) / se) < 4, segment
    bargain = table[table["segment"] == "Bargain Hunters"].set_index("item")
    assert bargain["utility"].idxmax() == "low_price"


def test_best_equal_to_worst_is_refused_naming_respondent_and_task() -> None:
    answers = dict(TINY_ANSWERS, R2=("2", "c", "d", "a", "a"))
    with pytest.raises(DataError, match=r"respondent R2 chose 'a' as both best and worst in "
                       r"MaxDiff task 2 \('md_t2_best', 'md_t2_worst'\)"):  # fmt: skip
        maxdiff_tasks(tiny_survey(answers))


def test_answer_not_shown_is_refused_naming_respondent_and_task() -> None:
    # Version 1 task 1 shows a, b, c: d was not among them.
    answers = dict(TINY_ANSWERS, R3=("1", "b", "d", "c", "d"))
    with pytest.raises(DataError, match=r"respondent R3 chose 'd' as worst in MaxDiff task 1 "
                       r"\('md_t1_worst'\), but version 1 showed only a, b, c"):  # fmt: skip
        maxdiff_tasks(tiny_survey(answers))
    answers = dict(TINY_ANSWERS, R1=("1", "zzz", "c", "b", "d"))
    with pytest.raises(DataError, match=r"respondent R1 chose 'zzz' as best in MaxDiff task 1"):
        maxdiff_counts(tiny_survey(answers))


def test_incomplete_tasks_are_refused_or_dropped() -> None:
    answers = dict(TINY_ANSWERS, R3=("1", "b", "a", "c", None))
    survey = tiny_survey(answers)
    with pytest.raises(DataError, match=r"respondent R3 answered only one side of MaxDiff task 2"):
        maxdiff_tasks(survey)
    long = maxdiff_tasks(survey, incomplete="drop")
    assert len(long) == 15
    assert long[long["respondent_id"] == "R3"]["task"].unique().tolist() == [1]


def test_malformed_long_frames_are_refused() -> None:
    long = maxdiff_tasks(tiny_survey())
    two_best = long.copy()
    two_best.loc[1, "best"] = True  # R1 task 1: a and b both best
    with pytest.raises(DataError, match=r"respondent R1 has 2 best and 1 worst .* task 1"):
        maxdiff_counts(two_best)
    with pytest.raises(DataError, match="no column 'worst'"):
        maxdiff_logit(long.drop(columns="worst"))


def test_an_item_always_chosen_best_has_no_finite_utility() -> None:
    rows = []
    for r in range(20):
        for t, shown in enumerate((["a", "b", "c"], ["a", "c", "d"], ["b", "c", "d"])):
            best = shown[0] if "a" in shown else shown[r % 3]
            worst = shown[-1] if best != shown[-1] else shown[1]
            rows += [{"respondent_id": r, "task": t, "item": i, "best": i == best,
                      "worst": i == worst} for i in shown]  # fmt: skip
    with pytest.raises(ModelError, match="did not converge"):
        maxdiff_logit(pd.DataFrame(rows))
