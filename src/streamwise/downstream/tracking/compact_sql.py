"""The DuckDB side of compaction: its tables, and one chunk written in one transaction.

Every identifier in the SQL below comes from this module or from ``data/contracts.py``; the row
values arrive as a registered Arrow table and the watermark as bound parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import duckdb
import pyarrow as pa

from streamwise.data.contracts import EVENTS, TOUCHPOINTS
from streamwise.data.tables import create_tables

__all__ = [
    "ENGAGEMENT_SCHEMA",
    "ENGAGEMENT_TABLE",
    "EVENT_SCHEMA",
    "META_TABLE",
    "Source",
    "analytics_counts",
    "ensure_tables",
    "exec_sql",
    "to_arrow",
    "watermarks",
    "write_chunk",
]

Source = Literal["tracked_events", "engagements"]

META_TABLE = "_compaction"
ENGAGEMENT_TABLE = "email_engagement"

_CHUNK = "_sw_compact_chunk"
_NEW = "_sw_compact_new"

_DDL = (
    f"""CREATE TABLE IF NOT EXISTS {META_TABLE} (
        source VARCHAR PRIMARY KEY,
        watermark BIGINT NOT NULL,
        rows BIGINT NOT NULL,
        updated_at TIMESTAMP NOT NULL
    )""",
    f"""CREATE TABLE IF NOT EXISTS {ENGAGEMENT_TABLE} (
        engagement_id BIGINT NOT NULL,
        kind VARCHAR NOT NULL,
        campaign_id BIGINT,
        campaign VARCHAR,
        variant VARCHAR,
        customer_id VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,
        url VARCHAR,
        machine BOOLEAN NOT NULL,
        rule VARCHAR,
        revenue DOUBLE,
        event_message_id VARCHAR
    )""",
)

_TS = pa.timestamp("us", tz="UTC")

#: A chunk of tracked events: the operational id, then the EVENTS contract's columns (JSON
#: columns travel as text and are cast by DuckDB).
EVENT_SCHEMA = pa.schema(
    [("id", pa.int64())]
    + [(c.name, _TS if c.type == "TIMESTAMP" else pa.string()) for c in EVENTS.columns]
)

#: A chunk of engagement rows, in the column order of ``email_engagement``.
ENGAGEMENT_SCHEMA = pa.schema(
    [
        ("engagement_id", pa.int64()),
        ("kind", pa.string()),
        ("campaign_id", pa.int64()),
        ("campaign", pa.string()),
        ("variant", pa.string()),
        ("customer_id", pa.string()),
        ("ts", _TS),
        ("url", pa.string()),
        ("machine", pa.bool_()),
        ("rule", pa.string()),
        ("revenue", pa.float64()),
        ("event_message_id", pa.string()),
    ]
)


def _json(name: str) -> str:
    # Valid JSON text is stored as is; anything else is kept as a JSON string, never dropped.
    col = f'c."{name}"'
    return f"CASE WHEN json_valid({col}) THEN {col}::JSON ELSE to_json({col}) END"


_EVENT_COLS = ", ".join(f'"{n}"' for n in EVENTS.names)
_EVENT_VALUES = ", ".join(
    _json(c.name) if c.type == "JSON" else f'c."{c.name}"' for c in EVENTS.columns
)
_INSERT_EVENTS = (
    f"INSERT INTO events ({_EVENT_COLS}) SELECT {_EVENT_VALUES} FROM {_CHUNK} c "  # noqa: S608
    "WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.message_id = c.message_id)"
)
_NEW_ENGAGEMENT = (
    f"CREATE OR REPLACE TEMP TABLE {_NEW} AS SELECT * FROM {_CHUNK} c "  # noqa: S608
    f"WHERE NOT EXISTS (SELECT 1 FROM {ENGAGEMENT_TABLE} e "
    "WHERE e.engagement_id = c.engagement_id)"
)
_INSERT_ENGAGEMENT = f"INSERT INTO {ENGAGEMENT_TABLE} SELECT * FROM {_NEW}"  # noqa: S608

# A human open or click is a marketing contact of the touchpoints contract.
_TP_VALUES = {
    "customer_id": "customer_id",
    "ts": "ts",
    "channel": "'email'",
    "campaign": "campaign",
    "interaction": "kind",
    "journey_id": "NULL",
    "cost": "NULL",
}
assert set(_TP_VALUES) == set(TOUCHPOINTS.names), "the touchpoints contract changed"
_TP_COLS = ", ".join(f'"{n}"' for n in TOUCHPOINTS.names)
_TP_KEY = " AND ".join(f't."{k}" IS NOT DISTINCT FROM n."{k}"' for k in TOUCHPOINTS.key)
_TP_SELECT = ", ".join(f'{v} AS "{k}"' for k, v in _TP_VALUES.items())
_INSERT_TOUCHPOINTS = (
    f"INSERT INTO touchpoints ({_TP_COLS}) SELECT {_TP_COLS} FROM (SELECT {_TP_SELECT} "  # noqa: S608
    f"FROM {_NEW} WHERE NOT machine AND kind IN ('open', 'click') "
    # one contact per contract key; a click outranks an open at the same instant
    "QUALIFY row_number() OVER (PARTITION BY customer_id, ts, campaign "
    "ORDER BY kind = 'click' DESC, engagement_id) = 1) n "
    f"WHERE NOT EXISTS (SELECT 1 FROM touchpoints t WHERE {_TP_KEY})"
)
_MOVE_WATERMARK = (
    f"INSERT INTO {META_TABLE} VALUES ($source, $watermark, $rows, $now) "  # noqa: S608
    "ON CONFLICT (source) DO UPDATE SET watermark = greatest(watermark, EXCLUDED.watermark), "
    "rows = rows + EXCLUDED.rows, updated_at = EXCLUDED.updated_at"
)
_READ_WATERMARKS = f"SELECT source, watermark, rows, updated_at FROM {META_TABLE}"  # noqa: S608
_COUNTS = {
    "events": "SELECT count(*) FROM events",
    ENGAGEMENT_TABLE: f"SELECT count(*) FROM {ENGAGEMENT_TABLE}",  # noqa: S608
    "touchpoints (email)": "SELECT count(*) FROM touchpoints WHERE channel = 'email'",
}


def exec_sql(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list[tuple]:
    """Run one statement and fetch its result (DuckDB wants results consumed before the next)."""
    return con.execute(sql, params or {}).fetchall()


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the contract tables, ``email_engagement`` and ``_compaction`` if missing."""
    exec_sql(con, "SET enable_progress_bar = false")
    create_tables(con)
    for statement in _DDL:
        exec_sql(con, statement)


def watermarks(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int, datetime]]:
    """Per source: (last operational id compacted, rows appended in total, last update)."""
    return {r[0]: (int(r[1]), int(r[2]), r[3]) for r in exec_sql(con, _READ_WATERMARKS)}


def analytics_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows in ``events`` and ``email_engagement``, and e-mail rows in ``touchpoints``."""
    return {name: int(exec_sql(con, sql)[0][0]) for name, sql in _COUNTS.items()}


def to_arrow(rows: Sequence[Sequence[Any]], schema: pa.Schema) -> pa.Table:
    """Rows (tuples in ``schema``'s order) as an Arrow table with naive UTC timestamps.

    TIMESTAMP in the contracts is naive UTC: aware values (PostgreSQL) are converted to UTC,
    naive ones (SQLite keeps no zone) are taken as UTC already.
    """
    cols = list(zip(*rows, strict=True)) if rows else [()] * len(schema)
    arrays = [pa.array(v, type=f.type) for v, f in zip(cols, schema, strict=True)]
    naive = [f.with_type(pa.timestamp("us")) if f.type == _TS else f for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema).cast(pa.schema(naive))


def write_chunk(
    con: duckdb.DuckDBPyConnection, source: Source, chunk: pa.Table, last_id: int
) -> tuple[int, int]:
    """Append ``chunk`` (insert-or-ignore) and move the watermark, in one DuckDB transaction.

    Tracked events are matched on ``message_id``, engagement rows on ``engagement_id`` (and
    their touchpoints on the touchpoints key). Returns (rows appended, touchpoints appended).
    """
    con.register(_CHUNK, chunk)
    con.begin()
    try:
        touch = 0
        if source == "tracked_events":
            added = exec_sql(con, _INSERT_EVENTS)[0][0]
        else:
            exec_sql(con, _NEW_ENGAGEMENT)
            added = exec_sql(con, _INSERT_ENGAGEMENT)[0][0]
            touch = exec_sql(con, _INSERT_TOUCHPOINTS)[0][0]
            exec_sql(con, f"DROP TABLE {_NEW}")
        now = datetime.now(UTC).replace(tzinfo=None)
        params = {"source": source, "watermark": last_id, "rows": added, "now": now}
        exec_sql(con, _MOVE_WATERMARK, params)
    except BaseException:
        con.rollback()
        raise
    else:
        con.commit()
    finally:
        con.unregister(_CHUNK)
    return int(added), int(touch)
