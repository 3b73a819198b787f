"""Group commit of received events: one writer thread, one transaction for everything waiting.

Request handlers ``await writer.submit(rows)``; the writer thread takes every submission waiting
(up to ``max_batch`` rows, lingering at most ``max_wait`` seconds for more), inserts them in ONE
transaction with ``INSERT ... ON CONFLICT (message_id) DO NOTHING``, lets ``on_batch`` (conversion
attribution) see the new rows in the same transaction, commits, and only then resolves the
waiting handlers. One fsync thus acknowledges many requests, and nothing is acknowledged that
was not committed.

Durability of an acknowledgement: on SQLite the writer's connection runs with
``PRAGMA synchronous=FULL`` (the WAL is synced at each commit, so an acknowledged event survives
a crash of the process and of the operating system); on PostgreSQL the writer's session uses
``synchronous_commit = on`` (the commit record is flushed to the server's disk before the commit
returns).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Engine, delete
from sqlalchemy.exc import DBAPIError, OperationalError

from streamwise.errors import DeliveryError
from streamwise.store.models import TrackedEvent

__all__ = ["EventWriter", "WriterClosedError", "WriterStats", "prune"]

log = logging.getLogger("streamwise.tracking.writer")

OnBatch = Callable[[Connection, list[dict[str, Any]]], None]
_TABLE = TrackedEvent.__table__
_COLUMNS = [c for c in _TABLE.columns if c.name != "id"]


class WriterClosedError(DeliveryError):
    """The event writer is not running (not started yet, or stopping)."""


@dataclass(frozen=True)
class WriterStats:
    """Counters of an :class:`EventWriter` since it was made.

    Attributes
    ----------
    submits
        Calls of ``submit`` with at least one row.
    transactions
        Transactions committed (one per group of submissions).
    rows
        Rows offered to the database in committed transactions.
    new_rows
        Of those, rows that were not duplicates.
    failed_submits
        Submissions answered with an error.
    on_batch_errors
        Times ``on_batch`` raised (its work was rolled back; the events were kept).
    """

    submits: int
    transactions: int
    rows: int
    new_rows: int
    failed_submits: int
    on_batch_errors: int

    def to_dict(self) -> dict[str, int]:
        """The counters as a dict."""
        return asdict(self)


@dataclass(slots=True)
class _Pending:
    rows: Sequence[dict[str, Any]]
    future: asyncio.Future[int]
    loop: asyncio.AbstractEventLoop


def _resolve(future: asyncio.Future[int], value: int | BaseException) -> None:
    if future.done():  # the waiting request was cancelled (client went away)
        return
    if isinstance(value, BaseException):
        future.set_exception(value)
    else:
        future.set_result(value)


class _Insert:
    """``INSERT ... ON CONFLICT (message_id) DO NOTHING RETURNING message_id`` for one dialect,
    as driver-level SQL made once from the table's own column names and types (nothing from
    the request goes into the SQL text; every value is a bound parameter).

    Going below SQLAlchemy's statement execution here is worth it: per row it cost ~45 µs on
    SQLite (parameter processing, datetime formatting) and ~60 µs on PostgreSQL (psycopg
    quoting arrays as text), against ~20 µs and ~5 µs like this.

    * PostgreSQL: one statement over arrays, ``INSERT ... SELECT * FROM unnest(%(col)b::type[],
      ...)``, the arrays sent in psycopg's binary format: 14 parameters however many rows.
    * SQLite: multi-row ``VALUES`` in chunks of :data:`SQLITE_CHUNK` rows, times written as
      SQLAlchemy writes them (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC) so they read back the same.
    """

    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect.name
        quote = engine.dialect.identifier_preparer.quote
        names = ", ".join(quote(c.name) for c in _COLUMNS)
        head = f"INSERT INTO {quote(_TABLE.name)} ({names}) "
        tail = " ON CONFLICT (message_id) DO NOTHING RETURNING message_id"
        if self.dialect == "postgresql":
            arrays = ", ".join(
                f"%({c.name})b::{c.type.compile(dialect=engine.dialect)}[]" for c in _COLUMNS
            )
            self.sql = head + f"SELECT * FROM unnest({arrays})" + tail  # noqa: S608 - the table's names
        elif self.dialect == "sqlite":
            one = "(" + ", ".join("?" * len(_COLUMNS)) + ")"
            self.head, self.one, self.tail = head + "VALUES ", one, tail
            self.full = self._values(SQLITE_CHUNK)
        else:
            raise DeliveryError(
                f"the event writer supports SQLite and PostgreSQL, not {self.dialect}; set "
                "operational in streamwise.toml to a sqlite:/// or postgresql:// URL"
            )

    def _values(self, n: int) -> str:
        return self.head + ", ".join([self.one] * n) + self.tail

    def __call__(self, con: Connection, rows: list[dict[str, Any]]) -> set[str]:
        """Insert ``rows``; the message ids of those that were new."""
        if self.dialect == "postgresql":
            params = {name: [row[name] for row in rows] for name in _NAMES}
            params["compacted"] = [bool(v) for v in params["compacted"]]
            return set(con.exec_driver_sql(self.sql, params).scalars())
        fresh: set[str] = set()
        for i in range(0, len(rows), SQLITE_CHUNK):
            part = rows[i : i + SQLITE_CHUNK]
            flat: list[Any] = []
            for row in part:
                flat.extend(_sqlite_values(row))
            sql = self.full if len(part) == SQLITE_CHUNK else self._values(len(part))
            fresh.update(con.exec_driver_sql(sql, tuple(flat)).scalars())
        return fresh


# Rows per SQLite statement: 14 columns x 500 = 7,000 parameters (the limit is 32,766).
SQLITE_CHUNK = 500
_NAMES = [c.name for c in _COLUMNS]
_VALUES = itemgetter(*_NAMES)
_TIME_AT = [i for i, c in enumerate(_COLUMNS) if c.type.python_type is datetime]
_FLAG_AT = _NAMES.index("compacted")


def _sqlite_values(row: dict[str, Any]) -> list[Any]:
    """A row's values in column order, times as SQLAlchemy stores them on SQLite."""
    values = list(_VALUES(row))
    for i in _TIME_AT:
        value = values[i]
        if value is not None:
            if value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            values[i] = value.isoformat(" ", "microseconds")
    values[_FLAG_AT] = 1 if values[_FLAG_AT] else 0
    return values


class EventWriter:
    """Writes submitted rows to ``tracked_events`` in group commits, from one thread.

    Parameters
    ----------
    engine
        The operational database (SQLite or PostgreSQL).
    max_batch
        Most rows per transaction (a submission is never split, so one larger than this is
        written alone).
    max_wait
        Longest time (seconds) the writer lingers for more submissions before it commits,
        when the previous transaction held several (under concurrency); ``0`` never lingers.
    on_batch
        Called as ``on_batch(connection, new_rows)`` inside the transaction, after the insert,
        with the rows that were not duplicates. It runs in a savepoint: if it raises, its work
        is rolled back and logged, and the events are still committed.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        max_batch: int = 2000,
        max_wait: float = 0.002,
        on_batch: OnBatch | None = None,
    ) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.on_batch = on_batch
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._insert = _Insert(engine)
        self._counts = dict.fromkeys(WriterStats.__dataclass_fields__, 0)
        self.synchronous: str | None = None  # what the writer's connection was set to

    def __repr__(self) -> str:
        state = "closed" if self._closed else "running" if self._thread else "not started"
        return f"EventWriter({self.engine.dialect.name}, {state}, {self.stats().to_dict()})"

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the writer thread."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="event-writer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Refuse new submissions, write everything already submitted, then end the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(None)  # after every accepted submission
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def stats(self) -> WriterStats:
        """The counters so far."""
        return WriterStats(**self._counts)

    async def submit(self, rows: Sequence[dict[str, Any]]) -> int:
        """Write ``rows`` (dicts with every key of
        :data:`~streamwise.downstream.tracking.events.ROW_COLUMNS`, as ``to_rows`` makes them);
        returns, once the transaction holding them has committed, how many were new (not seen
        before by ``message_id``).

        Raises
        ------
        WriterClosedError
            When the writer is not running.
        sqlalchemy.exc.SQLAlchemyError
            When the database refused the transaction (nothing of ``rows`` was committed).
        """
        if not rows:
            return 0
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        with self._lock:
            if self._closed or self._thread is None:
                raise WriterClosedError(
                    "the event writer is not running (the server is starting or stopping); "
                    "retry the request"
                )
            self._counts["submits"] += 1
            self._queue.put(_Pending(rows, future, loop))
        return await future

    # -- the writer thread -------------------------------------------------------------------
    def _run(self) -> None:
        con: Connection | None = None
        stopping = False
        busy = False  # did the last group hold more than one submission?
        try:
            while not stopping:
                item = self._queue.get()
                if item is None:
                    break
                group, size = [item], len(item.rows)
                # Linger for companions only under concurrency (as PostgreSQL's commit_delay
                # applies only with commit_siblings): a lone sender is not slowed down.
                deadline = time.monotonic() + (self.max_wait if busy else 0.0)
                while size < self.max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            break
                        try:
                            item = self._queue.get(timeout=left)
                        except queue.Empty:
                            break
                    if item is None:
                        stopping = True
                        break
                    group.append(item)
                    size += len(item.rows)
                busy = len(group) > 1
                con = self._write(con, group)
        finally:
            if con is not None:
                self._close(con)

    def _connect(self) -> Connection:
        con = self.engine.connect()
        dialect = self.engine.dialect.name
        if dialect == "sqlite":
            con.exec_driver_sql("PRAGMA synchronous=FULL")
            level = con.exec_driver_sql("PRAGMA synchronous").scalar()
            self.synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(level, "?")
        elif dialect == "postgresql":
            con.exec_driver_sql("SET synchronous_commit TO on")
            self.synchronous = str(con.exec_driver_sql("SHOW synchronous_commit").scalar())
        con.commit()
        return con

    def _close(self, con: Connection) -> None:
        try:
            if not con.invalidated and self.engine.dialect.name == "sqlite":
                con.rollback()
                con.exec_driver_sql("PRAGMA synchronous=NORMAL")  # the engine's default
                con.commit()
            con.close()
        except Exception:
            log.debug("closing the writer's connection failed", exc_info=True)

    def _write(self, con: Connection | None, group: list[_Pending]) -> Connection | None:
        """Commit ``group`` in one transaction and resolve its futures; on failure, retry each
        submission alone (unless the database itself is unusable) so that only the affected
        ones fail. Returns the connection to use next (``None`` after an error)."""
        try:
            if con is None:
                con = self._connect()
            counts = self._transaction(con, group)
        except Exception as exc:
            if con is not None:
                self._close(con)
                con = None
            broken = isinstance(exc, OperationalError) or (
                isinstance(exc, DBAPIError) and exc.connection_invalidated
            )
            if len(group) > 1 and not broken:
                for pending in group:
                    con = self._write(con, [pending])
                return con
            log.error("writing %d event(s) failed: %s", sum(len(p.rows) for p in group), exc)
            self._counts["failed_submits"] += len(group)
            for pending in group:
                self._answer(pending, exc)
            return None
        for pending, count in zip(group, counts, strict=True):
            self._answer(pending, count)
        return con

    def _transaction(self, con: Connection, group: list[_Pending]) -> list[int]:
        rows = [row for pending in group for row in pending.rows]
        with con.begin():
            fresh = self._insert(con, rows)
            counts, new_rows = [], []
            for pending in group:  # a message id counts as new for its first sender only
                count = 0
                for row in pending.rows:
                    if row["message_id"] in fresh:
                        fresh.discard(row["message_id"])
                        new_rows.append(row)
                        count += 1
                counts.append(count)
            if self.on_batch is not None and new_rows:
                self._call_on_batch(con, new_rows)
        self._counts["transactions"] += 1
        self._counts["rows"] += len(rows)
        self._counts["new_rows"] += len(new_rows)
        return counts

    def _call_on_batch(self, con: Connection, new_rows: list[dict[str, Any]]) -> None:
        assert self.on_batch is not None
        savepoint = con.begin_nested()
        try:
            self.on_batch(con, new_rows)
        except Exception:
            savepoint.rollback()
            self._counts["on_batch_errors"] += 1
            log.exception("on_batch failed for %d new event(s); events kept", len(new_rows))
        else:
            savepoint.commit()

    def _answer(self, pending: _Pending, value: int | BaseException) -> None:
        # A closed event loop means nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            pending.loop.call_soon_threadsafe(_resolve, pending.future, value)


def prune(engine: Engine, dedup_days: int) -> int:
    """Delete compacted events received more than ``dedup_days`` ago (past the window in which
    a retried ``messageId`` is recognised); returns how many were deleted."""
    cutoff = datetime.now(UTC) - timedelta(days=dedup_days)
    with engine.begin() as con:
        result = con.execute(
            delete(_TABLE).where(_TABLE.c.compacted.is_(True), _TABLE.c.received_at < cutoff)
        )
    return int(result.rowcount or 0)
