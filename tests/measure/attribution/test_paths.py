"""Building compressed paths with Ibis on DuckDB: journey cutting, edge cases, options."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from streamwise.engine import connect_duckdb
from streamwise.errors import DataError
from streamwise.measure.attribution import build_paths, parse_paths, paths_expr

T = pd.Timestamp


def _touch(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(c, T(ts), ch, j) for c, ts, ch, j in rows],
        columns=["customer_id", "ts", "channel", "journey_id"],
    )


TOUCH = _touch(
    [
        # A: search, then email and display at the same second (tie: ordered by channel),
        # an order 24h later; then an e-mail after the last order (stays a null path)
        ("A", "2024-01-01 10:00", "search", "j1"),
        ("A", "2024-01-02 10:00", "email", "j1"),
        ("A", "2024-01-02 10:00", "display", "j1"),
        ("A", "2024-02-01 00:00", "email", "j2"),
        # B: a touch at the same instant as the order counts as before it
        ("B", "2024-03-01 00:00", "search", "j3"),
        # C: the order exactly 24h after the last touch converts (inclusive boundary)
        ("C", "2024-01-01 00:00", "video", "j4"),
        ("C", "2024-01-01 01:00", "video", "j4"),
        # E: the order 24h and 1s after the last touch does not convert
        ("E", "2024-01-01 00:00", "social", "j5"),
    ]
)
ORDERS = pd.DataFrame(
    {
        "order_id": ["o1", "o2", "o3", "o4", "o5"],
        "customer_id": ["A", "B", "D", "C", "E"],
        "order_date": [
            T("2024-01-03 10:00"),
            T("2024-03-01 00:00"),
            T("2024-01-01 00:00"),  # D: a conversion without any touch belongs to no path
            T("2024-01-02 01:00"),
            T("2024-01-02 00:00:01"),
        ],
        "amount": [10.0, 20.0, 5.0, 7.0, 3.0],
    }
)


def _as_dict(frame: pd.DataFrame) -> dict[str, tuple[int, float, int]]:
    return {
        r.path: (int(r.conversions), float(r.value), int(r.nulls))
        for r in frame.itertuples(index=False)
    }


def test_journeys_are_cut_at_conversions_with_the_24h_rule() -> None:
    got = _as_dict(build_paths(TOUCH, ORDERS))
    assert got == {
        "search > display > email": (1, 10.0, 0),  # tie at 10:00 ordered by channel name
        "email": (0, 0.0, 1),  # after A's last order
        "search": (1, 20.0, 0),  # B: touch and order at the same instant
        "video > video": (1, 7.0, 0),  # exactly 24h: converts
        "social": (0, 0.0, 1),  # 24h + 1s: does not
    }


def test_runs_on_a_duckdb_table_and_returns_only_distinct_paths() -> None:
    con = connect_duckdb()
    con.create_table("touchpoints", TOUCH)
    con.create_table("orders", ORDERS)
    expr = paths_expr(con.table("touchpoints"), con.table("orders"))
    assert list(expr.columns) == ["path", "conversions", "value", "nulls"]
    got = build_paths(con.table("touchpoints"), con.table("orders"), backend=con)
    assert _as_dict(got) == _as_dict(build_paths(TOUCH, ORDERS))
    assert got["path"].is_unique


def test_inactivity_gap_starts_a_new_non_converting_journey() -> None:
    touch = _touch(
        [
            ("A", "2024-01-01", "display", ""),
            ("A", "2024-01-20", "search", ""),  # 19 days later
            ("A", "2024-01-21", "email", ""),
        ]
    )
    orders = pd.DataFrame(
        {"customer_id": ["A"], "order_date": [T("2024-01-21 12:00")], "amount": [1.0]}
    )
    assert _as_dict(build_paths(touch, orders, inactivity=timedelta(days=7))) == {
        "display": (0, 0.0, 1),
        "search > email": (1, 1.0, 0),
    }
    assert _as_dict(build_paths(touch, orders, inactivity=timedelta(days=30))) == {
        "display > search > email": (1, 1.0, 0)
    }


def test_identical_journeys_are_counted_together_with_their_values() -> None:
    touch = _touch(
        [(c, "2024-01-01 08:00", "email", "") for c in "ABC"]
        + [(c, "2024-01-01 09:00", "search", "") for c in "ABC"]
    )
    orders = pd.DataFrame(
        {
            "customer_id": ["A", "B"],
            "order_date": [T("2024-01-01 10:00"), T("2024-01-01 11:00")],
            "amount": [3.0, 4.0],
        }
    )
    assert _as_dict(build_paths(touch, orders)) == {"email > search": (2, 7.0, 1)}


def test_collapse_repeats_and_max_touches_keep_the_journey_end() -> None:
    got = _as_dict(build_paths(TOUCH, ORDERS, collapse_repeats=True, max_touches=2))
    assert got["video"] == (1, 7.0, 0)  # the kept video is the last one, 24h before the order
    assert got["display > email"] == (1, 10.0, 0)  # the last two touches of A's first journey


def test_journey_ids_group_touches_when_given() -> None:
    touch = _touch(
        [
            ("A", "2024-01-01 00:00", "display", "x"),
            ("A", "2024-01-01 01:00", "search", "y"),  # interleaved journeys of one customer
            ("A", "2024-01-01 02:00", "email", "x"),
        ]
    )
    orders = pd.DataFrame(
        {"customer_id": ["A"], "order_date": [T("2024-01-01 03:00")], "amount": [9.0]}
    )
    # the sample business's rule: a journey converts iff a conversion of the customer follows
    # its last touch within the window, whatever other journeys do in between
    assert _as_dict(build_paths(touch, orders, journey="journey_id")) == {
        "display > email": (1, 9.0, 0),
        "search": (1, 9.0, 0),
    }
    # without the ids, the touches form one journey
    assert _as_dict(build_paths(touch, orders)) == {"display > search > email": (1, 9.0, 0)}


def test_missing_columns_say_which_and_what_to_do() -> None:
    with pytest.raises(DataError, match="no column 'channel'"):
        build_paths(TOUCH.drop(columns="channel"), ORDERS)
    with pytest.raises(DataError, match="max_touches"):
        build_paths(TOUCH, ORDERS, max_touches=0)


def test_parse_paths_trims_and_drops_empty_items() -> None:
    frame = pd.DataFrame(
        {"path": [" b >a", "a>>c", ""], "conversions": [1, 2, 3], "nulls": [0, 1, 2]}
    )
    p = parse_paths(frame)
    assert p.channels == ("a", "b", "c")
    assert p.codes.tolist() == [1, 0, 0, 2]
    assert p.offsets.tolist() == [0, 2, 4]  # the empty path is dropped
    assert p.conversions.tolist() == [1.0, 2.0]
    assert np.array_equal(p.position, [0, 1, 0, 1])
    with pytest.raises(DataError, match="non-negative"):
        parse_paths(frame.assign(conversions=[1, -1, 0]))
