from __future__ import annotations

import os
from pathlib import Path

import ibis
import pandas as pd
import pytest

from streamwise.errors import DataError
from streamwise.upstream.customers import summarize

CDNOW = (
    Path(__file__).resolve().parents[3].parent / "shared" / "data" / "cdnow" / "CDNOW_sample.txt"
)


def cdnow() -> pd.DataFrame:
    if not CDNOW.exists():
        reason = f"reference data not found at {CDNOW} (../shared/data beside the checkout)"
        if os.environ.get("STREAMWISE_REQUIRE_SERVICES"):
            pytest.fail(reason + "; CI must have it")
        pytest.skip(reason)
    raw = pd.read_csv(
        CDNOW, sep=r"\s+", header=None, names=["master", "customer_id", "date", "cds", "amount"],
        dtype={"date": str},
    )  # fmt: skip
    raw["order_date"] = pd.to_datetime(raw["date"])
    return raw


DATES = "2024-01-01 2024-01-01T18:00 2024-01-15 2024-02-12 2024-01-29 2024-01-08 2024-03-04"
ORDERS = pd.DataFrame(
    {
        "customer_id": ["a", "a", "a", "a", "b", "c", "c"],
        "order_date": pd.to_datetime(DATES.split(), format="ISO8601"),
        "amount": [10.0, 5.0, 20.0, 40.0, 7.0, 3.0, 9.0],
    }
)


def test_hand_computed_summary_in_days_and_weeks() -> None:
    days = summarize(ORDERS, unit="D").set_index("customer_id")
    # a: first day 01-01 (two orders merged), repeats on 01-15 and 02-12; data end 03-04.
    assert days.loc["a", ["frequency", "recency", "T", "monetary_value"]].tolist() == [
        2, 42.0, 63.0, 30.0
    ]  # fmt: skip
    assert days.loc["b", ["frequency", "recency", "T", "monetary_value"]].tolist() == [
        0, 0.0, 35.0, 0.0
    ]  # fmt: skip
    weeks = summarize(ORDERS, unit="W").set_index("customer_id")
    assert weeks.loc["a", "recency"] == pytest.approx(6.0)
    assert weeks.loc["a", "T"] == pytest.approx(9.0)


def test_calibration_and_holdout() -> None:
    s = summarize(ORDERS, unit="D", calibration_end="2024-01-31").set_index("customer_id")
    assert s.loc["a", ["frequency", "T", "frequency_holdout"]].tolist() == [1, 30.0, 1]
    assert s.loc["c", ["frequency", "frequency_holdout", "monetary_holdout"]].tolist() == [
        0, 1, 9.0
    ]  # fmt: skip
    assert (s["duration_holdout"] == 33.0).all()


def test_observation_end_leaves_out_later_orders() -> None:
    # a: repeats on 01-15 and 02-12 (the latter after the end); c's repeat on 03-04 is after it
    s = summarize(ORDERS, unit="D", observation_end="2024-02-01").set_index("customer_id")
    assert s.loc["c", ["frequency", "T"]].tolist() == [0, 24.0]
    assert s.loc["a", ["frequency", "recency", "T", "monetary_value"]].tolist() == [
        1, 14.0, 31.0, 20.0
    ]  # fmt: skip
    held = summarize(ORDERS, unit="D", calibration_end="2024-01-20", observation_end="2024-02-01")
    held = held.set_index("customer_id")
    # b bought on 01-29, after the calibration: not a customer of the calibration period
    assert sorted(held.index) == ["a", "c"]
    assert held.loc["a", ["frequency", "T", "frequency_holdout"]].tolist() == [1, 19.0, 0]
    assert held.loc["c", ["frequency", "frequency_holdout"]].tolist() == [0, 0]
    assert (held["duration_holdout"] == 12.0).all()


def test_same_numbers_from_an_ibis_table_in_duckdb() -> None:
    con = ibis.duckdb.connect()
    table = con.create_table("orders", ORDERS)
    pd.testing.assert_frame_equal(summarize(table), summarize(ORDERS))


def test_cdnow_calibration_matches_the_paper() -> None:
    s = summarize(cdnow(), calibration_end="1997-09-30", observation_end="1998-06-30")
    assert len(s) == 2357
    assert (s["frequency"] > 0).sum() == 946  # repeat buyers in Fader, Hardie & Lee (2005)
    assert s["frequency"].sum() == 2457
    first = s.set_index("customer_id").loc[1]
    assert (first["frequency"], round(first["recency"], 2), round(first["T"], 2)) == (
        2, 30.43, 38.86
    )  # fmt: skip
    assert s["duration_holdout"].iloc[0] == pytest.approx(39.0)


def test_missing_column_is_named() -> None:
    with pytest.raises(DataError, match="no column 'when'"):
        summarize(ORDERS, date="when")
