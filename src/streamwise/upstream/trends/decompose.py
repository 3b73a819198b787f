"""Trend and seasonality: decomposition, annual growth with a confidence interval, seasonal
amplitude and peak, and the emerging / declining / stable flag.

Each series is decomposed by MSTL (Bandara, Hyndman & Bergmeir 2021), which applies STL
(Cleveland et al. 1990) once per seasonal period; positive series are decomposed on the log scale,
so that ``observed = trend × seasonal factor × remainder factor``. The components are reported in
the data's units and add up, ``observed = trend + seasonal + remainder``. On the log scale, with
log trend ``T`` and log seasonal ``S`` (which averages zero), ``trend = c·exp(T)`` and
``seasonal = exp(T)·(exp(S) − c)``, where ``c`` is the mean of ``exp(S)`` over the last year: the
trend is then the level of an average period of the year (the seasonal factors average one), not
the geometric mean, which a strong season pulls below it (by 4 % for a season of ±40 %).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats
from statsforecast.mstl import mstl

from streamwise.upstream.trends.forecast import Transform, as_panel, log_scale
from streamwise.upstream.trends.models import fourier
from streamwise.upstream.trends.series import Series, SeriesPanel

__all__ = [
    "Decomposition",
    "GrowthRate",
    "SeasonalShape",
    "Status",
    "classify",
    "decompose",
    "growth_rate",
    "seasonal_shape",
    "week_of_year",
]

Status = Literal["emerging", "declining", "stable"]


@dataclass(frozen=True)
class GrowthRate:
    """Annual growth from a log-linear trend.

    ``rate = exp(b) − 1`` where ``b`` is the least-squares slope of the seasonally adjusted log
    series on time in years (``b / mean`` for a series modelled in its own units); ``lo`` and
    ``hi`` bound it at ``confidence`` with a Newey & West (1987) standard error (Bartlett
    kernel, lag ⌊4 (n/100)^{2/9}⌋, Newey & West 1994), which allows for the autocorrelation a
    trend's remainder has.
    """

    rate: float
    lo: float
    hi: float
    slope: float
    se: float
    n: int
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form."""
        return asdict(self)


def growth_rate(
    adjusted: np.ndarray,
    years: np.ndarray,
    *,
    window: float = 2.0,
    confidence: float = 0.95,
    log: bool = True,
) -> GrowthRate:
    """Annual growth of a seasonally adjusted log series over its last ``window`` years.

    Parameters
    ----------
    adjusted
        Seasonally adjusted values on the log scale (trend + remainder).
    years
        Time of each value in years (any origin).
    window
        Years at the end of the series used (all of it when shorter).
    confidence
        Level of the interval.
    log
        ``adjusted`` is on the log scale (``rate = exp(b) − 1``); else it is in the data's units
        and the growth is linear: ``rate = b / mean``, the slope relative to the window's mean.
    """
    keep = years >= years[-1] - window + 1e-9
    y, x = np.asarray(adjusted, float)[keep], np.asarray(years, float)[keep]
    n = len(y)
    xc = x - x.mean()
    sxx = float(xc @ xc)
    slope = float(xc @ (y - y.mean())) / sxx
    e = y - y.mean() - slope * xc
    u = xc * e
    lags = int(np.floor(4 * (n / 100) ** (2 / 9)))
    meat = float(u @ u)
    for lag in range(1, lags + 1):
        meat += 2 * (1 - lag / (lags + 1)) * float(u[lag:] @ u[:-lag])
    se = float(np.sqrt(max(meat, 0.0)) / sxx)
    q = float(stats.t.ppf((1 + confidence) / 2, n - 2))
    bounds = np.array([slope, slope - q * se, slope + q * se])
    if log:
        rate, lo, hi = np.expm1(bounds)
    else:
        mean = float(y.mean())
        rate, lo, hi = bounds / mean if mean > 0 else np.full(3, np.nan)
    return GrowthRate(
        rate=float(rate),
        lo=float(lo),
        hi=float(hi),
        slope=slope,
        se=se,
        n=n,
        confidence=confidence,
    )


def classify(
    rate: float, lo: float, hi: float, *, emerging: float = 0.15, declining: float = -0.05
) -> Status:
    """``emerging`` when growth reaches ``emerging`` a year and its interval lies above zero,
    ``declining`` when it reaches ``declining`` and its interval lies below zero, else
    ``stable``."""
    if rate >= emerging and lo > 0:
        return "emerging"
    if rate <= declining and hi < 0:
        return "declining"
    return "stable"


def week_of_year(day: date) -> int:
    """Week of the year, 1–52: ``⌊(day of year − 1) / 7⌋ + 1``, the 53rd week counted as 52."""
    return min((day.timetuple().tm_yday - 1) // 7 + 1, 52)


@dataclass(frozen=True)
class SeasonalShape:
    """The yearly seasonal pattern: relative amplitude, the peak's date and week of the year.

    ``amplitude`` is half the peak-to-trough range relative to the level, so that a season that
    multiplies demand by ``1 ± a`` has amplitude ``a``.
    """

    amplitude: float
    peak: date
    peak_week: int


def seasonal_shape(
    seasonal: np.ndarray,
    periods: np.ndarray,
    periods_per_year: float,
    *,
    log: bool,
    level: float = 1.0,
    harmonics: int = 4,
) -> SeasonalShape:
    """Amplitude and peak of the yearly seasonal component.

    The component is smoothed by its first ``harmonics`` Fourier terms with the exact yearly
    period (e.g. 52.18 weeks), so that noise does not inflate its range: the amplitude is half the
    smoothed range (``tanh(range / 2)`` on the log scale, which is ``a`` for a season
    ``1 + a cos(·)``). The peak is where the yearly fundamental (the first harmonic) peaks, in the
    last year: the centre of the high season, which noise moves far less than the maximum of a
    flat-topped profile (on the sample market: within 0.6 weeks, against up to 3 weeks for the
    maximum of the 4-harmonic profile).

    Parameters
    ----------
    seasonal
        The yearly seasonal component (log scale when ``log``).
    periods
        The periods of the series (``datetime64[D]``).
    periods_per_year
        Periods in a year (365.25 / 7 for weekly).
    log
        Whether ``seasonal`` is on the log scale.
    level
        Level in the data's units, to make an additive amplitude relative.
    harmonics
        Fourier pairs of the smoothed profile.
    """
    n = len(seasonal)
    t = np.arange(n, dtype=float)
    k = int(max(1, min(harmonics, np.ceil(periods_per_year / 2) - 1)))
    design = np.column_stack([np.ones(n), fourier(t, periods_per_year, k)])
    coef, *_ = np.linalg.lstsq(design, np.asarray(seasonal, float), rcond=None)
    grid = np.linspace(n - periods_per_year, n, 2001)
    profile = fourier(grid, periods_per_year, k) @ coef[1:]
    spread = float(profile.max() - profile.min())
    if log:
        amplitude = float(np.tanh(spread / 2))
    else:
        amplitude = spread / 2 / level if level > 0 else float("nan")
    fundamental = fourier(grid, periods_per_year, 1) @ coef[1:3]
    first: date = periods[0].astype(object)
    step_days = int((periods[-1] - periods[0]).astype(np.int64)) / max(n - 1, 1)
    peak = first + timedelta(days=float(grid[int(np.argmax(fundamental))] * step_days))
    return SeasonalShape(amplitude, peak, week_of_year(peak))


@dataclass(frozen=True)
class Decomposition:
    """Components and the trend summary of every series.

    Attributes
    ----------
    components
        ``category, metric, period, observed, trend, seasonal, remainder`` (data units).
    summary
        One row per series: ``category, metric, periods, last_period, level`` (trend at the last
        period), ``annual_growth, growth_lo, growth_hi, seasonal_amplitude, peak_week, status``.
    """

    components: pd.DataFrame
    summary: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The summary."""
        return self.summary.copy()

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (the summary)."""
        summary = self.summary.assign(last_period=self.summary["last_period"].astype(str))
        return {"summary": summary.to_dict(orient="records")}


def _one(
    s: Series, log: bool, window: float, confidence: float, emerging: float, declining: float
) -> tuple[pd.DataFrame, dict[str, Any]]:
    freq = s.frequency
    x = np.log(s.values) if log else s.values
    seasons: list[int] | int = list(freq.seasons) if len(freq.seasons) > 1 else freq.seasons[0]
    parts = mstl(x, seasons)
    seas_cols = [c for c in parts.columns if c.startswith("seasonal")]
    trend = parts["trend"].to_numpy()
    seasonal = parts[seas_cols].sum(axis=1).to_numpy()
    yearly = parts[seas_cols[-1]].to_numpy()
    days = (s.periods - s.periods[0]).astype(np.int64).astype(float)
    years = days / 365.25
    if log:
        c = float(np.mean(np.exp(seasonal[-freq.year :])))
        trend_u = c * np.exp(trend)
        seasonal_u = np.exp(trend) * (np.exp(seasonal) - c)
        growth = growth_rate(x - seasonal, years, window=window, confidence=confidence)
        level = float(trend_u[-1])
        shape = seasonal_shape(yearly, s.periods, freq.periods_per_year, log=True)
    else:
        trend_u, seasonal_u = trend, seasonal
        growth = growth_rate(x - seasonal, years, window=window, confidence=confidence, log=False)
        level = float(trend[-1])
        last_year = trend[-freq.year :]
        shape = seasonal_shape(
            yearly, s.periods, freq.periods_per_year, log=False, level=float(np.mean(last_year))
        )
    components = pd.DataFrame(
        {
            "category": s.category,
            "metric": s.metric,
            "period": s.dates,
            "observed": s.values,
            "trend": trend_u,
            "seasonal": seasonal_u,
            "remainder": s.values - trend_u - seasonal_u,
        }
    )
    summary = {
        "category": s.category,
        "metric": s.metric,
        "periods": len(s),
        "last_period": s.last,
        "level": level,
        "annual_growth": growth.rate,
        "growth_lo": growth.lo,
        "growth_hi": growth.hi,
        "seasonal_amplitude": shape.amplitude,
        "peak_week": shape.peak_week,
        "status": classify(
            growth.rate, growth.lo, growth.hi, emerging=emerging, declining=declining
        ),
    }
    return components, summary


def decompose(
    data: pd.DataFrame | SeriesPanel,
    *,
    transform: Transform = "auto",
    growth_years: float = 2.0,
    confidence: float = 0.95,
    emerging: float = 0.15,
    declining: float = -0.05,
) -> Decomposition:
    """Decompose every series and summarise its trend and seasonality.

    Parameters
    ----------
    data
        A ``market_series`` frame or a checked panel.
    transform
        ``auto`` (log scale for positive series), ``log`` or ``none``.
    growth_years
        Years at the end of each series from which the annual growth is estimated.
    confidence
        Level of the growth interval.
    emerging, declining
        Annual growth at or beyond which a category is flagged (see :func:`classify`).
    """
    panel = as_panel(data)
    logs = log_scale(panel, transform)
    comps, rows = [], []
    for s, log in zip(panel, logs, strict=True):
        c, r = _one(s, bool(log), growth_years, confidence, emerging, declining)
        comps.append(c)
        rows.append(r)
    return Decomposition(pd.concat(comps, ignore_index=True), pd.DataFrame(rows))
