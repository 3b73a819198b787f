"""Choice-based conjoint: the choice frame, MNL against xlogit and statsmodels, hand-checkable
cases, the sample business's planted part-worths, the share simulator and refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from streamwise.data.sample import generate
from streamwise.errors import DataError, ModelError
from streamwise.upstream.research import conjoint
from streamwise.upstream.research.conjoint import (
    MixedLogit,
    MultinomialLogit,
    check_choice_frame,
    choice_frame,
)
from streamwise.upstream.research.questionnaire import load_questionnaire
from streamwise.upstream.research.responses import Survey


@pytest.fixture(scope="module")
def sample() -> tuple[Survey, pd.DataFrame, object]:
    biz = generate(n_customers=2000, bad_share=0)
    questionnaire = load_questionnaire(biz.questionnaire_yaml)
    survey = Survey.from_answers(questionnaire, biz.tables["survey_responses"])
    return survey, choice_frame(survey), biz.truth.research.conjoint


@pytest.fixture(scope="module")
def mnl(sample: tuple[Survey, pd.DataFrame, object]) -> MultinomialLogit:
    return MultinomialLogit().fit(sample[1])


# A small simulated CBC: two attributes of three levels, price, "none"; effects coded.
LEVELS = {"brand": ["A", "B", "C"], "size": ["S", "M", "L"]}
PRICES = np.array([10.0, 20.0, 30.0])
MEANS = {"brand[A]": 0.6, "brand[B]": 0.1, "size[S]": -0.5, "size[M]": 0.2, "price": -0.06,
         "none": -1.0}  # fmt: skip
SDS = {"brand[A]": 0.5, "brand[B]": 0.3, "size[S]": 0.4, "size[M]": 0.3, "price": 0.02,
       "none": 0.8}  # fmt: skip


def simulate(
    n: int, tasks: int, seed: int, *, sds: dict[str, float] | None = None, alternatives: int = 3
) -> pd.DataFrame:
    """Each respondent sees their own random tasks (alternatives + "none" at position 0) and
    chooses by (mixed) logit with the effects-coded MEANS (and SDS when given)."""
    rng = np.random.default_rng(seed)
    shape = (n, tasks, alternatives)
    picks = {a: rng.integers(0, len(lv), shape) for a, lv in LEVELS.items()}
    price = rng.choice(PRICES, shape)
    effects = np.vstack([np.eye(2), -np.ones((1, 2))])
    x = np.concatenate(
        [effects[picks["brand"]], effects[picks["size"]], price[..., None], np.zeros((*shape, 1))],
        axis=3,
    )
    none = np.zeros((n, tasks, 1, 6))
    none[..., 5] = 1.0
    x = np.concatenate([none, x], axis=2)  # (n, tasks, J + 1, 6)
    mean = np.array(list(MEANS.values()))
    sd = np.zeros(6) if sds is None else np.array(list(sds.values()))
    beta = mean + sd * rng.standard_normal((n, 6))
    utility = np.einsum("ntjk,nk->ntj", x, beta) + rng.gumbel(size=x.shape[:3])
    choice = utility.argmax(axis=2)
    j = alternatives + 1
    frame = pd.DataFrame(
        {
            "respondent_id": np.repeat([f"S{i:04d}" for i in range(n)], tasks * j),
            "task": np.tile(np.repeat(np.arange(1, tasks + 1), j), n),
            "alternative": np.tile(np.arange(j), n * tasks),
        }
    )
    for a, lv in LEVELS.items():
        codes = np.concatenate([np.full((n, tasks, 1), -1), picks[a]], axis=2).ravel()
        frame[a] = pd.Categorical.from_codes(codes, categories=lv)
    frame["price"] = np.concatenate([np.full((n, tasks, 1), np.nan), price], axis=2).ravel()
    frame["chosen"] = (np.arange(j) == choice[..., None]).astype(int).ravel()
    return frame


def without_none(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without its "none" rows and the tasks where "none" was chosen."""
    task = frame["respondent_id"] + "/" + frame["task"].astype(str)
    skipped = task.isin(task[frame["chosen"].eq(1) & frame["alternative"].eq(0)])
    return frame[~skipped & frame["alternative"].gt(0)].reset_index(drop=True)


def xlogit_fit(frame: pd.DataFrame, model: MultinomialLogit) -> object:
    """xlogit's MNL on our design matrix (same coding, same names)."""
    xlogit = pytest.importorskip("xlogit")
    tasks = conjoint._Tasks.of(frame)
    x = model._coder.code(tasks.frame, tasks)
    ids = np.repeat(np.arange(len(tasks.starts)), tasks.sizes)
    peer = xlogit.MultinomialLogit()
    peer.fit(
        X=x, y=tasks.frame["chosen"].to_numpy(), varnames=model._coder.names,
        alts=tasks.frame["alternative"].to_numpy(), ids=ids, verbose=0,
    )  # fmt: skip
    assert peer.convergence
    assert list(peer.coeff_names) == list(model.params_.index)
    return peer


# --------------------------------------------------------------------------------------------
# the choice frame
# --------------------------------------------------------------------------------------------


def test_choice_frame_of_the_sample_survey(sample: tuple[Survey, pd.DataFrame, object]) -> None:
    survey, frame, truth = sample
    n = len(survey.respondents)
    assert list(frame.columns) == [
        "respondent_id", "task", "alternative", "brand", "price", "weight", "waterproof",
        "warranty", "chosen",
    ]  # fmt: skip
    assert len(frame) == n * truth.tasks * (truth.alternatives + 1)
    assert (frame.groupby(["respondent_id", "task"])["chosen"].sum() == 1).all()
    assert list(frame["brand"].cat.categories) == list(truth.attributes["brand"])
    none = frame[frame["alternative"] == 0]
    assert none[["brand", "price", "weight", "waterproof", "warranty"]].isna().all().all()
    # respondent 1, task 3: the design's alternatives of their version, their answer chosen
    rid = survey.respondents[0]
    version = int(survey.values("cbc_version")[rid])
    shown = survey.questionnaire.designs["cbc"]["versions"][version - 1]["tasks"][2]
    rows = frame[(frame["respondent_id"] == rid) & (frame["task"] == 3)]
    assert rows["alternative"].tolist() == [0, 1, 2, 3]
    for pos, alt in enumerate(shown["alternatives"], start=1):
        row = rows[rows["alternative"] == pos].iloc[0]
        assert {a: row[a] for a in alt} == {
            a: (float(v) if a == "price" else str(v)) for a, v in alt.items()
        }
    answer = int(survey.values("cbc_t03")[rid])
    assert rows.loc[rows["chosen"] == 1, "alternative"].item() == answer


def test_choice_frame_refuses_tasks_without_a_version(
    sample: tuple[Survey, pd.DataFrame, object],
) -> None:
    survey = sample[0]
    answers = survey.answers
    rid = survey.respondents[4]
    drop = (answers["respondent_id"] == rid) & (answers["question_id"] == "cbc_version")
    broken = Survey(survey.questionnaire, answers[~drop])
    with pytest.raises(DataError, match=rf"respondent {rid} answered CBC tasks but has no"):
        choice_frame(broken)
    with pytest.raises(DataError, match="no CBC design 'other'"):
        choice_frame(survey, design="other")


# --------------------------------------------------------------------------------------------
# estimates against reference implementations and by hand
# --------------------------------------------------------------------------------------------


def test_mnl_equals_xlogit_on_the_sample_survey(
    sample: tuple[Survey, pd.DataFrame, object], mnl: MultinomialLogit
) -> None:
    peer = xlogit_fit(sample[1], mnl)
    np.testing.assert_allclose(mnl.params_.to_numpy(), peer.coeff_, rtol=0, atol=1e-5)
    np.testing.assert_allclose(mnl.standard_errors_.to_numpy(), peer.stderr, rtol=1e-4, atol=0)
    assert mnl.log_likelihood_ == pytest.approx(peer.loglikelihood, abs=1e-6)
    assert mnl.n_respondents_ == 2500
    assert mnl.n_tasks_ == 30_000


def test_mnl_equals_xlogit_when_every_task_is_different() -> None:
    # random tasks per respondent: no two choice sets alike, the uncompressed path
    frame = simulate(400, 8, seed=3)
    model = MultinomialLogit().fit(frame)
    peer = xlogit_fit(frame, model)
    np.testing.assert_allclose(model.params_.to_numpy(), peer.coeff_, rtol=0, atol=1e-5)
    np.testing.assert_allclose(model.standard_errors_.to_numpy(), peer.stderr, rtol=1e-4)


def test_mnl_equals_statsmodels_with_ragged_tasks_and_dummy_coding() -> None:
    sm = pytest.importorskip("statsmodels.discrete.conditional_models")
    frame = without_none(simulate(60, 5, seed=7))
    # drop a non-chosen alternative from every third task: 2 or 3 alternatives per task
    key = frame["respondent_id"].str[1:].astype(int) * 10 + frame["task"]
    drop = (key % 3 == 0) & (frame["alternative"] == 3) & (frame["chosen"] == 0)
    frame = frame[~drop].reset_index(drop=True)
    model = MultinomialLogit(coding="dummy", none=False).fit(frame)
    assert model.params_.index.tolist() == ["brand[A]", "brand[B]", "size[S]", "size[M]", "price"]
    tasks = conjoint._Tasks.of(frame)
    assert set(tasks.sizes) == {2, 3}
    x = model._coder.code(tasks.frame, tasks)
    groups = tasks.frame["respondent_id"] + "/" + tasks.frame["task"].astype(str)
    peer = sm.ConditionalLogit(tasks.frame["chosen"].to_numpy(), x, groups=groups.to_numpy())
    result = peer.fit(method="newton", tol=1e-12, maxiter=100, disp=False)
    np.testing.assert_allclose(model.params_.to_numpy(), result.params, rtol=0, atol=1e-10)
    np.testing.assert_allclose(model.standard_errors_.to_numpy(), result.bse, rtol=1e-6)
    assert model.log_likelihood_ == pytest.approx(result.llf, abs=1e-8)
    # dummy coding: the last level is the reference, part-worth 0 with no standard error
    pw = model.part_worths().set_index(["attribute", "level"])
    assert pw.loc[("brand", "C"), "part_worth"] == 0.0
    assert pw.loc[("brand", "C"), "std_error"] == 0.0


def test_a_binary_choice_by_hand() -> None:
    # 10 tasks: A (level "a", effects code +1) against B (level "b", code -1), A chosen 7 times.
    # P(A) = e^b / (e^b + e^-b) = 1 / (1 + e^-2b), so b = logit(0.7) / 2 = ln(7/3) / 2, and the
    # information is Σ 4 P (1 - P) = 10 · 4 · 0.21 = 8.4: SE = 1 / sqrt(8.4).
    frame = pd.DataFrame(
        {
            "respondent_id": np.repeat(np.arange(10), 2),
            "task": 1,
            "alternative": np.tile([1, 2], 10),
            "level": np.tile(["a", "b"], 10),
            "chosen": np.ravel([[1, 0]] * 7 + [[0, 1]] * 3),
        }
    )
    model = MultinomialLogit(price=None, none=False).fit(frame)
    assert model.params_["level[a]"] == pytest.approx(np.log(7 / 3) / 2, abs=1e-12)
    assert model.standard_errors_["level[a]"] == pytest.approx(1 / np.sqrt(8.4), abs=1e-12)
    assert model.null_log_likelihood_ == pytest.approx(-10 * np.log(2), abs=1e-12)
    assert model.log_likelihood_ == pytest.approx(7 * np.log(0.7) + 3 * np.log(0.3), abs=1e-12)
    pw = model.part_worths()
    assert pw["part_worth"].tolist() == pytest.approx([np.log(7 / 3) / 2, -np.log(7 / 3) / 2])
    assert pw["std_error"].tolist() == pytest.approx([1 / np.sqrt(8.4)] * 2)
    shares = model.simulate(pd.DataFrame({"level": ["a", "b"]}, index=["A", "B"]))
    assert shares.to_dict() == pytest.approx({"A": 0.7, "B": 0.3}, abs=1e-12)


def test_analytic_derivatives_match_finite_differences() -> None:
    frame = simulate(30, 4, seed=11)
    # ragged tasks: every task 2 loses one alternative it did not choose (3 or 2 stays)
    task2 = frame["task"].eq(2)
    gone = np.where(
        frame.groupby(["respondent_id", "task"])["chosen"].transform(lambda c: c.iloc[3] == 1), 2, 3
    )
    frame = frame[~(task2 & frame["alternative"].eq(gone))]
    tasks = conjoint._Tasks.of(frame)
    assert sorted(set(tasks.sizes)) == [3, 4]
    coder = conjoint._Coder.learn(tasks.frame, None, "price", True, "effects")
    dense = tasks.dense(coder.code(tasks.frame, tasks))
    # at zero every alternative is equally likely: LL = -Σ_t log J_t (90 tasks of 4, 30 of 3)
    ll0 = conjoint._mnl_loglik(np.zeros(6), dense)[0]
    assert ll0 == pytest.approx(-(90 * np.log(4) + 30 * np.log(3)), abs=1e-9)
    beta = np.array([0.3, -0.2, 0.4, 0.1, -0.03, -0.5])
    _, grad, hess = conjoint._mnl_loglik(beta, dense)
    h = 1e-6
    for k in range(6):
        e = np.zeros(6)
        e[k] = h
        up, g_up, _ = conjoint._mnl_loglik(beta + e, dense)
        down, g_down, _ = conjoint._mnl_loglik(beta - e, dense)
        assert grad[k] == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-6)
        np.testing.assert_allclose(hess[k], (g_up - g_down) / (2 * h), rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------------------------
# the planted model of the sample business
# --------------------------------------------------------------------------------------------


def importances_of(params: dict[str, float], truth: object) -> dict[str, float]:
    """Importances from effects-coded parameters (the definition of ConjointTruth)."""
    ranges = {}
    for a, levels in truth.attributes.items():
        if a == "price":
            ranges[a] = abs(params["price"]) * (max(levels) - min(levels))
            continue
        free = [params[f"{a}[{lvl}]"] for lvl in levels[:-1]]
        pw = [*free, -sum(free)]
        ranges[a] = max(pw) - min(pw)
    total = sum(ranges.values())
    return {a: r / total for a, r in ranges.items()}


def test_mnl_recovers_the_planted_model(
    sample: tuple[Survey, pd.DataFrame, object], mnl: MultinomialLogit
) -> None:
    truth = sample[2]
    assert mnl.params_.index.tolist() == list(truth.parameters)
    # Mixed-logit choices make a pooled MNL converge to attenuated coefficients, which the
    # truth computes on this design (mnl_pseudo_true): each estimate is within 3 SE of it.
    pseudo = pd.Series(truth.mnl_pseudo_true)
    z = (mnl.params_ - pseudo) / mnl.standard_errors_
    assert z.abs().max() < 3, z
    # ... and so proportional to the planted means: the six largest (|mean| >= 0.4, so the
    # ratio's standard error is at most 0.03) are attenuated alike, by 10-25 %
    ratio = mnl.params_ / pd.Series(truth.means)
    assert (
        ratio[ratio.index.str.contains("Northwind|2.5 kg|1500|1 year|price|none")]
        .between(0.75, 0.95)
        .all()
    )
    # within every attribute the part-worths rank the levels as the planted ones do
    pw = mnl.part_worths()
    for a, planted in truth.partworths.items():
        got = pw[pw["attribute"] == a].set_index("level")["part_worth"]
        assert got.sort_values().index.tolist() == sorted(planted, key=planted.get)
    # Willingness to pay is a ratio, so attenuation cancels: planted WTP within 3 SE plus the
    # gap between the pseudo-true and the planted ratio (heterogeneity attenuates attributes a
    # little unevenly: up to 3.8 USD on this design)
    wtp = mnl.willingness_to_pay().set_index(["attribute", "level"])
    for a, levels in truth.wtp.items():
        first = f"{a}[{truth.attributes[a][0]}]"
        for lvl, planted in levels.items():
            if lvl == truth.attributes[a][0]:
                continue
            name = f"{a}[{lvl}]"
            pw_pseudo = (
                pseudo[name]
                if name in pseudo
                else -sum(pseudo[f"{a}[{x}]"] for x in truth.attributes[a][:-1])
            )
            pseudo_wtp = (pw_pseudo - pseudo[first]) / -pseudo["price"]
            est, se = wtp.loc[(a, lvl), ["wtp", "std_error"]]
            assert abs(est - planted) < 3 * se + abs(pseudo_wtp - planted), (a, lvl, est, planted)
    # importances: within 3 SE of the pseudo-true ones; the planted order of the clearly
    # separated attributes; brand (0.167 planted) and warranty (0.150) are 0.005 apart in the
    # pseudo-true model and tie within noise here
    imp = mnl.importances()
    assert imp["importance"].sum() == pytest.approx(1.0)
    target = pd.Series(importances_of(truth.mnl_pseudo_true, truth)).reindex(imp.index)
    assert ((imp["importance"] - target).abs() < 3 * imp["std_error"]).all()
    order = imp["importance"].sort_values(ascending=False).index.tolist()
    planted = sorted(truth.importances, key=truth.importances.get, reverse=True)
    assert order[:3] == planted[:3] == ["price", "waterproof", "weight"]
    assert set(order[3:]) == {"brand", "warranty"}
    gap = imp.loc["brand", "importance"] - imp.loc["warranty", "importance"]
    assert abs(gap) < 2 * np.hypot(imp.loc["brand", "std_error"], imp.loc["warranty", "std_error"])


@pytest.mark.slow
def test_mixed_logit_recovers_the_planted_means(
    sample: tuple[Survey, pd.DataFrame, object],
) -> None:
    truth = sample[2]
    # 300 draws: with 100 the simulation bias of SML shows (a mean 3.5 SE off, price's sd at
    # 0.0013 for 0.002); with 300 every mean and sd is within 2.6 SE
    model = MixedLogit(n_draws=300).fit(sample[1])
    z = (model.params_ - pd.Series(truth.means)) / model.standard_errors_
    assert z.abs().max() < 3, z
    z_sd = (model.sds_ - pd.Series(truth.sds)) / model.sd_standard_errors_
    assert z_sd.abs().max() < 3, z_sd
    imp = model.importances()["importance"]
    assert imp.sort_values().index.tolist() == sorted(truth.importances, key=truth.importances.get)
    scenario = pd.DataFrame(list(truth.scenario)).set_index("brand", drop=False)
    shares = model.simulate(scenario)
    assert shares.to_dict() == pytest.approx(truth.scenario_shares, abs=0.015)


def test_mixed_logit_recovers_a_simulated_panel() -> None:
    frame = simulate(600, 10, seed=5, sds=SDS)
    model = MixedLogit(n_draws=100, random_state=1).fit(frame)
    z = (model.params_ - pd.Series(MEANS)) / model.standard_errors_
    assert z.abs().max() < 3, z
    z_sd = (model.sds_ - pd.Series(SDS)) / model.sd_standard_errors_
    assert z_sd.abs().max() < 3, z_sd
    # the pooled MNL on the same choices is attenuated: smaller in size than the means
    mnl = MultinomialLogit().fit(frame)
    assert (mnl.params_.abs() < model.params_.abs()).sum() >= 5
    assert model.log_likelihood_ > mnl.log_likelihood_
    assert "sd" in model.summary().columns
    assert repr(model).startswith("<streamwise MixedLogit: fitted on 600 respondents")
    # only "none" random: the other standard deviations are held at 0
    some = MixedLogit(random=["none"], n_draws=50).fit(frame)
    assert (some.sds_.drop("none") == 0).all()
    assert some.sds_["none"] > 0.3
    assert (some.sd_standard_errors_.drop("none") == 0).all()
    assert mnl.log_likelihood_ < some.log_likelihood_ < model.log_likelihood_
    with pytest.raises(ModelError, match="random names 'colour'"):
        MixedLogit(random=["colour"]).fit(frame)


# --------------------------------------------------------------------------------------------
# the market simulator
# --------------------------------------------------------------------------------------------


def test_simulator_shares(
    sample: tuple[Survey, pd.DataFrame, object], mnl: MultinomialLogit
) -> None:
    truth = sample[2]
    scenario = pd.DataFrame(list(truth.scenario)).set_index("brand", drop=False)
    shares = mnl.simulate(scenario)
    assert shares.index.tolist() == [*scenario.index, "none"]
    assert shares.sum() == pytest.approx(1.0, abs=1e-12)
    # close to the planted mixed-logit shares of the scenario, though the MNL is misspecified
    assert shares.to_dict() == pytest.approx(truth.scenario_shares, abs=0.02)
    assert mnl.simulate(scenario, include_none=False).sum() == pytest.approx(1.0)

    # a dominated product (the same, dearer) gets less
    dearer = scenario.iloc[[0]].assign(price=299.0).rename(index={"Northwind": "dearer"})
    more = mnl.simulate(pd.concat([scenario, dearer]))
    assert more["dearer"] < more["Northwind"]

    # a clone takes as much as the original, from everyone in proportion (IIA): the other
    # products keep their ratios and the original plus clone get more than it had alone
    clone = scenario.iloc[[0]].rename(index={"Northwind": "clone"})
    with_clone = mnl.simulate(pd.concat([scenario, clone]))
    assert with_clone["clone"] == pytest.approx(with_clone["Northwind"], rel=1e-12)
    assert with_clone["Northwind"] < shares["Northwind"]
    assert with_clone["Northwind"] + with_clone["clone"] > shares["Northwind"]
    others = ["Summit Co", "TrailMark", "Alpenglow", "none"]
    np.testing.assert_allclose(
        with_clone[others] / with_clone["Summit Co"], shares[others] / shares["Summit Co"]
    )
    u = with_clone.drop("none").index
    expected = np.exp(mnl.utilities(pd.concat([scenario, clone])).to_numpy())
    expected = expected / (expected.sum() + np.exp(mnl.params_["none"]))
    np.testing.assert_allclose(with_clone[u].to_numpy(), expected, rtol=1e-12)

    first = mnl.simulate(scenario, rule="first_choice")
    assert first.max() == 1.0
    assert first.idxmax() == mnl.utilities(scenario).idxmax()
    with pytest.raises(DataError, match="products have no column 'price'"):
        mnl.simulate(scenario.drop(columns="price"))
    with pytest.raises(DataError, match=r"product 'X' has brand = 'Nobody'"):
        mnl.simulate(scenario.iloc[[0]].assign(brand="Nobody").rename(index={"Northwind": "X"}))


def test_part_worths_and_wtp_standard_errors_by_the_delta_method(mnl: MultinomialLogit) -> None:
    pw = mnl.part_worths()
    for a, group in pw.groupby("attribute"):
        assert group["part_worth"].sum() == pytest.approx(0.0, abs=1e-12)  # effects coding
        free = [f"{a}[{lvl}]" for lvl in group["level"].iloc[:-1]]
        cov = pd.DataFrame(mnl.covariance_, mnl.params_.index, mnl.params_.index).loc[free, free]
        assert group["std_error"].iloc[-1] == pytest.approx(np.sqrt(cov.to_numpy().sum()))
    wtp = mnl.willingness_to_pay().set_index(["attribute", "level"])
    b, bp = mnl.params_, mnl.params_["price"]
    assert wtp.loc[("weight", "1.8 kg"), "wtp"] == pytest.approx(
        (b["weight[1.8 kg]"] - b["weight[2.5 kg]"]) / -bp
    )
    assert wtp.loc[("brand", "Northwind"), "wtp"] == 0.0
    # delta method by finite differences of the WTP function
    names = mnl.params_.index

    def level_wtp(beta: np.ndarray) -> float:
        s = pd.Series(beta, index=names)
        return (s["weight[1.8 kg]"] - s["weight[2.5 kg]"]) / -s["price"]

    grad = np.array(
        [
            (level_wtp(b.to_numpy() + e) - level_wtp(b.to_numpy() - e)) / (2 * 1e-7)
            for e in np.eye(len(b)) * 1e-7
        ]
    )
    assert wtp.loc[("weight", "1.8 kg"), "std_error"] == pytest.approx(
        np.sqrt(grad @ mnl.covariance_ @ grad), rel=1e-5
    )
    summary = mnl.summary()
    assert summary.loc["price", "estimate"] == mnl.params_["price"]
    assert (
        summary.loc["price", "lower_95"] < mnl.params_["price"] < summary.loc["price", "upper_95"]
    )
    assert repr(mnl).startswith("<streamwise MultinomialLogit: fitted on 2,500 respondents")


# --------------------------------------------------------------------------------------------
# refusals
# --------------------------------------------------------------------------------------------


def test_a_task_with_two_chosen_names_respondent_and_task() -> None:
    frame = simulate(5, 4, seed=1)
    bad = frame.copy()
    rows = bad.index[(bad["respondent_id"] == "S0002") & (bad["task"] == 3)]
    bad.loc[rows, "chosen"] = [0, 1, 1, 0]
    with pytest.raises(DataError, match=r"respondent S0002, task 3: 2 are chosen") as err:
        check_choice_frame(bad)
    assert err.value.column == "chosen"
    assert err.value.row == rows[0] + 1
    with pytest.raises(DataError, match=r"respondent S0002, task 3"):
        MultinomialLogit().fit(bad)
    bad.loc[rows, "chosen"] = 0
    with pytest.raises(DataError, match=r"respondent S0002, task 3: no alternative is chosen"):
        MultinomialLogit().fit(bad)


def test_malformed_frames_are_refused() -> None:
    frame = simulate(5, 4, seed=1)
    with pytest.raises(DataError, match="no column 'chosen'"):
        check_choice_frame(frame.drop(columns="chosen"))
    twice = pd.concat([frame, frame.iloc[[1]]])
    with pytest.raises(DataError, match=r"respondent S0000, task 1: alternative 1 appears twice"):
        check_choice_frame(twice)
    with pytest.raises(DataError, match="chosen is 2"):
        check_choice_frame(frame.assign(chosen=frame["chosen"] * 2))
    partial = frame.copy()
    partial.loc[1, "size"] = np.nan
    with pytest.raises(DataError, match=r"respondent S0000, task 1: alternative 1 has some"):
        MultinomialLogit().fit(partial)
    with pytest.raises(DataError, match="fit with none=True"):
        MultinomialLogit(none=False).fit(frame)
    with pytest.raises(DataError, match="no task has a 'none' option"):
        MultinomialLogit().fit(without_none(frame))
    with pytest.raises(DataError, match="no attribute column 'cost'"):
        MultinomialLogit(price="cost").fit(frame)
    unseen = frame.assign(size=frame["size"].cat.add_categories(["XL"]))
    with pytest.raises(ModelError, match="level 'XL' of 'size' is never shown"):
        MultinomialLogit().fit(unseen)


def test_model_refusals() -> None:
    with pytest.raises(ModelError, match="not fitted yet"):
        MultinomialLogit().part_worths()
    assert repr(MultinomialLogit()) == "<streamwise MultinomialLogit: not fitted>"
    frame = simulate(40, 4, seed=2)
    no_price = MultinomialLogit(price=None, attributes=["brand", "size"]).fit(
        frame.drop(columns="price")
    )
    with pytest.raises(ModelError, match="needs a price coefficient"):
        no_price.willingness_to_pay()
    # level "A" is always chosen when shown against "none" only: its part-worth has no maximum
    sep = pd.DataFrame(
        {
            "respondent_id": np.repeat(np.arange(6), 2),
            "task": 1,
            "alternative": np.tile([0, 1], 6),
            "brand": [None, "A", None, "A", None, "A", None, "B", None, "B", None, "B"],
            "chosen": [0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0],
        }
    )
    with pytest.raises(ModelError, match=r"no finite estimate of 'brand\[A\]'"):
        MultinomialLogit(price=None).fit(sep)
