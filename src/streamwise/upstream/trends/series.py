"""Market series as the forecasters need them: checked, regular, one array per series.

The ``market_series`` contract holds one row per (category, metric, period). Here each
(category, metric) pair becomes one :class:`Series`, its frequency inferred from the periods
(daily, weekly, monthly or quarterly) and refused, with the category named, when the periods are
irregular or too few for a yearly seasonality.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from streamwise.errors import DataError

__all__ = [
    "FREQUENCIES",
    "Frequency",
    "Series",
    "SeriesPanel",
    "infer_frequency",
    "prepare_series",
]

FrequencyName = Literal["daily", "weekly", "monthly", "quarterly"]


@dataclass(frozen=True)
class Frequency:
    """What a regular frequency implies for trends and seasonality.

    Attributes
    ----------
    name
        ``daily``, ``weekly``, ``monthly`` or ``quarterly``.
    unit
        ``"D"`` (steps counted in days) or ``"M"`` (steps counted in months).
    step
        Length of one period in ``unit`` (7 days for weekly, 3 months for quarterly).
    periods_per_year
        Periods in an average year (365.25 / 7 for weekly), for growth rates and Fourier terms.
    year
        Whole periods in a year (52 for weekly): a seasonal lag and the "next year" sums.
    seasons
        Integer season lengths for MSTL, shortest first (7 and 365 for daily).
    harmonic_periods
        Exact (possibly fractional) periods for Fourier seasonality (7 and 365.25 for daily).
    baseline_season
        Lag of the seasonal-naive baseline and of the MASE scale (7 for daily, else ``year``).
    backtest_horizon
        Default periods ahead scored in each backtest window (about a quarter, 28 days daily).
    """

    name: FrequencyName
    unit: Literal["D", "M"]
    step: int
    periods_per_year: float
    year: int
    seasons: tuple[int, ...]
    harmonic_periods: tuple[float, ...]
    baseline_season: int
    backtest_horizon: int

    @property
    def step_days(self) -> float:
        """Average length of a period in days."""
        return float(self.step) if self.unit == "D" else self.step * 365.25 / 12

    def future(self, last: date, h: int) -> list[date]:
        """The ``h`` periods after ``last``."""
        if self.unit == "D":
            return [last + timedelta(days=self.step * k) for k in range(1, h + 1)]
        stamp = pd.Timestamp(last)
        month_end = stamp.is_month_end and stamp.day != 1
        out = []
        for k in range(1, h + 1):
            nxt = stamp + pd.DateOffset(months=self.step * k)
            if month_end:
                nxt = nxt + pd.offsets.MonthEnd(0)
            out.append(nxt.date())
        return out


FREQUENCIES: dict[str, Frequency] = {
    "daily": Frequency("daily", "D", 1, 365.25, 365, (7, 365), (7.0, 365.25), 7, 28),
    "weekly": Frequency("weekly", "D", 7, 365.25 / 7, 52, (52,), (365.25 / 7,), 52, 13),
    "monthly": Frequency("monthly", "M", 1, 12.0, 12, (12,), (12.0,), 12, 3),
    "quarterly": Frequency("quarterly", "M", 3, 4.0, 4, (4,), (4.0,), 4, 2),
}


@dataclass(frozen=True)
class Series:
    """One regular series: a (category, metric) pair, its periods and values.

    ``periods`` is a ``datetime64[D]`` array, ``values`` a float array of the same length.
    """

    category: str
    metric: str
    frequency: Frequency
    periods: np.ndarray = field(repr=False)
    values: np.ndarray = field(repr=False)

    @property
    def name(self) -> str:
        """How messages name the series."""
        return f"category {self.category!r} (metric {self.metric!r})"

    @property
    def dates(self) -> list[date]:
        """The periods as dates."""
        return list(self.periods.astype(object))

    @property
    def last(self) -> date:
        """The last period."""
        return self.periods[-1].astype(object)  # type: ignore[no-any-return]

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class SeriesPanel:
    """Checked series, in (category, metric) order."""

    series: tuple[Series, ...]

    def __iter__(self) -> Iterator[Series]:
        return iter(self.series)

    def __len__(self) -> int:
        return len(self.series)

    def by_frequency(self) -> dict[str, list[int]]:
        """Frequency name → positions of the series with that frequency."""
        groups: dict[str, list[int]] = {}
        for i, s in enumerate(self.series):
            groups.setdefault(s.frequency.name, []).append(i)
        return groups

    def to_frame(self) -> pd.DataFrame:
        """Long frame: ``category, metric, period, value``."""
        return pd.DataFrame(
            {
                "category": np.repeat([s.category for s in self], [len(s) for s in self]),
                "metric": np.repeat([s.metric for s in self], [len(s) for s in self]),
                "period": np.concatenate([s.periods for s in self]) if self.series else [],
                "value": np.concatenate([s.values for s in self]) if self.series else [],
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """Per series: category, metric, frequency, periods, first and last period."""
        return {
            "series": [
                {
                    "category": s.category,
                    "metric": s.metric,
                    "frequency": s.frequency.name,
                    "periods": len(s),
                    "first": str(s.periods[0]),
                    "last": str(s.periods[-1]),
                }
                for s in self
            ]
        }


def _month_index(days: pd.DatetimeIndex) -> np.ndarray:
    return np.asarray(days.year * 12 + days.month - 1, dtype=np.int64)


def infer_frequency(periods: pd.DatetimeIndex, name: str = "the series") -> Frequency:
    """The regular frequency of sorted, distinct ``periods``.

    Raises
    ------
    DataError
        The periods are not evenly spaced days, weeks, months or quarters (with the first gap or
        step that breaks the pattern, and what to do about it).
    """
    if len(periods) < 3:
        raise DataError(
            f"{name} has {len(periods)} period(s); trends need at least two years of regular "
            "periods",
            source="market_series",
        )
    gaps = np.diff(periods.values).astype("timedelta64[D]").astype(np.int64)
    months = np.diff(_month_index(periods))
    same_day = bool(np.all(periods.day == periods.day[0])) or bool(np.all(periods.is_month_end))
    if np.all(gaps == 1):
        return FREQUENCIES["daily"]
    if np.all(gaps == 7):
        return FREQUENCIES["weekly"]
    if same_day and np.all(months == 1):
        return FREQUENCIES["monthly"]
    if same_day and np.all(months == 3):
        return FREQUENCIES["quarterly"]
    # Say which step breaks the pattern that most steps follow.
    typical = int(np.median(gaps))
    limits = ((3, "daily"), (10, "weekly"), (45, "monthly"), (np.inf, "quarterly"))
    expected = next(label for limit, label in limits if typical <= limit)
    freq = FREQUENCIES[expected]
    if freq.unit == "D":
        wrong = gaps != freq.step
    else:
        ends = np.asarray(periods.is_month_end)
        same = (np.asarray(periods.day[1:]) == np.asarray(periods.day[:-1])) | (
            ends[1:] & ends[:-1]
        )
        wrong = (months != freq.step) | ~same
    bad = int(np.flatnonzero(wrong)[0]) if wrong.any() else 0
    a, b = periods[bad].date(), periods[bad + 1].date()
    raise DataError(
        f"{name}: periods are not evenly spaced ({expected} periods expected, but {a} is "
        f"followed by {b}, {(b - a).days} days later); trends need one row per day, week, month "
        "or quarter without gaps: fill missing periods (with 0 where nothing was counted) or "
        "re-aggregate the data to a regular frequency",
        source="market_series",
    )


def _fail(message: str, column: str | None = None) -> DataError:
    return DataError(message, source="market_series", column=column)


def prepare_series(
    frame: pd.DataFrame, *, min_periods: dict[str, int] | None = None
) -> SeriesPanel:
    """Split a ``market_series`` frame into checked regular series.

    The checks are vectorised over all rows (10,000 weekly series take well under a second);
    only series that are not daily or weekly have their months examined one by one.

    Parameters
    ----------
    frame
        Columns ``category``, ``period`` and ``value``; ``metric`` optional (default
        ``"demand"``). One row per (category, metric, period).
    min_periods
        Frequency name → the fewest periods a series of that frequency may have (default: two
        years of the longest season plus one backtest window, e.g. 104 + 13 weeks).

    Raises
    ------
    DataError
        A required column is missing, values are missing or negative, a period repeats, the
        periods are irregular, or a series is too short.
    """
    for col in ("category", "period", "value"):
        if col not in frame.columns:
            raise _fail(f"column {col!r} is missing", col)
    if frame.empty:
        raise _fail("there are no market series to analyse")
    cat_codes, cats = pd.factorize(frame["category"].astype(str), sort=True)
    metric = frame["metric"].astype(str) if "metric" in frame.columns else "demand"
    met_codes, mets = pd.factorize(pd.Series(metric, index=frame.index), sort=True)
    days = pd.to_datetime(frame["period"]).to_numpy().astype("datetime64[D]")
    values = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype=float)
    key = cat_codes.astype(np.int64) * len(mets) + met_codes
    order = np.lexsort((days, key))
    key, days, values = key[order], days[order], values[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], len(key)]

    def name(g: int) -> str:
        k = int(key[starts[g]])
        return f"category {cats[k // len(mets)]!r} (metric {mets[k % len(mets)]!r})"

    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        g = int(np.searchsorted(starts, np.flatnonzero(bad)[0], side="right") - 1)
        raise _fail(
            f"{name(g)} has missing or negative values; values must be numbers ≥ 0", "value"
        )
    step = np.diff(days).astype(np.int64)
    inner = np.ones(len(step), dtype=bool)
    inner[ends[:-1] - 1] = False  # the step from one series to the next
    repeated = np.flatnonzero(inner & (step == 0))
    if len(repeated):
        g = int(np.searchsorted(starts, repeated[0], side="right") - 1)
        raise _fail(
            f"{name(g)} has more than one value for {days[repeated[0]]}; keep one row per period",
            "period",
        )
    lo = np.where(inner, step, np.iinfo(np.int64).max)
    hi = np.where(inner, step, np.iinfo(np.int64).min)
    out = []
    for g, (a, b) in enumerate(zip(starts, ends, strict=True)):
        if b - a < 3:
            freq = infer_frequency(pd.DatetimeIndex(days[a:b]), name(g))
        else:
            smallest, largest = lo[a : b - 1].min(), hi[a : b - 1].max()
            if smallest == largest == 7:
                freq = FREQUENCIES["weekly"]
            elif smallest == largest == 1:
                freq = FREQUENCIES["daily"]
            else:
                freq = infer_frequency(pd.DatetimeIndex(days[a:b]), name(g))
        need = (min_periods or {}).get(freq.name, 2 * max(freq.seasons) + freq.backtest_horizon)
        if b - a < need:
            raise _fail(
                f"{name(g)} has {b - a} {freq.name} periods; trends need at least {need} (two "
                f"years for the yearly seasonality, plus a backtest window of "
                f"{freq.backtest_horizon}): import more history for it, or leave it out"
            )
        k = int(key[a])
        out.append(
            Series(
                str(cats[k // len(mets)]), str(mets[k % len(mets)]), freq, days[a:b], values[a:b]
            )
        )
    return SeriesPanel(tuple(out))
