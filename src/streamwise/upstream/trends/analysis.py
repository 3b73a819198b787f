"""The whole trends analysis of a set of market series: decomposition, growth and flags,
backtests, the best model per series and its forecasts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from streamwise.upstream.trends.backtest import Backtest, backtest
from streamwise.upstream.trends.decompose import Decomposition, decompose
from streamwise.upstream.trends.forecast import (
    DEFAULT_MODELS,
    Forecast,
    Transform,
    as_panel,
    forecast_series,
)
from streamwise.upstream.trends.models import BASELINE
from streamwise.upstream.trends.series import SeriesPanel

__all__ = ["FORECAST_COLUMNS", "TREND_COLUMNS", "TrendsRun", "analyse_trends"]

#: Columns of the ``market_trends`` table.
TREND_COLUMNS = (
    "category",
    "metric",
    "periods",
    "last_period",
    "level",
    "annual_growth",
    "growth_lo",
    "growth_hi",
    "seasonal_amplitude",
    "peak_week",
    "status",
    "best_model",
    "mase",
    "naive_mase",
    "forecast_next_year",
    "growth_next_year",
)
#: Columns of the ``market_forecast`` table.
FORECAST_COLUMNS = (
    "category",
    "metric",
    "period",
    "model",
    "forecast",
    "lo_80",
    "hi_80",
    "lo_95",
    "hi_95",
)


@dataclass(frozen=True)
class TrendsRun:
    """What one trends analysis found.

    Attributes
    ----------
    trends
        One row per (category, metric): the ``market_trends`` table (:data:`TREND_COLUMNS`).
    forecast
        The best model's forecasts per series (the ``market_forecast`` table).
    backtest
        Every model's backtest (its summary is the ``market_backtest`` table).
    decomposition
        Components (the ``market_components`` table) and the trend summary.
    all_forecasts
        Forecasts (a year or ``horizon`` ahead, whichever is longer) of every model chosen for
        some series, and of the seasonal-naive baseline.
    """

    trends: pd.DataFrame
    forecast: pd.DataFrame
    backtest: Backtest
    decomposition: Decomposition
    all_forecasts: Forecast

    @property
    def emerging(self) -> list[str]:
        """Categories flagged emerging (any metric)."""
        return sorted(set(self.trends.loc[self.trends["status"] == "emerging", "category"]))

    @property
    def declining(self) -> list[str]:
        """Categories flagged declining (any metric)."""
        return sorted(set(self.trends.loc[self.trends["status"] == "declining", "category"]))

    def to_frame(self) -> pd.DataFrame:
        """The ``market_trends`` table."""
        return self.trends.copy()

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form: the trends, and the backtest summary."""
        trends = self.trends.assign(last_period=self.trends["last_period"].astype(str))
        return {
            "trends": trends.to_dict(orient="records"),
            "backtest": self.backtest.to_dict(),
            "horizon": self.all_forecasts.horizon,
        }


def analyse_trends(
    data: pd.DataFrame | SeriesPanel,
    *,
    horizon: int | None = None,
    models: Sequence[str] = DEFAULT_MODELS,
    backtest_horizon: int | None = None,
    windows: int = 4,
    transform: Transform = "auto",
    growth_years: float = 2.0,
    emerging: float = 0.15,
    declining: float = -0.05,
    n_jobs: int | None = None,
    on_step: Callable[[str], None] | None = None,
) -> TrendsRun:
    """Decompose, backtest, choose and forecast every (category, metric) series.

    Parameters
    ----------
    data
        A ``market_series`` frame (``category, metric, period, value``) or a checked panel.
    horizon
        Periods forecast (default: one year). ``forecast_next_year`` always sums one year.
    models
        Candidate models (:data:`~streamwise.upstream.trends.models.MODELS`); the seasonal-naive
        baseline is always added. Each series is forecast by the one with the lowest backtest
        MASE (the baseline included, so a series no model beats keeps the baseline).
    backtest_horizon, windows
        Periods per backtest window (default about a quarter) and number of windows.
    transform
        ``auto`` (log scale for positive series), ``log`` or ``none``.
    growth_years
        Years at the end of each series from which annual growth is estimated.
    emerging, declining
        Annual growth thresholds of the flags (+15 % and −5 % a year by default).
    n_jobs
        Processes for statsforecast (default: 1 below 100 series, else every core).
    on_step
        Called with a short description as each stage starts.
    """
    step = on_step or (lambda _msg: None)
    panel = as_panel(data)
    step("decomposing trend and seasonality")
    parts = decompose(
        panel,
        transform=transform,
        growth_years=growth_years,
        emerging=emerging,
        declining=declining,
    )
    step("backtesting the models")
    tested = backtest(
        panel,
        horizon=backtest_horizon,
        windows=windows,
        models=models,
        transform=transform,
        n_jobs=n_jobs,
    )
    best = tested.best()
    step("forecasting")
    year = max(s.frequency.year for s in panel)
    h = int(horizon) if horizon else None
    needed = sorted(set(best.values()) - {BASELINE})
    fc = forecast_series(
        panel,
        horizon=max(h or 0, year),
        models=needed,
        levels=(80, 95),
        transform=transform,
        n_jobs=n_jobs,
    )
    chosen = fc.of(best)
    extra = pd.DataFrame(
        {
            "category": [s.category for s in panel],
            "metric": [s.metric for s in panel],
            "span": [s.frequency.year for s in panel],
            "last_year": [float(np.sum(s.values[-s.frequency.year :])) for s in panel],
        }
    )
    extra["keep"] = h if h else extra["span"]
    with_span = chosen.merge(extra, on=["category", "metric"])
    ahead = (
        with_span[with_span["step"] <= with_span["span"]]
        .groupby(["category", "metric"], sort=False)["forecast"]
        .sum()
        .rename("forecast_next_year")
    )
    extra = extra.merge(ahead.reset_index(), on=["category", "metric"], how="left")
    extra["growth_next_year"] = (extra["forecast_next_year"] / extra["last_year"] - 1).where(
        extra["last_year"] > 0
    )
    scores = tested.summary.pivot_table(
        index=["category", "metric"], columns="model", values="mase", aggfunc="first"
    )
    best_frame = pd.Series(best, name="best_model").rename_axis(["category", "metric"])
    trends = parts.summary.merge(
        best_frame.reset_index(), on=["category", "metric"], how="left"
    ).merge(extra, on=["category", "metric"], how="left")
    keys = list(zip(trends["category"], trends["metric"], strict=True))
    trends["mase"] = [
        scores.loc[k, b] if isinstance(b, str) else np.nan
        for k, b in zip(keys, trends["best_model"], strict=True)
    ]
    trends["naive_mase"] = [scores.loc[k, BASELINE] for k in keys]
    forecast = with_span[with_span["step"] <= with_span["keep"]].sort_values(
        ["category", "metric", "period"]
    )
    forecast["period"] = forecast["period"].dt.date
    return TrendsRun(
        trends=trends[list(TREND_COLUMNS)].reset_index(drop=True),
        forecast=forecast[list(FORECAST_COLUMNS)].reset_index(drop=True),
        backtest=tested,
        decomposition=parts,
        all_forecasts=fc,
    )
