"""Market trends: forecasts per category with statsforecast (Fourier + ETS / Theta, MSTL, ETS,
ARIMA, Theta) and prediction intervals, rolling-origin backtests scored by MASE against the
seasonal-naive baseline, trend and seasonality decomposition, annual growth with a confidence
interval, and the emerging / declining / stable flag."""

from streamwise.upstream.trends.analysis import (
    FORECAST_COLUMNS,
    TREND_COLUMNS,
    TrendsRun,
    analyse_trends,
)
from streamwise.upstream.trends.backtest import Backtest, backtest, mase, seasonal_naive_scale
from streamwise.upstream.trends.decompose import (
    Decomposition,
    GrowthRate,
    SeasonalShape,
    classify,
    decompose,
    growth_rate,
    seasonal_shape,
    week_of_year,
)
from streamwise.upstream.trends.forecast import DEFAULT_MODELS, Forecast, forecast_series
from streamwise.upstream.trends.models import BASELINE, MODELS, Harmonic, build_models
from streamwise.upstream.trends.series import (
    FREQUENCIES,
    Frequency,
    Series,
    SeriesPanel,
    infer_frequency,
    prepare_series,
)
from streamwise.upstream.trends.workspace import RESULT_TABLES, run_trends

__all__ = [
    "BASELINE",
    "DEFAULT_MODELS",
    "FORECAST_COLUMNS",
    "FREQUENCIES",
    "MODELS",
    "RESULT_TABLES",
    "TREND_COLUMNS",
    "Backtest",
    "Decomposition",
    "Forecast",
    "Frequency",
    "GrowthRate",
    "Harmonic",
    "SeasonalShape",
    "Series",
    "SeriesPanel",
    "TrendsRun",
    "analyse_trends",
    "backtest",
    "build_models",
    "classify",
    "decompose",
    "forecast_series",
    "growth_rate",
    "infer_frequency",
    "mase",
    "prepare_series",
    "run_trends",
    "seasonal_naive_scale",
    "seasonal_shape",
    "week_of_year",
]
