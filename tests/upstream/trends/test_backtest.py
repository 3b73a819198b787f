"""MASE by hand, against utilsforecast, and in a backtest whose answer is known exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from streamwise.upstream.trends import backtest, mase, seasonal_naive_scale


def test_mase_by_hand() -> None:
    # Hyndman & Koehler (2006), §3.4: errors over the in-sample naive MAE.
    # Naive (m = 1): in-sample steps 1, 1, 1, 1, 1 -> scale 1; errors |7 − 6|, |8 − 10| -> 1.5.
    assert mase([7, 8], [6, 10], [1, 2, 3, 4, 5, 6]) == pytest.approx(1.5)
    # Seasonal (m = 2): |12 − 10|, |22 − 20|, |14 − 12|, |24 − 22| = 2 each -> scale 2;
    # errors |16 − 15| = 1 and |26 − 29| = 3 -> mean 2 -> MASE 1.
    assert seasonal_naive_scale(np.array([10, 20, 12, 22, 14, 24]), 2) == pytest.approx(2.0)
    assert mase([16, 26], [15, 29], [10, 20, 12, 22, 14, 24], season=2) == pytest.approx(1.0)
    assert np.isnan(mase([1, 2], [1, 2], [5, 5, 5, 5], season=2))


def test_mase_matches_utilsforecast() -> None:
    losses = pytest.importorskip("utilsforecast.losses")
    rng = np.random.default_rng(3)
    train, actual, pred = rng.gamma(5, 10, 60), rng.gamma(5, 10, 6), rng.gamma(5, 10, 6)
    ref = losses.mase(
        pd.DataFrame({"unique_id": "a", "ds": range(6), "y": actual, "m": pred}),
        models=["m"],
        seasonality=12,
        train_df=pd.DataFrame({"unique_id": "a", "ds": range(60), "y": train}),
    )
    assert mase(actual, pred, train, season=12) == pytest.approx(float(ref["m"].iloc[0]))


def test_seasonal_naive_on_a_trend_plus_fixed_season_scores_exactly_one() -> None:
    # y = 200 + t + pattern(t mod 52): the seasonal-naive forecast is always 52 too low, and so
    # is the in-sample seasonal-naive error, so every window's MASE is exactly 1. The windows
    # end at the last period (2024-12-23), 13 weeks apart.
    t = np.arange(156)
    pattern = 30 * np.sin(2 * np.pi * np.arange(52) / 52) ** 3
    frame = pd.DataFrame(
        {
            "category": "tents",
            "period": pd.date_range("2022-01-03", periods=156, freq="W-MON"),
            "value": 200.0 + t + pattern[t % 52],
        }
    )
    bt = backtest(frame, models=(), windows=3, horizon=13)
    assert bt.summary["model"].tolist() == ["seasonal_naive"]
    assert bt.summary["mase"].iloc[0] == pytest.approx(1.0)
    assert bt.summary["windows"].iloc[0] == 3
    assert bt.errors["scale"].tolist() == pytest.approx([52.0] * 3)
    assert [str(c) for c in bt.errors["cutoff"]] == ["2024-03-25", "2024-06-24", "2024-09-23"]


def test_windows_shrink_to_fit_two_years_of_training() -> None:
    frame = pd.DataFrame(
        {
            "category": "tents",
            "period": pd.date_range("2022-01-03", periods=120, freq="W-MON"),
            "value": 100.0 + np.arange(120) % 52,
        }
    )
    bt = backtest(frame, models=(), windows=4, horizon=13)
    assert bt.windows == 1  # 120 − 104 = 16 weeks leave room for one 13-week window
