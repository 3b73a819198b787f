"""The research part of the sample business plants ground truth that simple analyses recover."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import spatial, stats
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score

from streamwise.data.contracts import get_contract
from streamwise.data.sample.config import SampleConfig
from streamwise.data.sample.names import BRAND, CATEGORIES, COMPETITOR_BRANDS, SEGMENTS
from streamwise.data.sample.research import ResearchTruth, generate_research
from streamwise.data.sample.sink import MemorySink
from streamwise.errors import DataError

QUESTION_TYPES = {
    "nps",
    "price_vw",
    "price_gg",
    "cbc",
    "maxdiff",
    "kano",
    "rating",
    "text",
    "single",
    "multi",
}


def _respondents(n: int = 2_000, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:06d}" for i in range(n)],
            "segment": rng.choice(SEGMENTS, size=n, p=[0.25, 0.3, 0.2, 0.15, 0.1]),
        }
    )


def _generate(
    cfg: SampleConfig, respondents: pd.DataFrame
) -> tuple[ResearchTruth, dict[str, pd.DataFrame]]:
    sink = MemorySink()
    truth = generate_research(cfg, respondents, sink)
    return truth, sink.frames()


@pytest.fixture(scope="module")
def generated() -> tuple[ResearchTruth, dict[str, pd.DataFrame], SampleConfig]:
    cfg = SampleConfig()
    truth, frames = _generate(cfg, _respondents())
    return truth, frames, cfg


@pytest.fixture(scope="module")
def truth(generated) -> ResearchTruth:
    return generated[0]


@pytest.fixture(scope="module")
def survey(generated) -> pd.DataFrame:
    return generated[1]["survey_responses"]


@pytest.fixture(scope="module")
def wide(survey) -> pd.DataFrame:
    """One row per respondent, one column per question (answers as text)."""
    return survey.pivot(index="respondent_id", columns="question_id", values="answer")


@pytest.fixture(scope="module")
def questionnaire(truth) -> dict:
    return yaml.safe_load(truth.questionnaire_yaml)


# ------------------------------------------------------------------------------------------
# contracts, sizes, determinism
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["survey_responses", "competitors", "market_series"])
def test_tables_have_contract_columns_keys_and_required_values(generated, name):
    frames = generated[1]
    contract = get_contract(name)
    frame = frames[name]
    assert tuple(frame.columns) == contract.names
    for col in contract.required:
        assert frame[col].notna().all(), col
    assert not frame.duplicated(list(contract.key)).any()
    for col in contract.columns:
        values = frame[col.name].dropna()
        if col.min is not None:
            assert (values >= col.min).all(), col.name
        if col.allowed is not None:
            assert set(values) <= set(col.allowed), col.name


def test_survey_rows_are_valid(survey, generated):
    cfg = generated[2]
    assert (survey["survey_id"] == f"brand-{cfg.end.year}").all()
    assert survey["answer"].notna().all()
    assert (survey["answer"].str.len() > 0).all()
    lo = datetime.combine(cfg.start, datetime.min.time())
    hi = datetime.combine(cfg.end + timedelta(days=1), datetime.min.time())
    assert survey["answered_at"].min() >= pd.Timestamp(cfg.end) - pd.Timedelta(days=29)
    assert survey["answered_at"].min() >= lo
    assert survey["answered_at"].max() < hi
    per = survey.groupby("respondent_id")
    assert (per["duration_seconds"].nunique() == 1).all()
    assert (per["customer_id"].nunique(dropna=False) == 1).all()
    span = (per["answered_at"].max() - per["answered_at"].min()).dt.total_seconds()
    assert (span <= per["duration_seconds"].first()).all()


def test_non_customers_are_a_fifth_of_respondents(survey, truth):
    resp = survey.drop_duplicates("respondent_id")
    assert len(resp) == truth.n_respondents == 2_500
    assert resp["customer_id"].isna().sum() == 500 == truth.n_respondents - truth.n_customers
    assert set(resp["customer_id"].dropna()) == set(_respondents()["customer_id"])


def test_questionnaire_lists_every_question(survey, questionnaire):
    questions = {q["id"]: q for q in questionnaire["questions"]}
    assert set(survey["question_id"].unique()) == set(questions)
    assert {q["type"] for q in questions.values()} <= QUESTION_TYPES
    assert {q["type"] for q in questions.values()} == QUESTION_TYPES
    cbc = questionnaire["designs"]["cbc"]
    assert len(cbc["versions"]) == 10
    assert all(len(v["tasks"]) == 12 for v in cbc["versions"])
    assert all(len(t["alternatives"]) == 3 for v in cbc["versions"] for t in v["tasks"])
    assert cbc["attributes"]["brand"] == [BRAND, *COMPETITOR_BRANDS[:3]]
    md = questionnaire["designs"]["maxdiff"]
    shown = [i for v in md["versions"] for t in v["tasks"] for i in t["items"]]
    assert set(shown) == set(md["items"])
    assert sum(q["type"] == "kano" for q in questions.values()) % 2 == 0


def test_same_seed_and_respondents_give_identical_tables(generated):
    truth, frames, _ = generated
    # n_customers does not matter: the survey size depends on the respondents passed only
    again, frames2 = _generate(SampleConfig(n_customers=500), _respondents())
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(frame, frames2[name])
    assert again.questionnaire_yaml == truth.questionnaire_yaml
    assert json.dumps(again.to_dict()) == json.dumps(truth.to_dict())
    _, frames3 = _generate(SampleConfig(seed=43), _respondents())
    assert not frames["survey_responses"]["answer"].equals(frames3["survey_responses"]["answer"])
    assert not frames["market_series"]["value"].equals(frames3["market_series"]["value"])


def test_truth_is_plain_and_serialisable(truth):
    plain = truth.to_dict()
    text = json.dumps(plain)
    assert "questionnaire_yaml" in plain
    assert len(plain["text"]["answers"]) == len(truth.text.answers)
    assert len(text) > 10_000


def test_unknown_segment_is_refused():
    bad = pd.DataFrame({"customer_id": ["C1"], "segment": ["Space Tourists"]})
    with pytest.raises(DataError, match="unknown segment"):
        generate_research(SampleConfig(), bad, MemorySink())


# ------------------------------------------------------------------------------------------
# NPS and pricing
# ------------------------------------------------------------------------------------------


def test_nps_per_segment_matches_planted(wide, truth):
    answered = wide.dropna(subset=["nps"])
    score = answered["nps"].astype(int)
    assert len(answered) == truth.n_customers
    for seg in SEGMENTS:
        s = score[answered["segment_self"] == seg]
        pro, det = (s >= 9).mean(), (s <= 6).mean()
        nps = 100 * (pro - det)
        se = 100 * np.sqrt((pro + det - (pro - det) ** 2) / len(s))
        assert abs(nps - truth.nps.nps[seg]) < 3.5 * se + 1, seg
    planted = truth.nps.nps
    assert planted["Alpine Pros"] - planted["Bargain Hunters"] > 60


def test_van_westendorp_answers_are_ordered_and_give_planted_points(wide, truth):
    cols = ["vw_too_cheap", "vw_cheap", "vw_expensive", "vw_too_expensive"]
    p = wide[cols].astype(float).to_numpy()
    assert (np.diff(p, axis=1) > 0).all()
    grid = np.arange(20.0, 1_000.0, 0.5)
    f = {c: (p[:, k][:, None] <= grid[None, :]).mean(axis=0) for k, c in enumerate(cols)}
    too_cheap, cheap = 1 - f["vw_too_cheap"], 1 - f["vw_cheap"]
    expensive, too_exp = f["vw_expensive"], f["vw_too_expensive"]

    def cross(a: np.ndarray, b: np.ndarray) -> float:
        return float(grid[np.argmax(a - b <= 0)])

    found = {
        "pmc": cross(too_cheap, 1 - cheap),
        "opp": cross(too_cheap, too_exp),
        "ipp": cross(cheap, expensive),
        "pme": cross(1 - expensive, too_exp),
    }
    planted = truth.van_westendorp.points["overall"]
    assert planted["pmc"] < planted["opp"] < planted["ipp"] < planted["pme"]
    for k, v in found.items():
        assert v == pytest.approx(planted[k], rel=0.05), k
    nms = wide[["nms_cheap", "nms_expensive"]].astype(int)
    assert (nms["nms_expensive"] <= nms["nms_cheap"]).all()
    assert set(np.unique(nms)) <= {1, 2, 3, 4, 5}


def test_gabor_granger_answers_are_monotone_and_match_demand(wide, truth):
    prices = truth.gabor_granger.prices
    yes = (wide[[f"gg_price_{p}" for p in prices]] == "yes").to_numpy()
    # whoever buys at a price also buys at every lower price
    assert (np.diff(yes.astype(int), axis=1) <= 0).all()
    n = len(yes)
    for k, p in enumerate(prices):
        expected = truth.gabor_granger.demand["overall"][p]
        se = np.sqrt(expected * (1 - expected) / n)
        assert abs(yes[:, k].mean() - expected) < 3.5 * se + 0.005, p
    assert truth.gabor_granger.revenue_price["overall"] in prices


# ------------------------------------------------------------------------------------------
# CBC, MaxDiff, Kano
# ------------------------------------------------------------------------------------------


def _cbc_matrix(questionnaire: dict, wide: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list]:
    design = questionnaire["designs"]["cbc"]
    attrs = {a: lv for a, lv in design["attributes"].items() if a != design["price_attribute"]}
    names = [f"{a}[{lvl}]" for a, lv in attrs.items() for lvl in lv[:-1]] + ["price", "none"]

    def code(alt: dict) -> list[float]:
        row: list[float] = []
        for a, lv in attrs.items():
            k = lv.index(alt[a])
            row += [-1.0] * (len(lv) - 1) if k == len(lv) - 1 else np.eye(len(lv) - 1)[k].tolist()
        return [*row, float(alt["price"]), 0.0]

    none = [0.0] * (len(names) - 1) + [1.0]
    x_design = np.array(
        [
            [[none, *(code(a) for a in t["alternatives"])] for t in v["tasks"]]
            for v in design["versions"]
        ]
    )
    version = wide["cbc_version"].astype(int).to_numpy() - 1
    tasks = [f"cbc_t{t:02d}" for t in range(1, 13)]
    y = wide[tasks].astype(int).to_numpy()
    return x_design[version], y, names


def test_mnl_recovers_the_planted_part_worths(wide, questionnaire, truth):
    x, y, names = _cbc_matrix(questionnaire, wide)
    assert names == list(truth.conjoint.parameters)
    n, t, j, k = x.shape
    x = x.copy()
    x[..., -2] /= 100.0  # price per 100 USD for conditioning
    xf, yf = x.reshape(n * t, j, k), y.reshape(-1)
    beta = np.zeros(k)
    for _ in range(30):
        u = xf @ beta
        p = np.exp(u - u.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        chosen = xf[np.arange(len(yf)), yf]
        xbar = np.einsum("cjk,cj->ck", xf, p)
        hess = np.einsum("cjk,cjl,cj->kl", xf, xf, p) - xbar.T @ xbar
        step = np.linalg.solve(hess, (chosen - xbar).sum(axis=0))
        beta += step
        if np.abs(step).max() < 1e-10:
            break
    scores = (chosen - xbar).reshape(n, t, k).sum(axis=1)  # cluster by respondent
    bread = np.linalg.inv(hess)
    se = np.sqrt(np.diag(bread @ (scores.T @ scores) @ bread))
    scale = np.ones(k)
    scale[-2] = 100.0
    beta, se = beta / scale, se / scale
    pseudo = np.array([truth.conjoint.mnl_pseudo_true[p] for p in names])
    z = (beta - pseudo) / se
    assert np.abs(z).max() < 3.0, dict(zip(names, z.round(2), strict=True))
    # the plain MNL is attenuated by heterogeneity, but by nearly the same factor everywhere:
    # willingness to pay (ratios to the price coefficient) matches the planted means
    means = np.array([truth.conjoint.means[p] for p in names])
    big = np.abs(means) >= 0.3
    wtp_est, wtp_true = beta[big] / beta[-2], means[big] / means[-2]
    assert np.allclose(wtp_est, wtp_true, rtol=0.15), (wtp_est, wtp_true)
    assert 0.75 < beta[-2] / means[-2] < 1.0
    assert sum(truth.conjoint.importances.values()) == pytest.approx(1.0)


def test_maxdiff_counts_rank_items_as_planted(survey, truth):
    md = survey[survey["question_id"].str.startswith("md_t")]
    side = md["question_id"].str.rsplit("_", n=1).str[1]
    best = md.loc[side == "best", "answer"].value_counts()
    worst = md.loc[side == "worst", "answer"].value_counts()
    items = list(truth.maxdiff.items)
    score = np.array([best.get(i, 0) - worst.get(i, 0) for i in items])
    planted = np.array([truth.maxdiff.utilities["overall"][i] for i in items])
    rho = stats.spearmanr(score, planted).statistic
    assert rho >= 0.9
    assert items[int(np.argmax(score))] == truth.maxdiff.rank[0]


def test_kano_majority_category_matches_planted(wide, truth):
    table = truth.kano.table
    names = truth.kano.category_names
    for feature, planted in truth.kano.category.items():
        func = wide[f"kano_{feature}_functional"]
        dysf = wide[f"kano_{feature}_dysfunctional"]
        cats = pd.Series([names[table[f][d]] for f, d in zip(func, dysf, strict=True)])
        assert cats.value_counts().index[0] == planted, feature
    assert set(truth.kano.category.values()) == {
        "must-be",
        "one-dimensional",
        "attractive",
        "indifferent",
        "reverse",
    }


# ------------------------------------------------------------------------------------------
# open text, positioning, market
# ------------------------------------------------------------------------------------------


def test_nmf_recovers_planted_themes(survey, truth):
    texts = survey[survey["question_id"] == "improve_text"].set_index("respondent_id")["answer"]
    planted = truth.text.answers.set_index("respondent_id")
    assert set(texts.index) == set(planted.index)
    assert 0.8 < len(texts) / truth.n_respondents < 0.9
    labels = planted.loc[texts.index, "theme"]
    tfidf = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=2)
    x = tfidf.fit_transform(texts)
    w = NMF(n_components=len(truth.text.themes), init="nndsvd", random_state=0).fit_transform(x)
    assert adjusted_rand_score(labels, w.argmax(axis=1)) >= 0.8
    assert set(planted["sentiment"]) == {"positive", "negative"}


def _pca_scores(matrix: np.ndarray) -> np.ndarray:
    centred = matrix - matrix.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    return u[:, :2] * s[:2]


def test_competitor_ratings_reproduce_planted_brand_map(generated, truth):
    comp = generated[1]["competitors"]
    ratings = comp[comp["kind"] == "rating"].pivot(
        index="brand", columns="attribute", values="value"
    )
    brands = list(truth.positioning.positions)
    planted = np.array([truth.positioning.positions[b] for b in brands])
    scores = _pca_scores(ratings.loc[brands].to_numpy())
    _, _, disparity = spatial.procrustes(planted, scores)
    assert disparity < 0.01


def test_survey_ratings_reproduce_brand_map_and_white_space(survey, wide, truth):
    rated = survey[survey["question_id"].str.startswith("rating_")]
    keys = {b.lower().replace(" ", "_"): b for b in truth.positioning.positions}
    attrs = list(truth.positioning.attributes)
    means = rated.assign(answer=rated["answer"].astype(int)).groupby("question_id")["answer"].mean()
    matrix = np.array([[means[f"rating_{k}_{a}"] for a in attrs] for k in keys])
    planted = np.array([truth.positioning.positions[b] for b in keys.values()])
    _, _, disparity = spatial.procrustes(planted, _pca_scores(matrix))
    assert disparity < 0.05
    ideal = wide[[f"ideal_{a}" for a in attrs]].astype(int).groupby(wide["segment_self"]).mean()
    gap = {
        seg: np.linalg.norm(matrix - ideal.loc[seg].to_numpy(), axis=1).min() for seg in SEGMENTS
    }
    assert max(gap, key=gap.__getitem__) == truth.positioning.white_space_segment
    ws = truth.positioning.white_space_segment
    assert all(gap[ws] > 2 * gap[s] for s in SEGMENTS if s != ws)


def test_competitors_prices_features_and_share_of_voice(generated, truth):
    comp = generated[1]["competitors"]
    assert set(comp["brand"]) == {BRAND, *COMPETITOR_BRANDS}
    assert len(comp) == 6 * 17
    feats = comp[comp["kind"] == "feature"].pivot(
        index="brand", columns="attribute", values="value"
    )
    assert set(np.unique(feats)) == {0.0, 1.0}
    lacking = feats.columns[feats.loc[BRAND] == 0]
    gaps = {f: int(feats[f].sum()) for f in lacking if feats[f].sum() >= 2}
    assert gaps == truth.positioning.feature_gaps
    assert gaps
    sov = comp.loc[comp["kind"] == "share_of_voice", "value"]
    assert sov.between(0, 1).all()
    assert sov.sum() == pytest.approx(1.0)
    prices = comp[comp["kind"] == "price"]
    assert (prices["value"] > 0).all()
    tents = prices[prices["attribute"] == "price_tent"].set_index("brand")["value"]
    x = pd.Series({b: p[0] for b, p in truth.positioning.positions.items()})
    assert stats.spearmanr(tents[x.index], x).statistic > 0.9


def test_market_series_recovers_trend_and_season(generated, truth):
    market, cfg = generated[1]["market_series"], generated[2]
    periods = pd.to_datetime(market["period"].astype(str))
    assert (periods.dt.day_of_week == 0).all()
    assert periods.min() >= pd.Timestamp(cfg.start)
    assert periods.max() <= pd.Timestamp(cfg.end)
    assert periods.max() > pd.Timestamp(cfg.end) - pd.Timedelta(days=7)
    assert (market["value"] >= 0).all()
    assert set(market["category"]) == set(CATEGORIES)
    assert (market["metric"] == "demand").all()
    found_emerging, found_declining = set(), set()
    for cat, grp in market.assign(period=periods).groupby("category"):
        t = (grp["period"] - grp["period"].min()).dt.days.to_numpy() / 365.25
        week = (grp["period"].dt.day_of_year.to_numpy() - 1) / 7 + 1
        ang = 2 * np.pi * week / (365.25 / 7)
        design = np.column_stack([np.ones_like(t), t, np.cos(ang), np.sin(ang)])
        coef = np.linalg.lstsq(design, np.log(grp["value"].to_numpy()), rcond=None)[0]
        growth = np.exp(coef[1]) - 1
        peak = (np.arctan2(coef[3], coef[2]) / (2 * np.pi) * (365.25 / 7)) % (365.25 / 7)
        planted_peak = truth.market.peak_week[cat]
        diff = abs((peak - planted_peak + 26) % (365.25 / 7) - 26)
        assert diff < 2, (cat, peak, planted_peak)
        assert growth == pytest.approx(truth.market.growth[cat], abs=0.03), cat
        if growth >= 0.15:
            found_emerging.add(cat)
        if growth <= -0.05:
            found_declining.add(cat)
    assert found_emerging == set(truth.market.emerging)
    assert found_declining == set(truth.market.declining)
    assert len(truth.market.emerging) == 2
    assert 1 <= len(truth.market.declining) <= 2
    exp = truth.market.expected
    assert len(exp) == len(market)
    assert isinstance(exp["period"].iloc[0], date)
