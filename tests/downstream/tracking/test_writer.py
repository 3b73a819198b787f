"""The group-commit event writer on SQLite and PostgreSQL: acknowledged means committed, many
submissions share a transaction, duplicates are stored once, failures fail only their own
requests, ``on_batch`` runs inside the transaction, and ``prune`` keeps the dedup window."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from streamwise.downstream.tracking.events import ROW_COLUMNS
from streamwise.downstream.tracking.writer import EventWriter, WriterClosedError, prune
from streamwise.store import Engagement, TrackedEvent, make_engine, migrate

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
T = TrackedEvent.__table__
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated operational database: SQLite (WAL), then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'ops.sqlite'}")
        migrate(eng)
        yield eng
        eng.dispose()
        return
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("STREAMWISE_REQUIRE_SERVICES"):
            pytest.fail(f"PostgreSQL is not reachable ({exc}) and STREAMWISE_REQUIRE_SERVICES")
        pytest.skip(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({exc})")
    name = f"streamwise_writer_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    eng = make_engine(f"postgresql://postgres@127.0.0.1:5432/{name}")
    migrate(eng)
    yield eng
    eng.dispose()
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def row(mid: str, **kw: Any) -> dict[str, Any]:
    base = {
        "message_id": mid, "type": "track", "user_id": "u1", "anonymous_id": None,
        "event": "Order Completed", "name": None, "properties": '{"revenue": 10}',
        "traits": None, "context": '{"ip": "203.0.113.1"}', "timestamp": NOW,
        "original_timestamp": NOW, "sent_at": None, "received_at": NOW, "compacted": False,
    }  # fmt: skip
    assert tuple(base) == ROW_COLUMNS
    return {**base, **kw}


def stored(engine: Engine) -> list[str]:
    with engine.connect() as con:
        return sorted(con.execute(select(T.c.message_id)).scalars())


@pytest.fixture
def writer(engine: Engine) -> Iterator[EventWriter]:
    w = EventWriter(engine)
    w.start()
    yield w
    w.stop()


def test_submit_returns_after_commit(engine: Engine, writer: EventWriter) -> None:
    async def go() -> None:
        for i in range(5):
            assert await writer.submit([row(f"m{i}")]) == 1
            # a separate connection sees the row the moment submit returns
            assert f"m{i}" in stored(engine)

    asyncio.run(go())
    with engine.connect() as con:
        back = con.execute(select(T).where(T.c.message_id == "m0")).one()
    assert back.timestamp.replace(tzinfo=back.timestamp.tzinfo or UTC) == NOW
    assert back.properties == '{"revenue": 10}'
    assert back.compacted is False


def test_durability_setting_of_the_writer_connection(engine: Engine, writer: EventWriter) -> None:
    asyncio.run(writer.submit([row("m")]))
    expected = "FULL" if engine.dialect.name == "sqlite" else "on"
    assert writer.synchronous == expected


def test_many_concurrent_submits_share_transactions(engine: Engine, writer: EventWriter) -> None:
    async def go() -> list[int]:
        return await asyncio.gather(*(writer.submit([row(f"m{i}")]) for i in range(300)))

    assert asyncio.run(go()) == [1] * 300
    stats = writer.stats()
    assert stats.submits == 300
    assert stats.new_rows == 300
    assert stats.transactions < stats.submits, stats
    assert len(stored(engine)) == 300


def test_duplicates_are_stored_once(engine: Engine, writer: EventWriter) -> None:
    async def go() -> tuple[int, int, list[int]]:
        first = await writer.submit([row("a"), row("b"), row("a")])  # repeated in one call
        again = await writer.submit([row("a"), row("c")])
        racing = await asyncio.gather(*(writer.submit([row("d")]) for _ in range(20)))
        return first, again, racing

    first, again, racing = asyncio.run(go())
    assert (first, again) == (2, 1)
    assert sorted(racing) == [0] * 19 + [1]  # exactly one of the racers stored it
    assert stored(engine) == ["a", "b", "c", "d"]


def test_empty_submit_touches_nothing(writer: EventWriter) -> None:
    assert asyncio.run(writer.submit([])) == 0
    assert writer.stats().transactions == 0


def test_a_bad_submission_fails_alone(engine: Engine) -> None:
    gate = threading.Event()

    def hold_first(con: Connection, rows: list[dict[str, Any]]) -> None:
        if rows[0]["message_id"] == "first":
            gate.wait(10)  # keeps the writer busy while the next three queue up

    w = EventWriter(engine, on_batch=hold_first)
    w.start()

    async def go() -> tuple[int, list[Any]]:
        first = asyncio.ensure_future(w.submit([row("first")]))
        await asyncio.sleep(0.2)
        bad = row("bad", type=None)  # violates NOT NULL
        group = [
            asyncio.ensure_future(w.submit(rows)) for rows in ([row("g1")], [bad], [row("g2")])
        ]
        await asyncio.sleep(0.05)
        gate.set()  # the three are now one group, whose transaction fails
        return await first, await asyncio.gather(*group, return_exceptions=True)

    try:
        first, (good1, failed, good2) = asyncio.run(go())
        assert asyncio.run(w.submit([row("after")])) == 1  # and the writer goes on
    finally:
        w.stop()
    assert (first, good1, good2) == (1, 1, 1)
    assert isinstance(failed, IntegrityError)
    assert stored(engine) == ["after", "first", "g1", "g2"]
    stats = w.stats()
    assert stats.failed_submits == 1
    assert stats.transactions == 4  # first, then g1 and g2 retried alone, then after


def test_a_database_error_is_not_acknowledged_and_the_writer_recovers(engine: Engine) -> None:
    w = EventWriter(engine)
    w.start()
    try:
        asyncio.run(w.submit([row("before")]))
        with engine.begin() as con:
            con.execute(text("ALTER TABLE tracked_events RENAME TO tracked_events_away"))
        with pytest.raises(Exception, match="tracked_events"):
            asyncio.run(w.submit([row("lost")]))
        with engine.begin() as con:
            con.execute(text("ALTER TABLE tracked_events_away RENAME TO tracked_events"))
        assert asyncio.run(w.submit([row("later")])) == 1
    finally:
        w.stop()
    assert stored(engine) == ["before", "later"]


def test_stop_writes_everything_submitted_then_refuses(engine: Engine) -> None:
    w = EventWriter(engine, max_batch=7)

    async def go() -> list[int]:
        w.start()
        tasks = [asyncio.ensure_future(w.submit([row(f"m{i}")])) for i in range(50)]
        await asyncio.sleep(0)  # every submit has queued its rows
        await asyncio.to_thread(w.stop)
        return await asyncio.gather(*tasks)

    assert asyncio.run(go()) == [1] * 50
    assert len(stored(engine)) == 50
    assert w.stats().transactions >= 50 // 7
    with pytest.raises(WriterClosedError, match="not running"):
        asyncio.run(w.submit([row("late")]))


def test_submit_before_start_is_refused(engine: Engine) -> None:
    with pytest.raises(WriterClosedError):
        asyncio.run(EventWriter(engine).submit([row("x")]))


def test_on_batch_sees_new_rows_inside_the_transaction(engine: Engine) -> None:
    seen: list[list[str]] = []

    def on_batch(con: Connection, rows: list[dict[str, Any]]) -> None:
        seen.append([r["message_id"] for r in rows])
        # the rows are already visible to this transaction
        count = con.execute(select(func.count()).select_from(T)).scalar_one()
        assert count >= len(rows)
        con.execute(insert(Engagement.__table__).values(
            kind="conversion", customer_id="u1", ts=NOW, machine=False,
            event_message_id=rows[0]["message_id"]))  # fmt: skip

    w = EventWriter(engine, on_batch=on_batch)
    w.start()
    try:
        asyncio.run(w.submit([row("n1"), row("n2")]))
        asyncio.run(w.submit([row("n1")]))  # nothing new: not called
    finally:
        w.stop()
    assert seen == [["n1", "n2"]]
    with engine.connect() as con:
        assert con.execute(select(Engagement.event_message_id)).scalars().all() == ["n1"]


def test_a_failing_on_batch_keeps_the_events(engine: Engine) -> None:
    def on_batch(con: Connection, rows: list[dict[str, Any]]) -> None:
        con.execute(insert(Engagement.__table__).values(
            kind="conversion", customer_id="u1", ts=NOW, machine=False))  # fmt: skip
        raise RuntimeError("attribution broke")

    w = EventWriter(engine, on_batch=on_batch)
    w.start()
    try:
        assert asyncio.run(w.submit([row("k1")])) == 1
    finally:
        w.stop()
    assert stored(engine) == ["k1"]
    assert w.stats().on_batch_errors == 1
    with engine.connect() as con:  # its own writes were rolled back
        assert con.execute(select(func.count()).select_from(Engagement)).scalar_one() == 0


def test_prune_deletes_only_compacted_rows_past_the_window(engine: Engine) -> None:
    old = datetime.now(UTC) - timedelta(days=10)
    fresh = datetime.now(UTC) - timedelta(days=1)
    with engine.begin() as con:
        con.execute(insert(T), [
            row("old-compacted", received_at=old), row("old-pending", received_at=old),
            row("new-compacted", received_at=fresh),
        ])  # fmt: skip
        con.execute(update(T).where(T.c.message_id.like("%-compacted")).values(compacted=True))
    assert prune(engine, 7) == 1
    assert stored(engine) == ["new-compacted", "old-pending"]


def test_rows_larger_than_a_transaction_still_go_in_one(engine: Engine) -> None:
    w = EventWriter(engine, max_batch=100, max_wait=0)
    w.start()
    try:
        assert asyncio.run(w.submit([row(f"r{i}") for i in range(1234)])) == 1234
    finally:
        w.stop()
    assert w.stats().transactions == 1
    assert len(stored(engine)) == 1234
