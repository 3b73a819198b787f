"""Reading the workspace's result tables for reports: a missing or empty table is None."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["REPORT_TABLES", "clv_by_segment", "read_table", "table_exists"]

#: The result tables the report reads (names fixed here, never taken from input).
REPORT_TABLES = (
    "customer_clv", "customer_segments", "customer_rfm", "research_nps", "research_price_curves",
    "research_price_points", "research_themes", "competitor_map", "competitor_white_space",
    "competitor_price_value", "competitor_features", "market_trends", "market_forecast",
    "market_components", "channel_attribution", "media_roi",
)  # fmt: skip


def table_exists(con: Any, name: str) -> bool:
    """Whether the DuckDB connection has a table ``name``."""
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = $name",
        {"name": name},
    ).fetchone()
    return bool(row and row[0])


def read_table(workspace: Any, name: str) -> pd.DataFrame | None:
    """A result table as a frame, or None when the workspace lacks it or it is empty."""
    if name not in REPORT_TABLES:  # the name is one of ours, so it is safe to quote into SQL
        raise ValueError(f"{name!r} is not a table the report reads")
    con = workspace.duckdb()
    if not table_exists(con, name):
        return None
    frame = con.execute(f'SELECT * FROM "{name}"').df()  # noqa: S608 - a fixed table name
    return frame if len(frame) else None


def clv_by_segment(workspace: Any) -> pd.DataFrame | None:
    """Customers, total and mean CLV and mean P(alive) per RFM segment, aggregated in the
    database (None without both ``customer_clv`` and ``customer_rfm``)."""
    con = workspace.duckdb()
    if not (table_exists(con, "customer_clv") and table_exists(con, "customer_rfm")):
        return None
    out = con.execute(
        """
        SELECT r.segment, count(*) AS customers, sum(c.clv) AS total_clv, avg(c.clv) AS mean_clv,
               avg(c.probability_alive) AS probability_alive
        FROM customer_clv AS c JOIN customer_rfm AS r USING (customer_id)
        GROUP BY r.segment
        ORDER BY total_clv DESC
        """
    ).df()
    return out if len(out) else None
