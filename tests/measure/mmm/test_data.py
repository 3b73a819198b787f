"""Building the weekly design: shapes, alignment and the errors that say what to fix."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from streamwise.errors import DataError
from streamwise.measure.mmm import MediaData


def long_spend(weeks: int = 30, channels: tuple[str, ...] = ("search", "social")) -> pd.DataFrame:
    periods = pd.date_range("2024-01-07", periods=weeks, freq="7D")
    rows = [
        {"period": p, "channel": c, "amount": 100.0 + i + 10 * j}
        for i, p in enumerate(periods)
        for j, c in enumerate(channels)
    ]
    return pd.DataFrame(rows)


def outcome(weeks: int = 30) -> pd.Series:
    return pd.Series(
        np.arange(weeks, dtype=float) + 50,
        index=pd.date_range("2024-01-07", periods=weeks, freq="7D"),
    )


def test_long_and_wide_give_the_same_design() -> None:
    data = MediaData.from_frames(long_spend(), outcome())
    assert data.channels == ("search", "social")
    assert data.n_weeks == 30
    wide = MediaData.from_frames(data.spend, outcome())
    pd.testing.assert_frame_equal(wide.spend, data.spend)
    assert data.to_dict()["total_spend"]["social"] == pytest.approx(
        sum(110.0 + i for i in range(30))
    )
    assert list(data.to_frame().columns) == ["search", "social", "outcome"]


def test_outcome_is_trimmed_to_the_spend_weeks() -> None:
    y = pd.concat([outcome(30), pd.Series([9.0], index=[pd.Timestamp("2025-06-01")])])
    assert MediaData.from_frames(long_spend(), y).n_weeks == 30


def test_missing_week_is_named() -> None:
    spend = long_spend()
    spend = spend[spend["period"] != pd.Timestamp("2024-02-04")]
    with pytest.raises(DataError, match=r"missing for week\(s\) 2024-02-04.*amount 0"):
        MediaData.from_frames(spend, outcome())


def test_missing_channel_week_is_named() -> None:
    spend = long_spend()
    spend = spend[
        ~((spend["period"] == pd.Timestamp("2024-03-03")) & (spend["channel"] == "social"))
    ]
    with pytest.raises(DataError, match=r"social: 2024-03-03"):
        MediaData.from_frames(spend, outcome())


def test_negative_spend_is_refused() -> None:
    spend = long_spend()
    spend.loc[3, "amount"] = -5.0
    with pytest.raises(DataError, match="negative spend for channel"):
        MediaData.from_frames(spend, outcome())


def test_channel_without_spend_is_refused_with_what_to_do() -> None:
    spend = long_spend()
    spend.loc[spend["channel"] == "social", "amount"] = 0.0
    with pytest.raises(DataError, match=r"social have no spend.*leave them out"):
        MediaData.from_frames(spend, outcome())
    data = MediaData.from_frames(spend, outcome(), channels=["search"])
    assert data.channels == ("search",)


def test_off_grid_periods_and_gaps_in_outcome() -> None:
    spend = long_spend()
    spend.loc[0, "period"] = pd.Timestamp("2024-01-08")
    with pytest.raises(DataError, match="weekly grid"):
        MediaData.from_frames(spend, outcome())
    y = outcome().drop(pd.Timestamp("2024-02-11"))
    with pytest.raises(DataError, match=r"outcome is missing for week\(s\) 2024-02-11"):
        MediaData.from_frames(long_spend(), y)


def test_too_few_weeks_and_unknown_channel() -> None:
    with pytest.raises(DataError, match="at least 26"):
        MediaData.from_frames(long_spend(10), outcome(10))
    with pytest.raises(DataError, match="no spend for channel"):
        MediaData.from_frames(long_spend(), outcome(), channels=["radio"])


def test_from_workspace_counts_signups_per_spend_week(tmp_path) -> None:
    from streamwise.workspace import Workspace

    spend = long_spend(30)
    signups = pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(6)],
            "signup_date": [
                date(2024, 1, 7),  # first day of week 0
                date(2024, 1, 13),  # last day of week 0
                date(2024, 1, 14),  # week 1
                date(2024, 1, 20),
                date(2024, 1, 20),
                date(2024, 8, 3),  # last day of week 29
            ],
        }
    )
    with Workspace.init(tmp_path / "ws") as ws:
        con = ws.duckdb()
        con.register("sp", spend)
        con.execute("INSERT INTO spend (period, channel, amount) SELECT * FROM sp")
        con.register("cu", signups)
        con.execute("INSERT INTO customers (customer_id, signup_date) SELECT * FROM cu")
        sparse = MediaData.from_workspace(ws)  # weeks without signups had 0 new customers
        assert sparse.outcome.iloc[:4].tolist() == [2.0, 3.0, 0.0, 0.0]
        con.execute(
            "INSERT INTO customers (customer_id, signup_date) "
            "SELECT 'D' || i, DATE '2024-01-21' + CAST(7 * i AS INTEGER) FROM range(28) t(i)"
        )
        data = MediaData.from_workspace(ws)
    assert data.n_weeks == 30
    assert data.outcome.iloc[:3].tolist() == [2.0, 3.0, 1.0]
    assert data.outcome.iloc[-1] == 2.0
    assert data.outcome.name == "new_customers"
