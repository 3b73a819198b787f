"""The planted market of the sample business is recovered: growth, flags, seasonality, level;
and the forecasts beat the seasonal-naive baseline.

Planted (``streamwise.data.sample.market``): weekly demand
``level · (1 + g)^years · (1 + a cos(2π(w − peak)/52.18)) · exp(e)``, ``e ~ N(0, 0.06²)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from streamwise.upstream.trends import TREND_COLUMNS, TrendsRun


def _by_category(run: TrendsRun) -> pd.DataFrame:
    return run.trends.set_index("category")


def test_one_row_per_category_with_the_fixed_columns(
    sample_run: TrendsRun, sample_market: tuple[pd.DataFrame, Any]
) -> None:
    truth = sample_market[1]
    assert list(sample_run.trends.columns) == list(TREND_COLUMNS)
    assert sorted(sample_run.trends["category"]) == sorted(truth.growth)
    assert (sample_run.trends["periods"] == 157).all()


def test_planted_growth_is_recovered(
    sample_run: TrendsRun, sample_market: tuple[pd.DataFrame, Any]
) -> None:
    # The growth is the slope of the seasonally adjusted log series over the last two years
    # (105 weeks). With log noise σ = 0.06 its standard error is about
    # 0.06 / sqrt(Σ(t − t̄)²) = 0.06 / sqrt(105 · 2² / 12) ≈ 0.010 a year, so a tolerance of
    # 0.03 is three standard errors; observed errors are at most 0.015.
    truth = sample_market[1]
    got = _by_category(sample_run)
    for cat, g in truth.growth.items():
        assert abs(got.at[cat, "annual_growth"] - g) < 0.03, cat
    # The 95 % intervals cover the truth for most categories (7 of 8 here; 95 % of 8 is 7.6).
    inside = sum(
        got.at[c, "growth_lo"] <= g <= got.at[c, "growth_hi"] for c, g in truth.growth.items()
    )
    assert inside >= 6
    assert (got["growth_lo"] < got["annual_growth"]).all()
    assert (got["annual_growth"] < got["growth_hi"]).all()


def test_emerging_and_declining_categories_are_flagged_exactly(
    sample_run: TrendsRun, sample_market: tuple[pd.DataFrame, Any]
) -> None:
    truth = sample_market[1]
    assert sample_run.emerging == sorted(truth.emerging)
    assert sample_run.declining == sorted(truth.declining)
    stable = set(truth.growth) - set(truth.emerging) - set(truth.declining)
    assert set(sample_run.trends.loc[sample_run.trends["status"] == "stable", "category"]) == stable


def test_peak_week_and_seasonal_amplitude_are_recovered(
    sample_run: TrendsRun, sample_market: tuple[pd.DataFrame, Any]
) -> None:
    truth = sample_market[1]
    got = _by_category(sample_run)
    for cat, peak in truth.peak_week.items():
        diff = abs(got.at[cat, "peak_week"] - peak) % 52
        assert min(diff, 52 - diff) <= 2, (cat, got.at[cat, "peak_week"], peak)
        # Amplitude: half the range of the 4-harmonic smoothed seasonal factor. Over 15 seeds of
        # the sample market the largest error was 0.02; 0.03 leaves room for the seed.
        assert abs(got.at[cat, "seasonal_amplitude"] - truth.amplitude[cat]) < 0.03, cat


def test_level_is_the_planted_deseasonalised_demand_at_the_end(
    sample_run: TrendsRun, sample_market: tuple[pd.DataFrame, Any]
) -> None:
    frame, truth = sample_market
    years = (pd.Timestamp(frame["period"].max()) - pd.Timestamp(frame["period"].min())).days
    got = _by_category(sample_run)
    for cat, level in truth.level.items():
        expected = level * (1 + truth.growth[cat]) ** (years / 365.25)
        # The STL trend at the last period rests on the last half-year or so (a few dozen noisy
        # weeks, σ = 0.06 each) and bends at the edge: within 6 % (observed at most 3.4 %).
        assert abs(got.at[cat, "level"] / expected - 1) < 0.06, cat


def test_forecasts_beat_seasonal_naive_on_every_category(sample_run: TrendsRun) -> None:
    got = sample_run.trends
    assert (got["mase"] < got["naive_mase"]).all(), got[["category", "mase", "naive_mase"]]
    assert got["mase"].mean() < 0.8 * got["naive_mase"].mean()
    assert (got["best_model"] != "seasonal_naive").all()
    assert (sample_run.backtest.summary["windows"] == 4).all()


def test_prediction_interval_coverage_is_sensible(sample_run: TrendsRun) -> None:
    # Backtest coverage of the best models over 4 windows × 13 weeks × 8 categories (416
    # forecasts each): close to nominal, a little under it as intervals that ignore the
    # uncertainty of the estimated parameters are.
    err = sample_run.backtest.errors
    best = sample_run.trends[["category", "metric", "best_model"]].rename(
        columns={"best_model": "model"}
    )
    chosen = err.merge(best, on=["category", "metric", "model"])
    assert 0.65 <= chosen["coverage_80"].mean() <= 0.95
    assert 0.85 <= chosen["coverage_95"].mean() <= 1.0


def test_forecast_table(sample_run: TrendsRun) -> None:
    fc = sample_run.forecast
    assert list(fc.columns) == [
        "category", "metric", "period", "model", "forecast", "lo_80", "hi_80", "lo_95", "hi_95",
    ]  # fmt: skip
    assert (fc.groupby("category").size() == 52).all()
    assert (fc["lo_95"] <= fc["lo_80"]).all()
    assert (fc["lo_80"] <= fc["forecast"]).all()
    assert (fc["forecast"] <= fc["hi_80"]).all()
    assert (fc["hi_80"] <= fc["hi_95"]).all()
    last = sample_run.trends.set_index("category")["last_period"]
    for cat, rows in fc.groupby("category"):
        periods = pd.to_datetime(rows["period"])
        assert periods.min() == pd.Timestamp(last[cat]) + pd.Timedelta(weeks=1)
        assert (periods.diff().dropna() == pd.Timedelta(weeks=1)).all()
    chosen = sample_run.trends.set_index("category")["best_model"]
    assert (fc["model"] == fc["category"].map(chosen)).all()


def test_next_year_follows_the_flags(sample_run: TrendsRun) -> None:
    got = _by_category(sample_run)
    for cat in sample_run.emerging:
        assert got.at[cat, "growth_next_year"] > 0.1
    for cat in sample_run.declining:
        assert got.at[cat, "growth_next_year"] < 0
    fc = sample_run.forecast.groupby("category")["forecast"].sum()
    assert np.allclose(fc, got.loc[fc.index, "forecast_next_year"])


def test_components_add_up(sample_run: TrendsRun) -> None:
    c = sample_run.decomposition.components
    assert list(c.columns) == [
        "category", "metric", "period", "observed", "trend", "seasonal", "remainder",
    ]  # fmt: skip
    assert np.allclose(c["observed"], c["trend"] + c["seasonal"] + c["remainder"])
    # The seasonal effect nets out over a year, so the trend carries the level.
    last_year = c.groupby("category").tail(52)
    ratio = (
        last_year.groupby("category")["seasonal"].sum()
        / last_year.groupby("category")["trend"].sum()
    )
    assert (ratio.abs() < 0.02).all()
