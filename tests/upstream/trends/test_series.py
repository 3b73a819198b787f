"""Frequencies are inferred from the periods; irregular, short or invalid series are refused
with the category named and what to do."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from streamwise.errors import ConfigError, DataError
from streamwise.upstream.trends import FREQUENCIES, build_models, forecast_series, prepare_series


def _frame(periods: pd.DatetimeIndex | list, category: str = "tents") -> pd.DataFrame:
    n = len(periods)
    return pd.DataFrame(
        {"category": category, "metric": "demand", "period": periods, "value": 100.0 + np.arange(n)}
    )


@pytest.mark.parametrize(
    ("periods", "name"),
    [
        (pd.date_range("2021-01-01", periods=800, freq="D"), "daily"),
        (pd.date_range("2022-01-03", periods=120, freq="W-MON"), "weekly"),
        (pd.date_range("2020-01-01", periods=30, freq="MS"), "monthly"),
        (pd.date_range("2020-01-31", periods=30, freq="ME"), "monthly"),
        (pd.date_range("2016-01-01", periods=12, freq="QS"), "quarterly"),
    ],
)
def test_frequency_is_inferred(periods: pd.DatetimeIndex, name: str) -> None:
    panel = prepare_series(_frame(periods))
    assert [s.frequency.name for s in panel] == [name]
    assert len(panel.series[0]) == len(periods)


def test_future_periods_follow_the_calendar() -> None:
    monthly = FREQUENCIES["monthly"]
    assert monthly.future(date(2024, 1, 31), 3) == [
        date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30),
    ]  # fmt: skip
    assert monthly.future(date(2024, 1, 1), 2) == [date(2024, 2, 1), date(2024, 3, 1)]
    assert FREQUENCIES["weekly"].future(date(2025, 12, 29), 1) == [date(2026, 1, 5)]


def test_too_short_is_refused_with_the_category_and_what_to_do() -> None:
    frame = pd.concat(
        [
            _frame(pd.date_range("2022-01-03", periods=130, freq="W-MON")),
            _frame(pd.date_range("2024-01-01", periods=60, freq="W-MON"), "kayaks"),
        ]
    )
    with pytest.raises(DataError, match=r"'kayaks'.*60 weekly periods.*at least 117.*history"):
        prepare_series(frame)


def test_a_missing_week_is_refused() -> None:
    periods = pd.date_range("2022-01-03", periods=130, freq="W-MON").delete(50)
    with pytest.raises(DataError, match=r"'tents'.*not evenly spaced.*2022-12-12.*fill"):
        prepare_series(_frame(periods))


def test_mixed_spacing_is_refused() -> None:
    periods = list(pd.date_range("2022-01-03", periods=60, freq="W-MON")) + list(
        pd.date_range("2023-03-01", periods=20, freq="MS")
    )
    with pytest.raises(DataError, match="not evenly spaced"):
        prepare_series(_frame(periods))


def test_repeated_period_missing_and_negative_values_are_refused() -> None:
    periods = pd.date_range("2022-01-03", periods=130, freq="W-MON")
    frame = _frame(periods)
    with pytest.raises(DataError, match=r"'tents'.*more than one value for 2022-01-03"):
        prepare_series(pd.concat([frame, frame.head(1)]))
    with pytest.raises(DataError, match="missing or negative"):
        prepare_series(frame.assign(value=frame["value"].where(frame.index != 5, -1.0)))
    with pytest.raises(DataError, match="missing or negative"):
        prepare_series(frame.assign(value=frame["value"].where(frame.index != 5, np.nan)))
    with pytest.raises(DataError, match="'period' is missing"):
        prepare_series(frame.drop(columns="period"))


def test_unknown_model_and_log_scale_with_zeros_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"unknown forecasting model.*'prophet'"):
        build_models(("prophet",), FREQUENCIES["weekly"])
    frame = _frame(pd.date_range("2022-01-03", periods=130, freq="W-MON"))
    frame.loc[3, "value"] = 0.0
    with pytest.raises(DataError, match="has zeros"):
        forecast_series(frame, horizon=4, models=("harmonic_theta",), transform="log")
