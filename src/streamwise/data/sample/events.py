"""Behavioural events (Segment spec) of the sample business, and fast text formatting.

Events per customer: an ``identify`` call at signup (traits as JSON), a few anonymous ``page``
calls before signup for some customers, and per order a category ``page`` call (half of the
orders), one ``Product Viewed`` track call per order line (plus sometimes one more), and an
``Order Completed`` track call with the order id, revenue and currency. Every e-mail touchpoint
gives an ``Email Opened`` or ``Email Clicked`` track call at the touch's time.

The helpers at the top format millions of identifiers and JSON strings without Python loops:
numbers are turned into digits with numpy and assembled into pyarrow string arrays.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "EVENT_COLUMNS",
    "build_events",
    "digits",
    "finish_events",
    "fixed_ids",
    "join_strings",
    "money_strings",
    "take_strings",
    "to_frame",
]

_GROUPS = (
    np.array([list(f"{i:04d}".encode()) for i in range(10_000)], dtype=np.uint8)
    .view(np.uint32)
    .ravel()
)

EVENT_COLUMNS = (
    "message_id",
    "type",
    "user_id",
    "anonymous_id",
    "event",
    "name",
    "properties",
    "traits",
    "context",
    "timestamp",
    "received_at",
)

StrLike = pa.Array | pa.ChunkedArray | str


def fixed_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Format ``numbers`` as ``prefix`` followed by ``width`` zero-padded digits.

    Parameters
    ----------
    prefix
        ASCII text put before the digits, e.g. ``"O"``.
    numbers
        Non-negative integers below ``10**width``.
    width
        Number of digits.

    Returns
    -------
    pyarrow.LargeStringArray
        One string per number, e.g. ``O0000000042``.
    """
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    n = len(numbers)
    groups = -(-width // 4)
    packed = np.empty((n, groups), dtype=np.uint32)
    rest = np.asarray(numbers, dtype=np.int64)
    for j in range(groups - 1, -1, -1):
        packed[:, j] = _GROUPS[rest % 10_000]
        rest = rest // 10_000
    body = packed.view(np.uint8).reshape(n, 4 * groups)[:, 4 * groups - width :]
    total = len(head) + width
    out = np.empty((n, total), dtype=np.uint8)
    out[:, : len(head)] = head
    out[:, len(head) :] = body
    offsets = np.arange(0, (n + 1) * total, total, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(out))


def digits(numbers: np.ndarray, width: int = 1) -> pa.Array:
    """Decimal text of non-negative integers, zero-padded to at least ``width`` digits."""
    text = pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.large_string())
    if width > 1:
        text = pc.utf8_lpad(text, width, "0")
    return text


def money_strings(values: np.ndarray) -> pa.Array:
    """Shortest decimal text of amounts already rounded to cents (e.g. ``84.5``)."""
    return pc.cast(pa.array(np.asarray(values, dtype=np.float64)), pa.large_string())


def take_strings(values: Sequence[str], index: np.ndarray) -> pa.Array:
    """``values[index]`` as a pyarrow string array (a small dictionary expanded)."""
    table = pa.array(list(values), type=pa.large_string())
    return table.take(pa.array(np.asarray(index, dtype=np.int64)))


def join_strings(parts: Sequence[StrLike], sep: str = "") -> pa.Array:
    """Concatenate arrays and literal strings element-wise (nulls propagate)."""
    args: list[Any] = []
    for part in parts:
        if isinstance(part, str):
            args.append(pa.scalar(part, type=pa.large_string()))
        elif part.type != pa.large_string():
            args.append(pc.cast(part, pa.large_string()))
        else:
            args.append(part)
    return pc.binary_join_element_wise(*args, pa.scalar(sep, type=pa.large_string()))


def to_frame(columns: dict[str, Any], epoch: np.datetime64) -> pd.DataFrame:
    """A pandas frame from pyarrow string arrays, numpy arrays and second offsets.

    Values given as ``("seconds", array)`` or ``("days", array)`` are offsets from ``epoch`` and
    become ``datetime64[us]`` columns.
    """
    data: dict[str, Any] = {}
    for name, value in columns.items():
        if isinstance(value, tuple):
            unit, offsets = value
            step = np.timedelta64(1, "s") if unit == "seconds" else np.timedelta64(1, "D")
            stamps = epoch + np.asarray(offsets, dtype=np.int64) * step
            data[name] = pd.Series(stamps.astype("datetime64[us]"), copy=False)
        elif isinstance(value, pa.Array | pa.ChunkedArray):
            data[name] = pd.Series(value, dtype="str")
        else:
            data[name] = pd.Series(value, copy=False)
    return pd.DataFrame(data)


def _nulls(n: int) -> pa.Array:
    return pa.nulls(n, type=pa.large_string())


def _piece(
    n: int,
    kind: str,
    user: pa.Array | None,
    anon: pa.Array | None,
    event: str | pa.Array | None,
    name: pa.Array | None,
    properties: pa.Array | None,
    traits: pa.Array | None,
    context: pa.Array | None,
    seconds: np.ndarray,
) -> dict[str, Any]:
    def text(value: str | pa.Array | None) -> pa.Array:
        if value is None:
            return _nulls(n)
        if isinstance(value, str):
            return pa.array(np.full(n, value, dtype=object), type=pa.large_string())
        return value

    return {
        "type": text(kind),
        "user_id": text(user),
        "anonymous_id": text(anon),
        "event": text(event),
        "name": text(name),
        "properties": text(properties),
        "traits": text(traits),
        "context": text(context),
        "seconds": np.asarray(seconds, dtype=np.int64),
    }


def build_events(
    rng: np.random.Generator,
    epoch: np.datetime64,
    end_second: int,
    customers: dict[str, Any],
    orders: dict[str, Any],
    lines: dict[str, Any],
    email_touches: dict[str, Any],
    currency: str,
    categories: Sequence[str],
) -> Iterator[dict[str, Any]]:
    """Build the events of one chunk of customers.

    Parameters
    ----------
    rng
        Random generator of this chunk's events.
    epoch
        Start of the trading period (the zero of every ``second`` value).
    end_second
        Last second of the trading period (seconds since its start); no event lies later.
    customers
        ``customer_id``, ``anonymous_id``, ``email``, ``first_name``, ``last_name``, ``country``
        (string arrays) and ``signup_second`` (int64).
    orders
        ``customer`` (local index), ``order_id`` (strings), ``second``, ``amount``,
        ``channel`` (index into the sales channels), ``sales_channels`` (names).
    lines
        ``order`` (local index of the order), ``product_id`` (strings), ``category`` (index),
        ``price`` (list price).
    email_touches
        ``customer``, ``second``, ``campaign`` (strings), ``clicked`` (bool).
    currency, categories
        The currency code and the category names.

    Yields
    ------
    dict
        One piece of events at a time (kind of call and its columns, ``seconds`` since the
        start); :func:`finish_events` numbers it and adds receive times.
    """
    cust_id: pa.Array = customers["customer_id"]
    anon_id: pa.Array = customers["anonymous_id"]
    n_cust = len(cust_id)

    # identify at signup
    signup = customers["signup_second"]
    created = pc.strftime(
        pa.array(epoch.astype("datetime64[s]") + signup.astype("timedelta64[s]")),
        format="%Y-%m-%dT%H:%M:%SZ",
    )
    traits = join_strings(
        [
            '{"email": "',
            customers["email"],
            '", "first_name": "',
            customers["first_name"],
            '", "last_name": "',
            customers["last_name"],
            '", "country": "',
            customers["country"],
            '", "created_at": "',
            created,
            '"}',
        ]
    )
    yield (_piece(n_cust, "identify", cust_id, anon_id, None, None, None, traits, None, signup))

    # anonymous browsing before signup for about a third of the customers
    browse = rng.random(n_cust) < 0.35
    n_pages = np.where(browse, rng.integers(1, 4, n_cust), 0)
    who = np.repeat(np.arange(n_cust), n_pages)
    before = rng.integers(600, 14 * 86_400, len(who))
    when = np.maximum(signup[who] - before, 0)
    page_names = ("Home", *(c.title() for c in categories), "Sale")
    yield (
        _piece(
            len(who),
            "page",
            None,
            anon_id.take(pa.array(who)),
            None,
            take_strings(page_names, rng.integers(0, len(page_names), len(who))),
            None,
            None,
            None,
            when,
        )
    )

    # per order: category page (half of the orders), product views, order completed
    o_cust = orders["customer"]
    o_sec = orders["second"]
    o_user = cust_id.take(pa.array(o_cust))
    channel_ctx = [f'{{"channel": "{c}"}}' for c in orders["sales_channels"]]
    o_ctx = take_strings(channel_ctx, orders["channel"])
    props = join_strings(
        [
            '{"order_id": "',
            orders["order_id"],
            '", "revenue": ',
            money_strings(orders["amount"]),
            ', "currency": "',
            currency,
            '"}',
        ]
    )
    yield (
        _piece(
            len(o_cust),
            "track",
            o_user,
            anon_id.take(pa.array(o_cust)),
            "Order Completed",
            None,
            props,
            None,
            o_ctx,
            o_sec,
        )
    )

    l_order = lines["order"]
    extra = rng.random(len(l_order)) < 0.25
    view_line = np.concatenate([np.arange(len(l_order)), np.flatnonzero(extra)])
    v_order = l_order[view_line]
    v_sec = np.maximum(o_sec[v_order] - rng.integers(60, 45 * 60, len(view_line)), 0)
    v_props = join_strings(
        [
            '{"product_id": "',
            lines["product_id"].take(pa.array(view_line)),
            '", "category": "',
            take_strings(categories, lines["category"][view_line]),
            '", "price": ',
            money_strings(lines["price"][view_line]),
            "}",
        ]
    )
    yield (
        _piece(
            len(view_line),
            "track",
            o_user.take(pa.array(v_order)),
            anon_id.take(pa.array(o_cust[v_order])),
            "Product Viewed",
            None,
            v_props,
            None,
            o_ctx.take(pa.array(v_order)),
            v_sec,
        )
    )

    with_page = np.flatnonzero(rng.random(len(o_cust)) < 0.5)
    first_line = np.searchsorted(l_order, with_page)
    p_sec = np.maximum(o_sec[with_page] - rng.integers(45 * 60, 90 * 60, len(with_page)), 0)
    yield (
        _piece(
            len(with_page),
            "page",
            o_user.take(pa.array(with_page)),
            anon_id.take(pa.array(o_cust[with_page])),
            None,
            take_strings([c.title() for c in categories], lines["category"][first_line]),
            None,
            None,
            o_ctx.take(pa.array(with_page)),
            p_sec,
        )
    )

    # e-mail opens and clicks
    e_cust = email_touches["customer"]
    e_event = take_strings(("Email Opened", "Email Clicked"), email_touches["clicked"].astype(int))
    e_props = join_strings(['{"campaign": "', email_touches["campaign"], '"}'])
    yield (
        _piece(
            len(e_cust),
            "track",
            cust_id.take(pa.array(e_cust)),
            None,
            e_event,
            None,
            e_props,
            None,
            None,
            email_touches["second"],
        )
    )


def finish_events(
    rng: np.random.Generator, piece: dict[str, Any], first_message: int, end_second: int
) -> dict[str, Any]:
    """Number a piece of :func:`build_events` and add its receive times.

    Returns the columns of the ``events`` table (message ids from ``first_message`` on), ready
    for :func:`to_frame`; timestamps never pass ``end_second``.
    """
    seconds = np.minimum(piece["seconds"], end_second)
    n = len(seconds)
    out: dict[str, Any] = {
        "message_id": fixed_ids("ajs-", np.arange(first_message, first_message + n), 12)
    }
    for col in ("type", "user_id", "anonymous_id", "event", "name"):
        out[col] = piece[col]
    for col in ("properties", "traits", "context"):
        out[col] = piece[col]
    out["timestamp"] = ("seconds", seconds)
    out["received_at"] = ("seconds", np.minimum(seconds + rng.integers(0, 6, n), end_second))
    return out
