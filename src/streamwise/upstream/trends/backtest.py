"""Rolling-origin backtests scored by the mean absolute scaled error.

Each model is refitted at several forecast origins (the last ``windows × horizon`` periods, one
window of ``horizon`` periods after another: Tashman 2000, "rolling origin") and its forecasts
are scored by MASE (Hyndman & Koehler 2006, §3.4):

    MASE = mean_t |y_t − ŷ_t| / ( 1/(n−m) · Σ_{i=m+1..n} |y_i − y_{i−m}| )

where the denominator is the in-sample mean absolute error of the seasonal-naive forecast
(season ``m``) on the training part of that window. A MASE below 1 beats what the seasonal-naive
method achieved in sample; the seasonal-naive method itself is backtested too, as the baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from streamwise.errors import DataError
from streamwise.upstream.trends.forecast import (
    DEFAULT_MODELS,
    Transform,
    as_panel,
    log_scale,
    panel_frame,
    statsforecast,
)
from streamwise.upstream.trends.models import build_models
from streamwise.upstream.trends.series import FREQUENCIES, SeriesPanel

__all__ = ["Backtest", "backtest", "mase", "seasonal_naive_scale"]


def seasonal_naive_scale(insample: np.ndarray, season: int) -> float:
    """Mean absolute error of the in-sample seasonal-naive forecast, ``mean |y_t − y_{t−m}|``."""
    y = np.asarray(insample, dtype=float)
    if len(y) <= season:
        raise ValueError(f"the in-sample series needs more than {season} values")
    return float(np.mean(np.abs(y[season:] - y[:-season])))


def mase(actual: np.ndarray, forecast: np.ndarray, insample: np.ndarray, season: int = 1) -> float:
    """Mean absolute scaled error (Hyndman & Koehler 2006, §3.4), scaled by the in-sample
    seasonal-naive error with season ``season`` (1: the naive random walk, their definition).

    Returns ``nan`` when the in-sample series never changes over a season (a zero scale).
    """
    scale = seasonal_naive_scale(insample, season)
    err = float(np.mean(np.abs(np.asarray(actual, float) - np.asarray(forecast, float))))
    return err / scale if scale > 0 else float("nan")


@dataclass(frozen=True)
class Backtest:
    """Backtest errors of every model.

    Attributes
    ----------
    errors
        One row per series, model and window: ``category, metric, model, cutoff`` (the last
        training period), ``mae``, ``scale`` (in-sample seasonal-naive MAE), ``mase`` and the
        share of actual values inside each prediction interval (``coverage_80``, ...).
    summary
        One row per series and model: ``category, metric, model, mase`` (mean over windows) and
        ``windows``.
    horizon, windows
        Periods per window and number of windows (of the first frequency when there are several).
    """

    errors: pd.DataFrame
    summary: pd.DataFrame
    horizon: int
    windows: int

    def best(self) -> dict[tuple[str, str], str]:
        """(category, metric) → the model with the lowest backtest MASE (ties: the earlier one
        in the model list, so the baseline wins only when it is strictly better)."""
        ok = self.summary.dropna(subset=["mase"])
        first = ok.loc[ok.groupby(["category", "metric"], sort=False)["mase"].idxmin()]
        return {(r.category, r.metric): r.model for r in first.itertuples()}

    def to_frame(self) -> pd.DataFrame:
        """The summary (the ``market_backtest`` table)."""
        return self.summary.copy()

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form."""
        return {
            "horizon": self.horizon,
            "windows": self.windows,
            "summary": self.summary.to_dict(orient="records"),
        }


def backtest(
    data: pd.DataFrame | SeriesPanel,
    *,
    horizon: int | None = None,
    windows: int = 4,
    models: Sequence[str] = DEFAULT_MODELS,
    levels: Sequence[int] = (80, 95),
    transform: Transform = "auto",
    n_jobs: int | None = None,
) -> Backtest:
    """Rolling-origin backtest of each model and the seasonal-naive baseline.

    Parameters
    ----------
    data
        A ``market_series`` frame or a checked panel.
    horizon
        Periods ahead scored in each window (default: about a quarter, 13 weeks or 3 months).
    windows
        Forecast origins, ``horizon`` periods apart, ending at the last period. Fewer are used
        when a series is short: every training part keeps two years for the seasonality.
    models, levels, transform, n_jobs
        As for :func:`~streamwise.upstream.trends.forecast.forecast_series`.

    Raises
    ------
    DataError
        A series is too short for even one window.
    """
    panel = as_panel(data)
    logs = log_scale(panel, transform)
    levels = tuple(sorted(int(lv) for lv in levels))
    parts, shape = [], (0, 0)
    for freq_name, positions in panel.by_frequency().items():
        freq = FREQUENCIES[freq_name]
        h = int(horizon) if horizon else freq.backtest_horizon
        shortest = min(positions, key=lambda i: len(panel.series[i]))
        n_windows = min(windows, (len(panel.series[shortest]) - 2 * max(freq.seasons)) // h)
        if n_windows < 1:
            s = panel.series[shortest]
            raise DataError(
                f"{s.name} has {len(s)} {freq.name} periods: too few for a backtest of {h} "
                f"periods after two years of training ({2 * max(freq.seasons) + h} needed); "
                "import more history or shorten the backtest horizon",
                source="market_series",
            )
        built = build_models(tuple(models), freq)
        sf = statsforecast(built, len(positions), n_jobs)
        cv = sf.cross_validation(
            df=panel_frame(panel, positions, logs),
            h=h,
            step_size=h,
            n_windows=n_windows,
            level=list(levels),
        )
        parts.append(
            _score(cv, panel, logs, [m.alias for m in built], levels, freq.baseline_season)
        )
        shape = shape if shape[0] else (h, n_windows)
    errors = pd.concat(parts, ignore_index=True)
    summary = (
        errors.groupby(["category", "metric", "model"], sort=False)
        .agg(mase=("mase", "mean"), windows=("mase", "size"))
        .reset_index()
    )
    return Backtest(errors, summary, *shape)


def _score(
    cv: pd.DataFrame,
    panel: SeriesPanel,
    logs: np.ndarray,
    names: list[str],
    levels: tuple[int, ...],
    season: int,
) -> pd.DataFrame:
    """Per series, window and model: MAE, scale, MASE and coverage (vectorised over rows)."""
    ids = cv["unique_id"].to_numpy().astype(np.int64)
    cutoffs = cv["cutoff"].to_numpy().astype(np.int64)
    pair_keys, window = np.unique(np.column_stack([ids, cutoffs]), axis=0, return_inverse=True)
    window = window.ravel()
    per_window = np.bincount(window).astype(float)
    back = logs[ids]

    def data_units(col: str) -> np.ndarray:
        v = cv[col].to_numpy(dtype=float, copy=True)
        v[back] = np.exp(v[back])
        return v

    def mean(v: np.ndarray) -> np.ndarray:
        return np.bincount(window, weights=v) / per_window

    # In-sample seasonal-naive MAE of each window's training part, from running sums.
    scale = np.empty(len(pair_keys))
    for uid in np.unique(pair_keys[:, 0]):
        rows = np.flatnonzero(pair_keys[:, 0] == uid)
        v = panel.series[int(uid)].values
        running = np.cumsum(np.abs(v[season:] - v[:-season]))
        cut = pair_keys[rows, 1]
        scale[rows] = running[cut - season] / (cut + 1 - season)
    y = data_units("y")
    series = [panel.series[int(i)] for i in pair_keys[:, 0]]
    frames = []
    for name in names:
        mae = mean(np.abs(y - np.maximum(data_units(name), 0.0)))
        part = {
            "category": [s.category for s in series],
            "metric": [s.metric for s in series],
            "model": name,
            "cutoff": [
                s.periods[c].astype(object) for s, c in zip(series, pair_keys[:, 1], strict=True)
            ],
            "mae": mae,
            "scale": scale,
            "mase": np.where(scale > 0, mae / np.where(scale > 0, scale, 1.0), np.nan),
        }
        for lv in levels:
            lo, hi = data_units(f"{name}-lo-{lv}"), data_units(f"{name}-hi-{lv}")
            part[f"coverage_{lv}"] = mean(((y >= lo) & (y <= hi)).astype(float))
        frames.append(pd.DataFrame(part))
    out = pd.concat(frames, ignore_index=True)
    out["model"] = pd.Categorical(out["model"], categories=names)
    out = out.sort_values(["category", "metric", "model", "cutoff"], kind="stable")
    out["model"] = out["model"].astype(str)
    return out.reset_index(drop=True)
