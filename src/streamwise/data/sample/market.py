"""Weekly category demand of the sample market (the ``market_series`` table).

For category *c* and the week starting on Monday ``d`` (every Monday from the first one on or
after ``cfg.start`` to the last one on or before ``cfg.end``)::

    expected = level_c * (1 + growth_c) ** years * (1 + amplitude_c * cos(2π (w − peak_c) / P))
    value    = expected * exp(e − σ²/2),   e ~ N(0, σ²),  σ = 0.06

where ``years`` = (d − first Monday) / 365.25 days, ``w`` = (day of year of d − 1) / 7 + 1 is
the fractional week of the year, ``peak_c`` the planted peak week (1–52) and P = 365.25 / 7.
The noise has mean one, so ``expected`` is the mean of ``value``. Emerging categories grow by at
least 15 % a year, declining ones shrink by at least 5 % a year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from streamwise.data.sample.names import CATEGORIES
from streamwise.data.sample.survey import to_plain

__all__ = ["DECLINING_GROWTH", "EMERGING_GROWTH", "MarketTruth", "generate_market", "mondays"]

EMERGING_GROWTH = 0.15
DECLINING_GROWTH = -0.05
_NOISE_SD = 0.06
_WEEKS_PER_YEAR = 365.25 / 7
#: Category → (weekly level, annual growth, seasonal amplitude, peak week).
_PARAMS: dict[str, tuple[float, float, float, float]] = {
    "tents": (5_000.0, 0.03, 0.50, 24.0),
    "backpacks": (4_000.0, 0.02, 0.25, 32.0),
    "footwear": (8_000.0, -0.08, 0.20, 36.0),
    "apparel": (12_000.0, 0.04, 0.35, 45.0),
    "climbing": (1_500.0, 0.25, 0.30, 22.0),
    "camp kitchen": (1_200.0, 0.35, 0.40, 26.0),
    "sleeping": (2_500.0, 0.00, 0.45, 25.0),
    "winter sports": (3_000.0, -0.15, 0.80, 1.0),
}


@dataclass(frozen=True)
class MarketTruth:
    """Planted market trends.

    Attributes
    ----------
    metric
        The ``metric`` column's value.
    level
        Category → expected weekly demand in the first week, before seasonality.
    growth
        Category → annual growth rate (0.25 = +25 % a year).
    amplitude
        Category → seasonal amplitude (relative: the season multiplies by 1 ± amplitude).
    peak_week
        Category → week of the year at which the season peaks.
    noise_sd
        Standard deviation of the log noise.
    emerging, declining
        Categories with growth ≥ 15 % a year, ≤ −5 % a year.
    expected
        Noise-free expected series: ``category``, ``period``, ``expected``.
    """

    metric: str
    level: dict[str, float]
    growth: dict[str, float]
    amplitude: dict[str, float]
    peak_week: dict[str, float]
    noise_sd: float
    emerging: tuple[str, ...]
    declining: tuple[str, ...]
    expected: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form."""
        return to_plain(self)


def mondays(start: date, end: date) -> list[date]:
    """Every Monday from the first on or after ``start`` to the last on or before ``end``."""
    first = start + timedelta(days=(7 - start.weekday()) % 7)
    n = (end - first).days // 7 + 1
    return [first + timedelta(weeks=k) for k in range(max(n, 0))]


def generate_market(
    start: date, end: date, rng: np.random.Generator
) -> tuple[pd.DataFrame, MarketTruth]:
    """The ``market_series`` table and its truth.

    Parameters
    ----------
    start, end
        The trading period (``cfg.start``, ``cfg.end``).
    rng
        Random stream for the noise.

    Returns
    -------
    tuple of (pandas.DataFrame, MarketTruth)
        Columns ``category``, ``metric``, ``period`` (a ``datetime.date``, a Monday), ``value``.
    """
    periods = mondays(start, end)
    days = np.array([(d - periods[0]).days for d in periods], dtype=float) if periods else []
    years = np.asarray(days) / 365.25
    week = np.array([(d.timetuple().tm_yday - 1) / 7 + 1 for d in periods])
    frames, expected_frames = [], []
    for cat in CATEGORIES:
        level, growth, amp, peak = _PARAMS[cat]
        season = 1 + amp * np.cos(2 * np.pi * (week - peak) / _WEEKS_PER_YEAR)
        expected = level * (1 + growth) ** years * season
        noise = np.exp(_NOISE_SD * rng.standard_normal(len(periods)) - _NOISE_SD**2 / 2)
        value = np.round(expected * noise, 1)
        frames.append(
            pd.DataFrame({"category": cat, "metric": "demand", "period": periods, "value": value})
        )
        expected_frames.append(
            pd.DataFrame({"category": cat, "period": periods, "expected": expected})
        )
    table = pd.concat(frames, ignore_index=True)
    table["period"] = table["period"].astype(object)
    truth = MarketTruth(
        metric="demand",
        level={c: p[0] for c, p in _PARAMS.items()},
        growth={c: p[1] for c, p in _PARAMS.items()},
        amplitude={c: p[2] for c, p in _PARAMS.items()},
        peak_week={c: p[3] for c, p in _PARAMS.items()},
        noise_sd=_NOISE_SD,
        emerging=tuple(c for c, p in _PARAMS.items() if p[1] >= EMERGING_GROWTH),
        declining=tuple(c for c, p in _PARAMS.items() if p[1] <= DECLINING_GROWTH),
        expected=pd.concat(expected_frames, ignore_index=True),
    )
    return table, truth
