"""Compaction of tracked events and e-mail engagement into the analytics database: every row
arrives exactly once, also after a crash between the DuckDB commit and the operational update,
on SQLite and on PostgreSQL, and the result keeps the EVENTS and TOUCHPOINTS contracts."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select, update
from typer.testing import CliRunner

from streamwise.cli.app import app
from streamwise.data.contracts import EVENTS, TOUCHPOINTS
from streamwise.downstream.tracking.compact import compact, compaction_status
from streamwise.store.models import Campaign, Engagement, TrackedEvent
from streamwise.workspace import Workspace

NOW = datetime.now(UTC).replace(microsecond=123456) - timedelta(hours=1)
CLI_ENV = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}


class SimulatedCrashError(Exception):
    """Raised by a hook to stop compaction at the worst moment."""


# -- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ws(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Workspace]:
    """A workspace whose operational database is SQLite, or PostgreSQL."""
    if request.param == "postgres":
        monkeypatch.setenv("STREAMWISE_OPERATIONAL", request.getfixturevalue("pg_url"))
    workspace = Workspace.init(tmp_path / "ws", demo=True)
    assert workspace.operational().dialect.name == request.param.replace("postgres", "postgresql")
    yield workspace
    workspace.close()


@pytest.fixture
def sqlite_ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = Workspace.init(tmp_path / "ws", demo=True)
    yield workspace
    workspace.close()


# -- helpers ----------------------------------------------------------------------------------
def make_events(n: int, start: int = 0) -> list[dict[str, Any]]:
    """``n`` Segment calls: identify, page (anonymous) and track, with JSON payloads."""
    rows = []
    for i in range(start, start + n):
        kind = ("identify", "page", "track", "track", "track")[i % 5]
        ts, track = NOW - timedelta(seconds=i), kind == "track"
        rows.append({
            "message_id": f"ajs-{i:07d}", "type": kind,
            "user_id": None if kind == "page" else f"C{i % 997:06d}",
            "anonymous_id": f"anon-{i % 31}" if kind != "identify" else None,
            "event": "Product Viewed" if track else None,
            "name": "Tents" if kind == "page" else None,
            "properties": json.dumps({"product_id": f"P{i}", "price": i / 4}) if track else None,
            "traits": json.dumps({"plan": "pro", "n": i}) if kind == "identify" else None,
            "context": json.dumps({"ip": "203.0.113.9", "campaign": {"source": "news"}}),
            "timestamp": ts, "original_timestamp": ts, "sent_at": NOW,
            "received_at": NOW + timedelta(seconds=1), "compacted": False,
        })  # fmt: skip
    return rows


def insert_rows(engine: Engine, model: type, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        for i in range(0, len(rows), 20_000):
            conn.execute(insert(model.__table__), rows[i : i + 20_000])


def add_campaign(engine: Engine, name: str = "spring-sale") -> int:
    with engine.begin() as conn:
        return conn.execute(
            insert(Campaign.__table__).returning(Campaign.__table__.c.id),
            {"name": name, "channel": "email", "state": "sent", "audience": "true",
             "settings": {}, "seed": "s", "created_at": NOW, "updated_at": NOW},
        ).scalar_one()  # fmt: skip


def make_engagements(campaign_id: int, n: int) -> list[dict[str, Any]]:
    """Per recipient: a machine open, a human open, a click, then every 4th unsubscribes and
    every 5th converts."""
    rows = []
    for i in range(n):
        base = {"campaign_id": campaign_id, "variant": "A", "customer_id": f"C{i:06d}",
                "ip": None, "user_agent": None, "revenue": None, "event_message_id": None,
                "url": None, "rule": None, "machine": False}  # fmt: skip
        t0 = NOW - timedelta(minutes=i)
        rows.append({**base, "kind": "open", "ts": t0, "machine": True, "rule": "apple-mpp"})
        rows.append({**base, "kind": "open", "ts": t0 + timedelta(seconds=30)})
        click = t0 + timedelta(seconds=40)
        rows.append({**base, "kind": "click", "ts": click, "url": "https://x.example/a"})
        if i % 4 == 0:
            rows.append({**base, "kind": "unsubscribe", "ts": t0 + timedelta(seconds=50)})
        if i % 5 == 0:
            rows.append({**base, "kind": "conversion", "ts": t0 + timedelta(seconds=60),
                         "revenue": 42.5, "event_message_id": f"ajs-order-{i}"})  # fmt: skip
    return rows


def duck(ws: Workspace, sql: str) -> list[tuple]:
    return ws.duckdb().execute(sql).fetchall()


def waiting(engine: Engine) -> int:
    t = TrackedEvent.__table__
    with engine.connect() as conn:
        return conn.execute(select(func.count()).where(t.c.compacted.is_(False))).scalar_one()


def naive_utc(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(tzinfo=None)


# -- tests ------------------------------------------------------------------------------------
def test_compaction_moves_every_row_once(ws: Workspace) -> None:
    engine = ws.operational()
    events = make_events(2_345)
    insert_rows(engine, TrackedEvent, events)
    cid = add_campaign(engine)
    engagements = make_engagements(cid, 300)
    insert_rows(engine, Engagement, engagements)

    seen: list[tuple[str, int, int]] = []
    result = compact(engine, ws.duckdb(), chunk_size=500, on_progress=lambda *a: seen.append(a))

    assert (result.events_read, result.events_appended, result.events_marked) == (2_345,) * 3
    assert result.engagements_appended == len(engagements)
    assert result.touchpoints_appended == 600  # a human open and a click per recipient
    assert ("tracked_events", 2_345, 2_345) in seen
    assert seen[0] == ("tracked_events", 0, 2_345)
    assert waiting(engine) == 0
    with engine.connect() as conn:
        top = conn.execute(select(func.max(TrackedEvent.id))).scalar_one()
        top_e = conn.execute(select(func.max(Engagement.id))).scalar_one()
    assert result.watermarks == {"tracked_events": top, "engagements": top_e}

    got = duck(ws, "SELECT message_id, type, user_id, anonymous_id, event, name, "
                   "properties::VARCHAR, traits::VARCHAR, context::VARCHAR, timestamp, received_at "
                   "FROM events ORDER BY message_id")  # fmt: skip
    assert len(got) == len(events)
    for row, ev in zip(got, events, strict=True):
        assert row[:6] == tuple(ev[k] for k in EVENTS.names[:6])
        for value, key in zip(row[6:9], ("properties", "traits", "context"), strict=True):
            assert (json.loads(value) if value else None) == (
                json.loads(ev[key]) if ev[key] else None
            )
        assert row[9] == naive_utc(ev["timestamp"])
        assert row[10] == naive_utc(ev["received_at"])

    kinds = dict(duck(ws, "SELECT kind, count(*) FROM email_engagement GROUP BY kind"))
    assert kinds == {"open": 600, "click": 300, "unsubscribe": 75, "conversion": 60}
    assert duck(ws, "SELECT count(*) FROM email_engagement WHERE machine") == [(300,)]
    assert duck(ws, "SELECT sum(revenue), count(DISTINCT campaign) FROM email_engagement") == [
        (60 * 42.5, 1)
    ]
    tp = duck(ws, "SELECT interaction, count(*), min(campaign), max(campaign), min(channel) "
                  "FROM touchpoints GROUP BY ALL ORDER BY 1")  # fmt: skip
    assert tp == [("click", 300, "spring-sale", "spring-sale", "email"),
                  ("open", 300, "spring-sale", "spring-sale", "email")]  # fmt: skip
    # a human open's touchpoint keeps its time; the machine open 30 s before it left none
    first = duck(ws, "SELECT min(ts) FROM touchpoints WHERE customer_id = 'C000000'")[0][0]
    assert first == naive_utc(NOW + timedelta(seconds=30))


def test_running_twice_adds_nothing_then_only_the_new_rows(ws: Workspace) -> None:
    engine = ws.operational()
    insert_rows(engine, TrackedEvent, make_events(1_000))
    insert_rows(engine, Engagement, make_engagements(add_campaign(engine), 50))
    first = compact(engine, ws.duckdb(), chunk_size=300)
    again = compact(engine, ws.duckdb(), chunk_size=300)
    assert (again.events_read, again.events_appended, again.engagements_appended) == (0, 0, 0)
    assert again.touchpoints_appended == 0
    assert again.engagements_read == first.engagements_read  # the re-read lookback window
    assert again.watermarks == first.watermarks
    counts = (
        "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM email_engagement), "
        "(SELECT count(*) FROM touchpoints)"
    )
    before = duck(ws, counts)

    insert_rows(engine, TrackedEvent, make_events(10, start=1_000))
    third = compact(engine, ws.duckdb(), chunk_size=300)
    assert third.events_appended == 10
    assert third.engagements_appended == 0
    assert duck(ws, counts)[0] == (before[0][0] + 10, *before[0][1:])
    assert duck(ws, "SELECT count(*) - count(DISTINCT message_id) FROM events") == [(0,)]


def test_a_crash_between_the_duckdb_commit_and_the_marking_adds_nothing_twice(
    ws: Workspace,
) -> None:
    engine = ws.operational()
    insert_rows(engine, TrackedEvent, make_events(2_000))
    insert_rows(engine, Engagement, make_engagements(add_campaign(engine), 40))
    commits: list[tuple[str, int]] = []

    def crash_on_second_chunk(source: str, mark: int) -> None:
        commits.append((source, mark))
        if len(commits) == 2:
            raise SimulatedCrashError

    with pytest.raises(SimulatedCrashError):
        compact(engine, ws.duckdb(), chunk_size=500, after_commit=crash_on_second_chunk)
    # two chunks are in DuckDB with the watermark of the second; only the first is marked
    assert duck(ws, "SELECT count(*) FROM events") == [(1_000,)]
    status = compaction_status(engine, ws.duckdb())
    assert status.events_waiting == 1_500
    assert status.events_compacted == 500
    assert status.watermarks == {"tracked_events": commits[1][1]}

    result = compact(engine, ws.duckdb(), chunk_size=500)
    assert (result.events_read, result.events_appended, result.events_marked) == (1500, 1000, 1500)
    assert duck(ws, "SELECT count(*), count(DISTINCT message_id) FROM events") == [(2000, 2000)]
    assert waiting(engine) == 0

    # a crash after an engagement chunk: its rows are in DuckDB once, however often we rerun
    insert_rows(engine, Engagement, make_engagements(add_campaign(engine, "later"), 40))

    def crash_on_engagement(source: str, mark: int) -> None:
        if source == "engagements":
            raise SimulatedCrashError

    with pytest.raises(SimulatedCrashError):
        compact(engine, ws.duckdb(), chunk_size=100, after_commit=crash_on_engagement)
    compact(engine, ws.duckdb(), chunk_size=100)
    compact(engine, ws.duckdb(), chunk_size=100)
    with engine.connect() as conn:
        n_eng = conn.execute(select(func.count()).select_from(Engagement)).scalar_one()
    sql = "SELECT count(*), count(DISTINCT engagement_id) FROM email_engagement"
    assert duck(ws, sql) == [(n_eng, n_eng)]
    assert duck(ws, "SELECT count(*) FROM touchpoints") == [(160,)]


KILLED = r"""
import os, sys
from streamwise.workspace import Workspace
from streamwise.downstream.tracking.compact import compact
def die(source, mark):
    if source == "tracked_events" and mark > int(sys.argv[2]):
        os._exit(3)  # no cleanup, no checkpoint: as a kill -9 right after the DuckDB commit
ws = Workspace.open(sys.argv[1])
compact(ws.operational(), ws.duckdb(), chunk_size=400, after_commit=die)
"""


def test_a_killed_process_resumes_without_duplicates(sqlite_ws: Workspace) -> None:
    engine = sqlite_ws.operational()
    insert_rows(engine, TrackedEvent, make_events(3_000))
    root = sqlite_ws.root
    sqlite_ws.close()  # DuckDB lets one process write the file
    for stop_after in (1_000, 2_000):
        proc = subprocess.run(
            [sys.executable, "-c", KILLED, str(root), str(stop_after)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert proc.returncode == 3, proc.stderr
    with Workspace.open(root) as ws:
        # chunks of 400: the first run died after committing 801-1200 to DuckDB, the second
        # marked 801-1200 only, then died after committing 2001-2400
        assert waiting(ws.operational()) == 3_000 - 2_000
        assert duck(ws, "SELECT count(*) FROM events") == [(2_400,)]
        result = compact(ws.operational(), ws.duckdb(), chunk_size=400)
        assert result.events_appended == 600
        assert result.events_read - result.events_appended == 400  # only marked
        assert duck(ws, "SELECT count(*), count(DISTINCT message_id) FROM events") == [
            (3_000, 3_000)
        ]
        assert waiting(ws.operational()) == 0


def test_rows_that_become_visible_below_the_watermark_are_not_lost(ws: Workspace) -> None:
    """PostgreSQL gives ids before commit: id 5 may commit after id 10 was compacted."""
    engine = ws.operational()
    events = make_events(10)
    for i, row in enumerate(events, start=1):
        row["id"] = i
    insert_rows(engine, TrackedEvent, [r for r in events if r["id"] != 5])
    cid = add_campaign(engine)
    eng = make_engagements(cid, 4)[:10]
    for i, row in enumerate(eng, start=1):
        row["id"] = i
    insert_rows(engine, Engagement, [r for r in eng if r["id"] != 5])
    first = compact(engine, ws.duckdb())
    assert first.watermarks == {"tracked_events": 10, "engagements": 10}
    assert (first.events_appended, first.engagements_appended) == (9, 9)

    insert_rows(engine, TrackedEvent, [events[4]])
    insert_rows(engine, Engagement, [eng[4]])
    late = compact(engine, ws.duckdb())
    assert (late.events_appended, late.engagements_appended) == (1, 1)
    assert late.watermarks == first.watermarks
    assert duck(ws, "SELECT count(*) FROM events WHERE message_id = 'ajs-0000004'") == [(1,)]
    assert duck(ws, "SELECT count(*) FROM email_engagement") == [(10,)]


def test_compacted_rows_keep_the_events_and_touchpoints_contracts(ws: Workspace) -> None:
    engine = ws.operational()
    events = make_events(500)
    events[2]["properties"] = "not json {"  # kept as a JSON string, never dropped
    if engine.dialect.name == "postgresql":  # an offset is converted to UTC on the way
        events[3]["timestamp"] = events[3]["timestamp"].astimezone(timezone(timedelta(hours=2)))
    insert_rows(engine, TrackedEvent, events)
    insert_rows(engine, Engagement, make_engagements(add_campaign(engine), 20))
    # an event already imported from a file with the same message_id is kept as it was
    duck(ws, "INSERT INTO events (message_id, type, user_id, timestamp) "
             "VALUES ('ajs-0000000', 'identify', 'FROM-FILE', TIMESTAMP '2024-01-01')")  # fmt: skip
    result = compact(engine, ws.duckdb(), chunk_size=128)
    assert (result.events_read, result.events_appended) == (500, 499)
    assert duck(ws, "SELECT user_id FROM events WHERE message_id = 'ajs-0000000'") == [
        ("FROM-FILE",)
    ]

    for table, contract in (("events", EVENTS), ("touchpoints", TOUCHPOINTS)):
        types = {r[0]: r[1] for r in duck(ws, f"DESCRIBE {table}")}
        assert types == {c.name: c.type for c in contract.columns}
        for col in contract.columns:
            if col.required:
                assert duck(ws, f'SELECT count(*) FROM {table} WHERE "{col.name}" IS NULL') == [
                    (0,)
                ]
            if col.allowed:
                allowed = ", ".join(f"'{v}'" for v in col.allowed)
                sql = f'SELECT count(*) FROM {table} WHERE "{col.name}" NOT IN ({allowed})'
                assert duck(ws, sql) == [(0,)]
        for rule in contract.rules:
            assert duck(ws, f"SELECT count(*) FROM {table} WHERE NOT ({rule.sql})") == [(0,)]
    assert duck(ws, "SELECT count(*) FROM events WHERE timestamp >= now()::TIMESTAMP") == [(0,)]

    # JSON is readable with DuckDB's json functions
    sql = (
        "SELECT json_extract_string(properties, '$.product_id'), (properties->>'$.price')::DOUBLE,"
        " context->'$.campaign'->>'$.source' FROM events WHERE message_id = 'ajs-0000004'"
    )
    assert duck(ws, sql) == [("P4", 1.0, "news")]
    assert duck(ws, "SELECT DISTINCT json_type(traits) FROM events WHERE type = 'identify' "
                    "AND user_id <> 'FROM-FILE'") == [("OBJECT",)]  # fmt: skip
    assert duck(ws, "SELECT json_type(properties), properties->>'$' FROM events "
                    "WHERE message_id = 'ajs-0000002'") == [("VARCHAR", "not json {")]  # fmt: skip
    assert duck(ws, "SELECT timestamp FROM events WHERE message_id = 'ajs-0000003'") == [
        (naive_utc(NOW - timedelta(seconds=3)),)
    ]


def test_the_cli_compacts_and_shows_the_status(sqlite_ws: Workspace) -> None:
    engine = sqlite_ws.operational()
    insert_rows(engine, TrackedEvent, make_events(1_234))
    insert_rows(engine, Engagement, make_engagements(add_campaign(engine), 10))
    root = str(sqlite_ws.root)
    sqlite_ws.close()
    runner = CliRunner()
    before = runner.invoke(app, ["events", "status", "-w", root, "--json"], env=CLI_ENV)
    assert before.exit_code == 0, before.output
    assert json.loads(before.output)["events_waiting"] == 1_234
    out = runner.invoke(app, ["events", "compact", "-w", root, "--chunk-size", "500"], env=CLI_ENV)
    assert out.exit_code == 0, out.output
    assert (
        "Compacted 1,234 event(s) and 35 engagement row(s) (20 e-mail touchpoint(s))" in out.output
    )
    shown = runner.invoke(app, ["events", "status", "-w", root], env=CLI_ENV)
    assert shown.exit_code == 0, shown.output
    assert "events" in shown.output
    assert "1,234" in shown.output
    assert "email_engagement 35" in shown.output
    after = json.loads(
        runner.invoke(app, ["events", "status", "-w", root, "--json"], env=CLI_ENV).output
    )
    assert after["events_waiting"] == 0
    assert after["events_compacted"] == 1_234
    assert after["watermarks"] == {"tracked_events": 1_234, "engagements": 35}
    # Compacted events past the de-duplication window leave the operational database.
    old = datetime.now(UTC) - timedelta(days=8)
    with engine.begin() as con:
        con.execute(update(TrackedEvent).where(TrackedEvent.id <= 234).values(received_at=old))
    again = runner.invoke(app, ["events", "compact", "-w", root], env=CLI_ENV)
    assert again.exit_code == 0, again.output
    assert "Pruned 234 compacted event(s)" in again.output
    kept = json.loads(
        runner.invoke(app, ["events", "status", "-w", root, "--json"], env=CLI_ENV).output
    )
    assert kept["events_compacted"] == 1_000
    assert kept["analytics_rows"]["events"] == 1_234  # the analytics copy stays
    bad = runner.invoke(app, ["events", "compact", "-w", str(Path(root) / "nope")], env=CLI_ENV)
    assert bad.exit_code == 1
    assert "not a Streamwise workspace" in bad.output


@pytest.mark.slow
def test_200k_events_compact_in_bounded_memory(sqlite_ws: Workspace) -> None:
    engine = sqlite_ws.operational()
    n, chunk = 200_000, 25_000
    for start in range(0, n, 50_000):  # built and inserted in parts, so the test stays small too
        insert_rows(engine, TrackedEvent, make_events(50_000, start=start))
    tracemalloc.start()
    began = time.perf_counter()
    try:
        result = compact(engine, sqlite_ws.duckdb(), chunk_size=chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    seconds = time.perf_counter() - began
    print(f"\ncompacted {n:,} events in {seconds:.2f} s ({n / seconds:,.0f} rows/s, under "
          f"tracemalloc); peak Python memory {peak / 2**20:.0f} MiB")  # fmt: skip
    assert result.events_appended == n
    assert duck(sqlite_ws, "SELECT count(DISTINCT message_id) FROM events") == [(n,)]
    # One chunk's rows are held at a time. Measured: ~1.7 kB of Python objects per chunk row
    # (~43 MiB here); holding all 200k rows at once peaked near 200 MiB.
    assert peak < 3_000 * chunk, f"{peak / 2**20:.0f} MiB"
