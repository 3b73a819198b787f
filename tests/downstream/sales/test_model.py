"""The propensity model on data drawn from a known logistic model: it recovers the planted
coefficients, its decomposition is exact, its database expression equals its numpy arithmetic, and
the holdout measures agree with their definitions."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from streamwise.downstream.sales import HoldoutQuality, PropensityModel, holdout_quality
from streamwise.errors import ModelError

BETA = {"a": 1.2, "b": -0.7, "c": 0.0}
INTERCEPT = -0.5


def _draw(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {"a": rng.normal(2, 3, n), "b": rng.exponential(1, n), "c": rng.normal(0, 1, n),
         "flat": np.full(n, 4.0)}
    )  # fmt: skip
    z = (X[["a", "b", "c"]] - X[["a", "b", "c"]].mean()) / X[["a", "b", "c"]].std(ddof=0)
    logit = INTERCEPT + z.to_numpy() @ np.array(list(BETA.values()))
    p = 1 / (1 + np.exp(-logit))
    return X, (rng.random(n) < p).astype(int), p


def test_fit_recovers_planted_coefficients_and_drops_constant_inputs() -> None:
    X, y, _ = _draw(40_000, seed=1)
    model = PropensityModel(["a", "b", "c", "flat"])
    assert model.fit(X, y) is model
    assert model.features_ == ("a", "b", "c")
    assert model.dropped_ == ("flat",)
    coef = dict(zip(model.features_, model.coef_, strict=True))
    for name, beta in BETA.items():
        assert coef[name] == pytest.approx(beta, abs=0.05)
    assert model.intercept_ == pytest.approx(INTERCEPT, abs=0.05)
    assert "fitted on 40,000 rows" in repr(model)


def test_contributions_add_up_to_the_log_odds() -> None:
    X, y, _ = _draw(2_000, seed=2)
    model = PropensityModel(["a", "b", "c"]).fit(X, y)
    parts = model.contributions(X)
    np.testing.assert_allclose(model.intercept_ + parts.sum(axis=1), model.log_odds(X))
    np.testing.assert_allclose(1 / (1 + np.exp(-model.log_odds(X))), model.probability_to_buy(X))
    # a feature raises the odds exactly when its coefficient and its deviation share a sign
    signs = np.sign(model.coef_) * np.sign(X[list(model.features_)] - model.mean_)
    np.testing.assert_array_equal(np.sign(parts.to_numpy()), signs.to_numpy())


def test_database_expression_equals_numpy() -> None:
    X, y, _ = _draw(3_000, seed=3)
    model = PropensityModel(["a", "b", "c"]).fit(X, y)
    t = ibis.memtable(X)
    inputs = {f: t[f] for f in model.features_}
    out = t.select(
        log_odds=model.log_odds_expr(inputs), **{f"c_{k}": v for k, v in
                                                 model.contribution_exprs(inputs).items()}
    ).to_pandas()  # fmt: skip
    np.testing.assert_allclose(out["log_odds"], model.log_odds(X), rtol=1e-10)
    np.testing.assert_allclose(out["c_a"], model.contributions(X)["a"], rtol=1e-10, atol=1e-12)


def test_round_trip_through_json_data() -> None:
    X, y, _ = _draw(2_000, seed=4)
    model = PropensityModel(["a", "b", "c", "flat"]).fit(X, y)
    again = PropensityModel.from_dict(model.to_dict())
    np.testing.assert_array_equal(again.probability_to_buy(X), model.probability_to_buy(X))
    assert again.dropped_ == ("flat",)
    assert again.n_ == 2_000


def test_too_few_buyers_is_a_clear_error() -> None:
    X, _, _ = _draw(500, seed=5)
    y = np.zeros(500)
    y[:3] = 1
    with pytest.raises(ModelError, match="too few outcomes"):
        PropensityModel(["a"]).fit(X, y)
    with pytest.raises(ModelError, match="not fitted"):
        PropensityModel(["a"]).probability_to_buy(X)


def test_holdout_quality_matches_its_definitions() -> None:
    _, y, p = _draw(20_000, seed=6)
    q = holdout_quality(y, p)
    # AUC as the share of (buyer, non-buyer) pairs ordered correctly (Mann-Whitney)
    pos, neg = p[y == 1], p[y == 0]
    ranks = pd.Series(np.concatenate([pos, neg])).rank().to_numpy()
    mann_whitney = (ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))
    assert q.auc == pytest.approx(mann_whitney, abs=1e-9)
    top = np.argsort(-p, kind="stable")[: len(p) // 10]
    assert q.top_decile_lift == pytest.approx(y[top].mean() / y.mean())
    assert q.calibration["rows"].sum() == len(y)
    assert len(q.calibration) == 10
    # the true probabilities are calibrated: predicted and observed agree in every decile
    gap = (q.calibration["predicted"] - q.calibration["observed"]).abs()
    assert gap.max() < 0.04
    assert q.calibration["predicted"].is_monotonic_decreasing
    again = HoldoutQuality.from_dict(q.to_dict())
    assert again.auc == q.auc
    pd.testing.assert_frame_equal(again.calibration, q.calibration, check_dtype=False)


def test_uninformative_scores_have_auc_near_one_half() -> None:
    rng = np.random.default_rng(7)
    y = rng.random(20_000) < 0.3
    q = holdout_quality(y, rng.random(20_000))
    assert abs(q.auc - 0.5) < 0.02
    assert abs(q.top_decile_lift - 1) < 0.1
