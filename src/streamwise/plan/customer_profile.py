"""What the customer data says about each named segment: size, value (CLV), categories, sales and
media channels, e-mail consent and the hour of day e-mails are opened.

Customers are named by their behavioural cluster (``customer_segments``): each cluster takes the
segment that most of its surveyed customers named themselves (``segment_self``); the share that
agreed (the cluster's *purity*) is kept as evidence. Every aggregation runs in DuckDB; only one
row per segment and item comes back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

__all__ = ["cluster_names", "customer_metrics"]

_MAP = "_sw_segment_map"  # a registered (cluster, segment) frame, never user text


def cluster_names(con: Any, respondents: pd.DataFrame) -> pd.DataFrame:
    """Name each behavioural cluster by its surveyed customers' own segment.

    Parameters
    ----------
    con
        DuckDB connection of the workspace (``customer_segments`` is read).
    respondents
        ``customer_id`` and ``segment`` of survey respondents who are customers.

    Returns
    -------
    pandas.DataFrame
        ``cluster, segment, surveyed, agreeing, purity`` (one row per cluster with surveyed
        customers; clusters nobody surveyed stay unnamed).
    """
    known = respondents.dropna(subset=["customer_id", "segment"])
    con.register("_sw_respondents", known[["customer_id", "segment"]])
    try:
        votes = con.execute(
            "SELECT s.segment AS cluster, r.segment, count(*) AS n "
            "FROM customer_segments s JOIN _sw_respondents r USING (customer_id) "
            "GROUP BY ALL"
        ).df()
    finally:
        con.unregister("_sw_respondents")
    if votes.empty:
        return pd.DataFrame(columns=["cluster", "segment", "surveyed", "agreeing", "purity"])
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


def _shares(con: Any, sql: str, metric: str, source: str) -> pd.DataFrame:
    """Rows ``segment, item, weight`` → each item's share of its segment's weight."""
    raw = con.execute(sql).df()
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


def _send_hours(con: Any) -> pd.DataFrame:
    """Share of e-mail opens per local hour of day.

    DuckDB here has no time-zone support (no ICU), so opens are counted per segment, time zone,
    month and UTC hour in DuckDB, and each group is shifted by its zone's offset in the middle of
    that month (exact except in the days around a daylight-saving change).
    """
    raw = con.execute(
        f"SELECT m.segment, c.timezone, date_trunc('month', e.timestamp) AS month, "
        f"hour(e.timestamp) AS utc_hour, count(*) AS opens, count(DISTINCT e.user_id) AS people "
        f"FROM events e JOIN customers c ON c.customer_id = e.user_id "
        f"JOIN customer_segments s ON s.customer_id = c.customer_id "
        f"JOIN {_MAP} m ON m.cluster = s.segment "
        f"WHERE e.event = 'Email Opened' GROUP BY ALL"
    ).df()
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


def customer_metrics(con: Any, names: pd.DataFrame) -> pd.DataFrame:
    """Per named segment: customers, share, CLV, activity, categories, channels, send hours.

    Parameters
    ----------
    con
        DuckDB connection of the workspace.
    names
        :func:`cluster_names`'s output.

    Returns
    -------
    pandas.DataFrame
        Long rows ``segment, metric, item, value, label, n, source``.
    """
    con.register(_MAP, names[["cluster", "segment"]])
    try:
        base = con.execute(
            f"SELECT m.segment, count(*) AS customers, avg(v.clv) AS clv_mean, "
            f"sum(v.clv) AS clv_total, avg(v.probability_alive) AS p_alive_mean, "
            f"sum(v.probability_alive) AS active_customers, "
            f"sum(v.expected_purchases * v.expected_spend) AS expected_revenue, "
            f"avg(CASE WHEN c.email_consent THEN 1.0 ELSE 0.0 END) AS email_consent "
            f"FROM customer_segments s JOIN {_MAP} m ON m.cluster = s.segment "
            f"LEFT JOIN customer_clv v USING (customer_id) "
            f"LEFT JOIN customers c USING (customer_id) GROUP BY ALL"
        ).df()
        all_customers = con.execute("SELECT count(*) FROM customer_segments").fetchone()[0]
        parts = []
        for metric in (
            "customers", "clv_mean", "clv_total", "p_alive_mean", "active_customers",
            "expected_revenue", "email_consent",
        ):  # fmt: skip
            rows = pd.DataFrame(
                {"segment": base["segment"], "value": base[metric], "n": base["customers"]}
            )
            parts.append(_rows(rows, metric, "customer_clv" if "clv" in metric else "customers"))
        share = base[["segment", "customers"]].rename(columns={"customers": "n"})
        share["value"] = share["n"] / max(all_customers, 1)
        parts.append(_rows(share, "customer_share", "customer_segments"))
        parts.append(
            _shares(
                con,
                f"SELECT m.segment, p.category AS item, sum(l.amount) AS weight, "
                f"count(DISTINCT o.customer_id) AS customers "
                f"FROM order_lines l JOIN orders o USING (order_id) "
                f"JOIN products p USING (product_id) "
                f"JOIN customer_segments s ON s.customer_id = o.customer_id "
                f"JOIN {_MAP} m ON m.cluster = s.segment GROUP BY ALL",
                "category_share",
                "order_lines",
            )
        )
        parts.append(
            _shares(
                con,
                f"SELECT m.segment, o.channel AS item, count(*) AS weight, "
                f"count(DISTINCT o.customer_id) AS customers FROM orders o "
                f"JOIN customer_segments s USING (customer_id) "
                f"JOIN {_MAP} m ON m.cluster = s.segment "
                f"WHERE o.channel IS NOT NULL GROUP BY ALL",
                "sales_channel_share",
                "orders",
            )
        )
        parts.append(
            _shares(
                con,
                f"SELECT m.segment, t.channel AS item, count(*) AS weight, "
                f"count(DISTINCT t.customer_id) AS customers FROM touchpoints t "
                f"JOIN customer_segments s USING (customer_id) "
                f"JOIN {_MAP} m ON m.cluster = s.segment "
                f"WHERE t.interaction IN ('click', 'open', 'visit') GROUP BY ALL",
                "media_share",
                "touchpoints",
            )
        )
        parts.append(_send_hours(con))
    finally:
        con.unregister(_MAP)
    return pd.concat([p for p in parts if len(p)], ignore_index=True)
