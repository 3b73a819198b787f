"""Forecasts per category and metric, with 80 % and 95 % prediction intervals.

Series that are positive throughout are modelled on the log scale (``transform="auto"``), which
turns multiplicative growth and seasonality into additive ones; forecasts and interval bounds are
transformed back with ``exp``, so the point forecast is the forecast median and the bounds keep
their coverage (quantiles commute with monotone maps). Many series run in parallel through one
``StatsForecast`` call per frequency (Garza et al. 2022, *StatsForecast*).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from statsforecast import StatsForecast

from streamwise.errors import DataError
from streamwise.upstream.trends.models import build_models
from streamwise.upstream.trends.series import FREQUENCIES, SeriesPanel, prepare_series

__all__ = [
    "DEFAULT_MODELS",
    "Forecast",
    "Transform",
    "as_panel",
    "forecast_series",
    "log_scale",
    "panel_frame",
    "statsforecast",
]

Transform = Literal["auto", "log", "none"]

#: Models ``run_trends`` compares by backtest when none are named (the baseline is always added).
DEFAULT_MODELS: tuple[str, ...] = ("harmonic_theta", "harmonic_ets", "mstl")


def as_panel(data: pd.DataFrame | SeriesPanel) -> SeriesPanel:
    """A checked :class:`SeriesPanel` from a ``market_series`` frame (or the panel itself)."""
    return data if isinstance(data, SeriesPanel) else prepare_series(data)


def log_scale(panel: SeriesPanel, transform: Transform) -> np.ndarray:
    """Per series: is it modelled on the log scale?

    Raises
    ------
    DataError
        ``transform="log"`` with a series that has zeros.
    """
    positive = np.array([bool(np.all(s.values > 0)) for s in panel])
    if transform == "none":
        return np.zeros(len(panel), dtype=bool)
    if transform == "log" and not positive.all():
        bad = next(s for s, ok in zip(panel, positive, strict=True) if not ok)
        raise DataError(
            f"{bad.name} has zeros, so it cannot be modelled on the log scale; "
            'use transform="auto" (logs only where every value is positive) or "none"',
            source="market_series",
        )
    return positive


def panel_frame(panel: SeriesPanel, positions: Sequence[int], logs: np.ndarray) -> pd.DataFrame:
    """The statsforecast input: ``unique_id`` (the position), ``ds`` (0, 1, ...), ``y``."""
    chosen = [panel.series[i] for i in positions]
    lengths = np.array([len(s) for s in chosen])
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    y = np.concatenate(
        [np.log(s.values) if logs[i] else s.values for i, s in zip(positions, chosen, strict=True)]
    )
    return pd.DataFrame(
        {
            "unique_id": np.repeat(np.asarray(positions), lengths),
            "ds": np.arange(lengths.sum()) - starts,
            "y": y,
        }
    )


def statsforecast(models: list[Any], n_series: int, n_jobs: int | None) -> StatsForecast:
    """A StatsForecast on integer time steps; parallel (all cores) from 100 series unless told."""
    jobs = n_jobs if n_jobs is not None else (-1 if n_series >= 100 else 1)
    return StatsForecast(models=models, freq=1, n_jobs=jobs)


def _level_cols(levels: Sequence[int]) -> list[str]:
    return [f"{side}_{lv}" for lv in levels for side in ("lo", "hi")]


@dataclass(frozen=True)
class Forecast:
    """Forecasts of every model for every series.

    Attributes
    ----------
    table
        ``category, metric, period, step, model, forecast`` and ``lo_L, hi_L`` per level ``L``,
        in the data's units.
    models
        The models (the seasonal-naive baseline last, when it was forecast).
    horizon
        Periods forecast.
    levels
        Prediction-interval levels (percent).
    """

    table: pd.DataFrame
    models: tuple[str, ...]
    horizon: int
    levels: tuple[int, ...]

    def of(self, choice: dict[tuple[str, str], str]) -> pd.DataFrame:
        """Only the rows of the chosen model per (category, metric)."""
        chosen = pd.Series(choice, name="model").rename_axis(["category", "metric"]).reset_index()
        return self.table.merge(chosen, on=["category", "metric", "model"])

    def to_frame(self) -> pd.DataFrame:
        """The forecast table."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form."""
        table = self.table.assign(period=self.table["period"].astype(str))
        return {
            "models": list(self.models),
            "horizon": self.horizon,
            "levels": list(self.levels),
            "forecasts": table.to_dict(orient="records"),
        }


def forecast_series(
    data: pd.DataFrame | SeriesPanel,
    *,
    horizon: int | None = None,
    models: Sequence[str] = DEFAULT_MODELS,
    levels: Sequence[int] = (80, 95),
    transform: Transform = "auto",
    baseline: bool = True,
    n_jobs: int | None = None,
) -> Forecast:
    """Forecast every (category, metric) series with each model and the seasonal-naive baseline.

    Parameters
    ----------
    data
        A ``market_series`` frame (``category, metric, period, value``) or a checked panel.
    horizon
        Periods ahead (default: one year, e.g. 52 weeks or 12 months).
    models
        Model names (see :data:`~streamwise.upstream.trends.models.MODELS`).
    levels
        Prediction-interval levels in percent.
    transform
        ``auto`` (logs for positive series), ``log`` or ``none``.
    baseline
        Also forecast with the seasonal-naive baseline (skip it to save time on many series).
    n_jobs
        Processes for statsforecast (default: 1 below 100 series, else every core).

    Returns
    -------
    Forecast
    """
    panel = as_panel(data)
    logs = log_scale(panel, transform)
    levels = tuple(sorted(int(lv) for lv in levels))
    frames, names = [], ()
    for freq_name, positions in panel.by_frequency().items():
        freq = FREQUENCIES[freq_name]
        h = int(horizon) if horizon else freq.year
        built = build_models(tuple(models), freq, baseline=baseline)
        names = tuple(m.alias for m in built)
        sf = statsforecast(built, len(positions), n_jobs)
        raw = sf.forecast(df=panel_frame(panel, positions, logs), h=h, level=list(levels))
        frames.append(_long(raw, panel, logs, names, levels))
    table = pd.concat(frames, ignore_index=True)
    steps = table.groupby(["category", "metric"])["step"].max()
    return Forecast(table, names, int(steps.max()), levels)


def _future_periods(panel: SeriesPanel, ids: np.ndarray, step: np.ndarray) -> np.ndarray:
    """The date ``step`` periods after the last period of series ``ids`` (``datetime64[D]``)."""
    out = np.empty(len(ids), dtype="datetime64[D]")
    first = panel.series[int(ids[0])].frequency
    if first.unit == "D":  # every series of one call shares the frequency
        last = np.array([panel.series[i].periods[-1] for i in range(len(panel))])
        return last[ids] + (step * first.step).astype("timedelta64[D]")
    for i in np.unique(ids):
        s = panel.series[int(i)]
        rows = np.flatnonzero(ids == i)
        dates = s.frequency.future(s.last, int(step[rows].max()))
        out[rows] = np.array(dates, dtype="datetime64[D]")[step[rows] - 1]
    return out


def _long(
    raw: pd.DataFrame,
    panel: SeriesPanel,
    logs: np.ndarray,
    names: tuple[str, ...],
    levels: tuple[int, ...],
) -> pd.DataFrame:
    """statsforecast's wide output → one row per series, period and model, in data units."""
    raw = raw.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    ids = raw["unique_id"].to_numpy().astype(np.int64)
    lengths = np.array([len(s) for s in panel])
    step = raw["ds"].to_numpy().astype(np.int64) - lengths[ids] + 1
    back = logs[ids]
    cats = np.array([s.category for s in panel], dtype=object)
    metrics = np.array([s.metric for s in panel], dtype=object)
    base = {
        "category": cats[ids],
        "metric": metrics[ids],
        "period": _future_periods(panel, ids, step),
        "step": step,
    }
    parts = []
    for name in names:
        cols = {"forecast": name} | {
            f"{side}_{lv}": f"{name}-{side}-{lv}" for lv in levels for side in ("lo", "hi")
        }
        part = dict(base, model=np.full(len(ids), name, dtype=object))
        for out, col in cols.items():
            v = raw[col].to_numpy(dtype=float, copy=True)
            v[back] = np.exp(v[back])
            part[out] = np.maximum(v, 0.0)  # demand is never negative
        parts.append(pd.DataFrame(part))
    out = pd.concat(parts, ignore_index=True)
    return out[["category", "metric", "period", "step", "model", "forecast", *_level_cols(levels)]]
