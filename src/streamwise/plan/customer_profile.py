"""What the customer data says about each named segment: size, value (CLV), categories, sales and
media channels, e-mail consent and the hour of day e-mails are opened.

Customers are named by their behavioural cluster (``customer_segments``): each cluster takes the
segment that most of its surveyed customers named themselves (``segment_self``); the share that
agreed (the cluster's *purity*) is kept as evidence. Every aggregation is an Ibis expression run
by the analytics engine (DuckDB, PostgreSQL or Spark); only one row per segment and item (or per
segment, time zone, month and hour) comes back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from ibis import _

__all__ = ["cluster_names", "customer_metrics"]


def _keyed(frame: pd.DataFrame, key: str, like: ir.Column, value: str) -> ir.Table:
    """``frame``'s ``key`` and ``value`` columns as an in-memory table ``_key, _value``, the key
    of the type of the column it is joined with."""
    t = ibis.memtable(frame[[key, value]].rename(columns={key: "_key", value: "_value"}))
    return t.mutate(_key=t._key.cast(like.type()), _value=t._value.cast("string"))


def cluster_names(backend: Any, respondents: pd.DataFrame) -> pd.DataFrame:
    """Name each behavioural cluster by its surveyed customers' own segment.

    Parameters
    ----------
    backend
        Ibis backend of the analytics engine (``customer_segments`` is read).
    respondents
        ``customer_id`` and ``segment`` of survey respondents who are customers.

    Returns
    -------
    pandas.DataFrame
        ``cluster, segment, surveyed, agreeing, purity`` (one row per cluster with surveyed
        customers; clusters nobody surveyed stay unnamed).
    """
    known = respondents.dropna(subset=["customer_id", "segment"])
    empty = pd.DataFrame(columns=["cluster", "segment", "surveyed", "agreeing", "purity"])
    if known.empty:
        return empty
    s = backend.table("customer_segments")
    r = _keyed(known, "customer_id", s.customer_id, "segment")
    j = s.join(r, s.customer_id == r._key)
    votes = j.group_by(cluster=j.segment, segment=j._value).aggregate(n=_.count()).execute()
    if votes.empty:
        return empty
    votes = votes.sort_values(["cluster", "n", "segment"], ascending=[True, False, True])
    surveyed = votes.groupby("cluster")["n"].sum()
    top = votes.drop_duplicates("cluster").set_index("cluster")
    out = pd.DataFrame(
        {
            "segment": top["segment"],
            "surveyed": surveyed.reindex(top.index).astype(int),
            "agreeing": top["n"].astype(int),
        }
    )
    out["purity"] = out["agreeing"] / out["surveyed"]
    return out.rename_axis("cluster").reset_index()


def _rows(frame: pd.DataFrame, metric: str, source: str) -> pd.DataFrame:
    frame = frame.copy()
    frame["metric"] = metric
    frame["source"] = source
    for col in ("item", "label"):
        if col not in frame:
            frame[col] = None
    return frame[["segment", "metric", "item", "value", "label", "n", "source"]]


def _shares(expr: ir.Table, metric: str, source: str) -> pd.DataFrame:
    """Rows ``segment, item, weight, customers`` → each item's share of its segment's weight."""
    raw = expr.execute()
    if raw.empty:
        return _rows(pd.DataFrame(columns=["segment", "item", "value", "n"]), metric, source)
    total = raw.groupby("segment")["weight"].transform("sum")
    raw["value"] = raw["weight"] / total
    raw["n"] = raw["customers"].astype(int)
    return _rows(raw, metric, source)


def _offset_hours(zone: str, month: pd.Timestamp) -> float:
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return 0.0
    mid = datetime(month.year, month.month, 15, 12)
    offset = mid.replace(tzinfo=tz).utcoffset()
    return offset.total_seconds() / 3600 if offset is not None else 0.0


def _send_hours(backend: Any, segment_of: ir.Table) -> pd.DataFrame:
    """Share of e-mail opens per local hour of day.

    Not every engine converts time zones (DuckDB without ICU does not), so opens are counted per
    segment, time zone, month and UTC hour in the engine, and each group is shifted by its zone's
    offset in the middle of that month in Python (exact except in the days around a
    daylight-saving change).
    """
    e, c = backend.table("events"), backend.table("customers")
    opens = e.filter(e.event == "Email Opened").select(user=e.user_id, ts=e.timestamp)
    people = c.select(customer=c.customer_id, timezone=c.timezone)
    j = opens.join(people, opens.user == people.customer)
    j = j.join(segment_of, j.customer == segment_of.customer_id)
    keys = {"segment": j.segment, "timezone": j.timezone, "month": j.ts.truncate("M"),
            "utc_hour": j.ts.hour()}  # fmt: skip
    raw = j.group_by(**keys).aggregate(opens=_.count()).execute()
    if raw.empty:
        return _rows(pd.DataFrame(columns=["segment", "item", "value", "n"]), "open_hour", "events")
    offsets = {
        (z, m): _offset_hours(z, pd.Timestamp(m))
        for z, m in raw[["timezone", "month"]].drop_duplicates().itertuples(index=False)
    }
    shift = [offsets[(z, m)] for z, m in zip(raw["timezone"], raw["month"], strict=True)]
    raw["item"] = (np.floor(raw["utc_hour"] + np.asarray(shift)) % 24).astype(int)
    hours = raw.groupby(["segment", "item"], as_index=False)["opens"].sum()
    hours["value"] = hours["opens"] / hours.groupby("segment")["opens"].transform("sum")
    hours["n"] = hours["opens"].astype(int)
    hours["item"] = hours["item"].map(lambda h: f"{h:02d}:00")
    return _rows(hours, "open_hour", "events")


_BASE = ("customers", "clv_mean", "clv_total", "p_alive_mean", "active_customers",
         "expected_revenue", "email_consent")  # fmt: skip


def _base(backend: Any, segment_of: ir.Table) -> pd.DataFrame:
    """Per segment: customers, CLV (mean, total), P(alive) (mean, sum), expected revenue and
    the share with e-mail consent."""
    v, c = backend.table("customer_clv"), backend.table("customers")
    clv = v.select(v.customer_id, v.clv, v.probability_alive,
                   revenue=v.expected_purchases * v.expected_spend)  # fmt: skip
    consent = c.select(customer=c.customer_id, email_consent=c.email_consent)
    with_clv = segment_of.left_join(clv, "customer_id")
    j = with_clv.left_join(consent, with_clv.customer_id == consent.customer)
    return (
        j.group_by("segment")
        .aggregate(
            customers=_.count(),
            clv_mean=j.clv.mean(),
            clv_total=j.clv.sum(),
            p_alive_mean=j.probability_alive.mean(),
            active_customers=j.probability_alive.sum(),
            expected_revenue=j.revenue.sum(),
            # a float, not Spark's decimal literal (whose mean keeps five decimals)
            email_consent=ibis.ifelse(j.email_consent, 1.0, 0.0).cast("float64").mean(),
        )
        .execute()
    )


def _mixes(backend: Any, segment_of: ir.Table) -> list[pd.DataFrame]:
    """Each segment's category mix (by amount), sales channel mix and media mix (by count)."""
    o, lines, p = backend.table("orders"), backend.table("order_lines"), backend.table("products")
    t = backend.table("touchpoints")
    bought = (
        lines.select("order_id", "product_id", "amount")
        .join(o.select("order_id", "customer_id"), "order_id")
        .join(p.select("product_id", "category"), "product_id")
        .join(segment_of, "customer_id")
    )
    sold = (
        o.filter(o.channel.notnull())
        .select("customer_id", "channel")
        .join(segment_of, "customer_id")
    )
    seen = (
        t.filter(t.interaction.isin(["click", "open", "visit"]))
        .select("customer_id", "channel")
        .join(segment_of, "customer_id")
    )

    def mix(j: ir.Table, item: ir.Column, weight: ir.Scalar) -> ir.Table:
        return j.group_by(segment=j.segment, item=item).aggregate(
            weight=weight, customers=j.customer_id.nunique()
        )

    return [
        _shares(mix(bought, bought.category, bought.amount.sum()), "category_share",
                "order_lines"),
        _shares(mix(sold, sold.channel, sold.count()), "sales_channel_share", "orders"),
        _shares(mix(seen, seen.channel, seen.count()), "media_share", "touchpoints"),
    ]  # fmt: skip


def customer_metrics(backend: Any, names: pd.DataFrame) -> pd.DataFrame:
    """Per named segment: customers, share, CLV, activity, categories, channels, send hours.

    Parameters
    ----------
    backend
        Ibis backend of the analytics engine (``customer_segments``, ``customer_clv``,
        ``customers``, ``orders``, ``order_lines``, ``products``, ``touchpoints`` and
        ``events`` are read).
    names
        :func:`cluster_names`'s output.

    Returns
    -------
    pandas.DataFrame
        Long rows ``segment, metric, item, value, label, n, source``.
    """
    s = backend.table("customer_segments")
    m = _keyed(names, "cluster", s.segment, "segment")
    j = s.join(m, s.segment == m._key)
    segment_of = j.select(customer_id=j.customer_id, segment=j._value)
    base = _base(backend, segment_of)
    all_customers = int(s.count().execute())
    parts = []
    for metric in _BASE:
        rows = pd.DataFrame(
            {"segment": base["segment"], "value": base[metric], "n": base["customers"]}
        )
        parts.append(_rows(rows, metric, "customer_clv" if "clv" in metric else "customers"))
    share = base[["segment", "customers"]].rename(columns={"customers": "n"})
    share["value"] = share["n"] / max(all_customers, 1)
    parts.append(_rows(share, "customer_share", "customer_segments"))
    parts.extend(_mixes(backend, segment_of))
    parts.append(_send_hours(backend, segment_of))
    return pd.concat([p for p in parts if len(p)], ignore_index=True)
