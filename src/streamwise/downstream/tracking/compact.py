"""Compaction: move received events and e-mail engagement into the analytics database.

Tracked events (``tracked_events`` in the operational database) go to the analytics ``events``
table of the EVENTS contract; engagement rows (``engagements``) go to ``email_engagement``, one
row per open, click, unsubscribe or conversion, and human opens and clicks also become
``touchpoints`` (channel ``email``, the campaign's name) so that attribution sees e-mail.

Exactly once, even across crashes. Rows are read in id order, one chunk at a time (memory is
bounded by the chunk). Each chunk is written to DuckDB together with the high-water mark of its
source (the last operational id compacted) in the ``_compaction`` table, in one DuckDB
transaction. Only then are the tracked events marked ``compacted`` in the operational database
(engagement rows keep no flag: the watermark alone says how far they went). A crash between the
two steps leaves rows that are in DuckDB but not marked; the next run reads them again and finds
their ``message_id`` already stored, so they are only marked. That insert-or-ignore on the key is
the second guard, and it also keeps an event that a file import already stored.

PostgreSQL hands out ids before commit, so a row can become visible after a higher id was
compacted. Tracked events are selected by their flag, not by id, so such a row is simply taken
by the next run. Engagement rows have no flag: each run reads again the last ``lookback`` ids
below the watermark and inserts only the ones ``email_engagement`` lacks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd
from sqlalchemy import Engine, Table, bindparam, false, func, select, update

from streamwise.data.contracts import EVENTS
from streamwise.downstream.tracking.compact_sql import (
    ENGAGEMENT_SCHEMA,
    ENGAGEMENT_TABLE,
    EVENT_SCHEMA,
    META_TABLE,
    analytics_counts,
    ensure_tables,
    to_arrow,
    watermarks,
    write_chunk,
)
from streamwise.store.db import needs_table
from streamwise.store.models import Campaign, Engagement, TrackedEvent

__all__ = [
    "ENGAGEMENT_TABLE",
    "META_TABLE",
    "SOURCES",
    "CompactionResult",
    "CompactionStatus",
    "compact",
    "compaction_status",
    "ensure_tables",
]

SOURCES = ("tracked_events", "engagements")

Progress = Callable[[str, int, int], None]
Hook = Callable[[str, int], None]


@dataclass(frozen=True)
class CompactionResult:
    """What one compaction run did.

    ``*_read`` counts operational rows read; ``*_appended`` the rows added to the analytics
    database; rows read but not appended were there already (after a crash, a file import or,
    for engagement, the re-read ``lookback`` window). ``events_marked`` tracked events were
    flagged ``compacted``. ``watermarks`` is the last operational id compacted per source.
    """

    events_read: int
    events_appended: int
    events_marked: int
    engagements_read: int
    engagements_appended: int
    touchpoints_appended: int
    watermarks: dict[str, int]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per source: read, appended, watermark."""
        read = {SOURCES[0]: self.events_read, SOURCES[1]: self.engagements_read}
        added = {SOURCES[0]: self.events_appended, SOURCES[1]: self.engagements_appended}
        rows = [(s, read[s], added[s], self.watermarks.get(s)) for s in SOURCES]
        return pd.DataFrame(rows, columns=["source", "read", "appended", "watermark"])


@dataclass(frozen=True)
class CompactionStatus:
    """Where compaction stands.

    ``events_waiting`` tracked events are not compacted yet and ``events_compacted`` are (until
    they are deleted after the de-duplication window); ``engagements_waiting`` engagement rows
    lie above the watermark. ``analytics_rows`` counts ``events``, ``email_engagement`` and the
    e-mail ``touchpoints`` in the analytics database; ``watermarks``, ``appended`` and
    ``updated_at`` come from the ``_compaction`` table (absent before the first run).
    """

    events_waiting: int
    events_compacted: int
    engagements_waiting: int
    analytics_rows: dict[str, int]
    watermarks: dict[str, int]
    appended: dict[str, int]
    updated_at: dict[str, datetime]

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (timestamps as ISO 8601 text)."""
        out = asdict(self)
        out["updated_at"] = {k: v.isoformat() for k, v in self.updated_at.items()}
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per source: waiting, watermark, appended in total, last run."""
        waiting = {SOURCES[0]: self.events_waiting, SOURCES[1]: self.engagements_waiting}
        rows = [
            (s, waiting[s], self.watermarks.get(s), self.appended.get(s, 0), self.updated_at.get(s))
            for s in SOURCES
        ]
        cols = ["source", "waiting", "watermark", "appended", "updated_at"]
        return pd.DataFrame(rows, columns=cols)


def _runs(ids: Sequence[int]) -> list[dict[str, int]]:
    """Runs of consecutive ids, as ``lo``/``hi`` bounds (usually one run per chunk)."""
    out: list[dict[str, int]] = []
    for i in ids:
        if out and out[-1]["hi"] == i - 1:
            out[-1]["hi"] = i
        else:
            out.append({"lo": i, "hi": i})
    return out


def _compact_events(
    engine: Engine,
    con: duckdb.DuckDBPyConnection,
    chunk_size: int,
    on_progress: Progress | None,
    after_commit: Hook | None,
) -> tuple[int, int, int]:
    t: Table = TrackedEvent.__table__  # type: ignore[assignment]
    cols = [t.c.id, *(t.c[n] for n in EVENTS.names)]
    mark = update(t).where(t.c.id.between(bindparam("lo"), bindparam("hi"))).values(compacted=True)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).where(t.c.compacted == false())).scalar_one()
    read = appended = marked = 0
    if on_progress:
        on_progress("tracked_events", 0, total)
    while True:
        # Always from the lowest uncompacted id: marked rows drop out, so no offset is needed.
        query = select(*cols).where(t.c.compacted == false()).order_by(t.c.id).limit(chunk_size)
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            break
        ids = [r[0] for r in rows]
        added, _ = write_chunk(con, "tracked_events", to_arrow(rows, EVENT_SCHEMA), ids[-1])
        if after_commit:
            after_commit("tracked_events", ids[-1])
        # Exactly the chunk's ids: a gap may hold a row that became visible since it was read.
        with engine.begin() as conn:
            conn.execute(mark, _runs(ids))
        read, appended, marked = read + len(rows), appended + added, marked + len(ids)
        if on_progress:
            on_progress("tracked_events", read, max(total, read))
    return read, appended, marked


def _compact_engagements(
    engine: Engine,
    con: duckdb.DuckDBPyConnection,
    start: int,
    chunk_size: int,
    on_progress: Progress | None,
    after_commit: Hook | None,
) -> tuple[int, int, int]:
    e: Table = Engagement.__table__  # type: ignore[assignment]
    cols = [e.c.id, e.c.kind, e.c.campaign_id, e.c.variant, e.c.customer_id, e.c.ts, e.c.url,
            e.c.machine, e.c.rule, e.c.revenue, e.c.event_message_id]  # fmt: skip
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).where(e.c.id > start)).scalar_one()
        names = dict(conn.execute(select(Campaign.id, Campaign.name)).all())
    read = appended = touch = 0
    if on_progress:
        on_progress("engagements", 0, total)
    cursor = start
    while True:
        query = select(*cols).where(e.c.id > cursor).order_by(e.c.id).limit(chunk_size)
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            break
        if any(r[2] is not None and r[2] not in names for r in rows):
            with engine.connect() as conn:  # a campaign created while we run
                names = dict(conn.execute(select(Campaign.id, Campaign.name)).all())
        full = [(r[0], r[1], r[2], names.get(r[2]), *r[3:]) for r in rows]
        cursor = rows[-1][0]
        added, tp = write_chunk(con, "engagements", to_arrow(full, ENGAGEMENT_SCHEMA), cursor)
        if after_commit:
            after_commit("engagements", cursor)
        read, appended, touch = read + len(rows), appended + added, touch + tp
        if on_progress:
            on_progress("engagements", read, max(total, read))
    return read, appended, touch


def compact(
    engine: Engine,
    con: duckdb.DuckDBPyConnection,
    *,
    chunk_size: int = 50_000,
    lookback: int = 10_000,
    on_progress: Progress | None = None,
    after_commit: Hook | None = None,
) -> CompactionResult:
    """Move tracked events and engagement rows into the analytics database, exactly once.

    Parameters
    ----------
    engine
        The operational database (SQLite or PostgreSQL), migrated.
    con
        The workspace's DuckDB connection (``Workspace.duckdb()``).
    chunk_size
        Operational rows read, converted and written at a time; memory grows with it.
    lookback
        Engagement ids below the watermark read again, for rows that became visible late.
    on_progress
        Called with (source, rows done, rows to do) before and after every chunk.
    after_commit
        Called with (source, watermark) after a chunk's DuckDB commit and before its rows are
        marked; tests raise in it to simulate a crash at the worst moment.

    Returns
    -------
    CompactionResult
        Rows read and appended per source, and the watermarks.
    """
    if chunk_size < 1 or lookback < 0:
        raise ValueError("chunk_size must be at least 1 and lookback not negative")
    began = time.perf_counter()
    ensure_tables(con)
    with needs_table(engine, "tracked_events", "tracking tables"):
        ev = _compact_events(engine, con, chunk_size, on_progress, after_commit)
        mark = watermarks(con).get("engagements", (0, 0, None))[0]
        en = _compact_engagements(
            engine, con, max(mark - lookback, 0), chunk_size, on_progress, after_commit
        )
    marks = {s: w for s, (w, _, _) in watermarks(con).items()}
    return CompactionResult(
        events_read=ev[0], events_appended=ev[1], events_marked=ev[2],
        engagements_read=en[0], engagements_appended=en[1], touchpoints_appended=en[2],
        watermarks=marks, seconds=time.perf_counter() - began,
    )  # fmt: skip


def compaction_status(engine: Engine, con: duckdb.DuckDBPyConnection) -> CompactionStatus:
    """Rows waiting and compacted, the watermarks and the analytics row counts."""
    ensure_tables(con)
    meta = watermarks(con)
    t: Table = TrackedEvent.__table__  # type: ignore[assignment]
    e: Table = Engagement.__table__  # type: ignore[assignment]
    mark = meta.get("engagements", (0, 0, None))[0]
    with needs_table(engine, "tracked_events", "tracking tables"), engine.connect() as conn:
        by_flag = dict(
            conn.execute(select(t.c.compacted, func.count()).group_by(t.c.compacted)).all()
        )
        waiting_eng = conn.execute(select(func.count()).where(e.c.id > mark)).scalar_one()
    rows = analytics_counts(con)
    return CompactionStatus(
        events_waiting=int(by_flag.get(False, 0)),
        events_compacted=int(by_flag.get(True, 0)),
        engagements_waiting=int(waiting_eng),
        analytics_rows=rows,
        watermarks={s: m[0] for s, m in meta.items()},
        appended={s: m[1] for s, m in meta.items()},
        updated_at={s: m[2] for s, m in meta.items()},
    )
