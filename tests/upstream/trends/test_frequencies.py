"""Monthly and daily series, series with zeros, and the Fourier model on its own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from streamwise.upstream.trends import MODELS, Harmonic, analyse_trends, forecast_series


def _monthly(growth: float, amplitude: float, months: int = 60, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(months)
    value = (
        1000
        * (1 + growth) ** (t / 12)
        * (1 + amplitude * np.cos(2 * np.pi * (t - 6) / 12))  # peaks on 1 July
        * np.exp(rng.normal(0, 0.04, months))
    )
    return pd.DataFrame(
        {"category": "kayaks", "period": pd.date_range("2020-01-01", periods=months, freq="MS"),
         "value": value}
    )  # fmt: skip


def test_monthly_trend_and_season_are_recovered() -> None:
    run = analyse_trends(_monthly(0.20, 0.3))
    row = run.trends.iloc[0]
    # 36 months in the two-year window, σ = 0.04: slope standard error ≈ 0.04 / sqrt(25 · 4 / 12)
    # ≈ 0.014; 0.045 is about three.
    assert row["annual_growth"] == pytest.approx(0.20, abs=0.045)
    assert row["status"] == "emerging"
    assert abs(row["peak_week"] - 27) <= 2  # 1 July is day 183: week 27
    assert row["seasonal_amplitude"] == pytest.approx(0.3, abs=0.05)
    assert row["mase"] < row["naive_mase"]
    assert len(run.forecast) == 12  # one year of months by default
    assert str(run.forecast["period"].iloc[0]) == "2025-01-01"


def test_daily_series_with_weekly_and_yearly_seasons() -> None:
    rng = np.random.default_rng(8)
    days = pd.date_range("2022-01-01", periods=800, freq="D")
    t = np.arange(800)
    value = (
        500
        * 0.9 ** (t / 365.25)
        * (1 + 0.2 * np.cos(2 * np.pi * (t - 180) / 365.25))
        * (1 + 0.3 * (days.dayofweek >= 5))
        * np.exp(rng.normal(0, 0.05, 800))
    )
    frame = pd.DataFrame({"category": "bikes", "period": days, "value": value})
    run = analyse_trends(frame, models=("harmonic_theta",), horizon=30, windows=2)
    row = run.trends.iloc[0]
    assert row["annual_growth"] == pytest.approx(-0.10, abs=0.03)
    assert row["status"] == "declining"
    assert row["mase"] < row["naive_mase"]
    fc = run.forecast.assign(period=pd.to_datetime(run.forecast["period"]))
    assert len(fc) == 30
    weekend = fc["period"].dt.dayofweek >= 5
    assert fc.loc[weekend, "forecast"].mean() > 1.15 * fc.loc[~weekend, "forecast"].mean()


def test_series_with_zeros_are_modelled_in_their_own_units() -> None:
    frame = _monthly(0.0, 0.5, months=48)
    frame.loc[[6, 18], "value"] = 0.0  # two months without sales
    fc = forecast_series(frame, horizon=6, models=("harmonic_ets",))
    assert (fc.table["lo_95"] >= 0).all()
    run = analyse_trends(frame, models=("harmonic_ets",))
    assert np.isfinite(run.trends[["annual_growth", "level", "mase"]].to_numpy(float)).all()


def test_harmonic_model_follows_a_fractional_season() -> None:
    # Noise-free log series: a linear trend plus a season of 365.25 / 7 weeks. The Fourier terms
    # fit it exactly, and the trend model extrapolates the line.
    period = 365.25 / 7
    t = np.arange(169)
    y = 5 + 0.002 * t + 0.3 * np.cos(2 * np.pi * (t - 20) / period)
    y = y + 0.001 * np.sin(t * 1.7)  # a little texture so that the smoother has residuals
    model = Harmonic((period,)).fit(y[:156])
    out = model.predict(13, level=[95])
    assert out["mean"] == pytest.approx(y[156:], abs=0.01)
    assert (out["lo-95"] < out["mean"]).all()
    assert model.harmonics_[0] >= 1
    direct = Harmonic((period,)).forecast(y[:156], 13)["mean"]
    assert direct == pytest.approx(out["mean"])


def test_every_model_forecasts_with_intervals() -> None:
    frame = _monthly(0.1, 0.3, months=48)
    fc = forecast_series(frame, horizon=6, models=tuple(MODELS))
    assert list(fc.models) == list(MODELS)  # the baseline, named last in MODELS, stays last
    table = fc.table
    assert (table.groupby("model").size() == 6).all()
    assert table[["forecast", "lo_80", "hi_80", "lo_95", "hi_95"]].notna().all().all()
    assert (table["lo_95"] <= table["forecast"]).all()
    assert (table["forecast"] <= table["hi_95"]).all()
