"""The journey worker: rounds of read events → evaluate states → run due steps → deliver.

Each part is its own transaction. Steps run in batches (``batch`` due entries per transaction,
see :mod:`.batch`); on PostgreSQL several workers share the work (``FOR UPDATE SKIP LOCKED``),
and one of them at a time reads events and evaluates states (a transaction-level advisory lock);
on SQLite run one worker (its transactions take the write lock at ``BEGIN IMMEDIATE``). The clock
is a callable (``now``), so tests drive time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal

import duckdb
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import OperationalError

from streamwise.downstream.journeys.analytics import Analytics
from streamwise.downstream.journeys.batch import run_batch
from streamwise.downstream.journeys.context import Caches
from streamwise.downstream.journeys.deliver import Delivery
from streamwise.downstream.journeys.signals import Watcher
from streamwise.downstream.journeys.states import evaluate_states
from streamwise.downstream.journeys.store import Live, live_journeys
from streamwise.store.db import make_engine

__all__ = ["LOCK_NAMESPACE", "Totals", "Worker", "worker_engine"]

log = logging.getLogger("streamwise.journeys")

#: Entries admitted in one round after which PostgreSQL's statistics of the table are renewed
#: (autovacuum would, a minute or so later; a plan made without them can be a full sort).
ANALYZE_AFTER = 10_000
#: First key of the worker's advisory lock ("SWJ1"): one worker at a time reads events.
LOCK_NAMESPACE = 0x53574A31


def worker_engine(url: str) -> Engine:
    """An engine for the worker: on SQLite every transaction starts with ``BEGIN IMMEDIATE``
    (it takes the write lock first, so a transaction that reads then writes never fails on a
    snapshot another writer made stale)."""
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _manual(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself

        @event.listens_for(engine, "begin")
        def _immediate(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@dataclass(frozen=True)
class Totals:
    """What a round (or the worker since it started) did."""

    rounds: int = 0
    read: int = 0
    entered: int = 0
    exited: int = 0
    woken: int = 0
    evaluated: int = 0
    steps: int = 0
    queued: int = 0
    ended: int = 0
    pushed: int = 0
    failed: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def __add__(self, other: Totals) -> Totals:
        values = {f.name: getattr(self, f.name) + getattr(other, f.name)
                  for f in fields(self) if f.name != "kinds"}  # fmt: skip
        return Totals(**values, kinds=dict(Counter(self.kinds) + Counter(other.kinds)))

    @property
    def busy(self) -> bool:
        """Whether anything happened."""
        return bool(self.read or self.entered or self.exited or self.woken or self.steps
                    or self.pushed or self.failed)  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The counts, JSON-ready."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


class Worker:
    """Advances the journeys of ``workspace``.

    Parameters
    ----------
    workspace
        The workspace.
    now
        The clock (default: UTC now); tests pass a simulated one.
    batch
        Due entries claimed per transaction.
    lookback
        Ids re-read below the event cursors (default 1,000 on PostgreSQL, 0 on SQLite).
    policy
        For messages a crash left in flight: ``resend`` (same Message-ID) or ``skip``.
    deliver
        Deliver queued messages (False: only queue them, e.g. for a benchmark of the steps).
    budget
        Seconds of steps (and of delivery) per round before events are read again.
    """

    def __init__(
        self,
        workspace: Any,
        *,
        now: Callable[[], datetime] | None = None,
        batch: int = 1000,
        lookback: int | None = None,
        policy: Literal["resend", "skip"] = "resend",
        deliver: bool = True,
        budget: float = 2.0,
    ) -> None:
        self.workspace = workspace
        self.engine = worker_engine(workspace.operational_url)
        self.clock = now or (lambda: datetime.now(UTC))
        self.batch = batch
        self.deliver = deliver
        self.budget = budget
        postgres = self.engine.dialect.name == "postgresql"
        self.watcher = Watcher(lookback=(1000 if postgres else 0) if lookback is None else lookback)
        self.analytics = Analytics(workspace)
        self.delivery = Delivery(workspace, self.engine, now=self.now, policy=policy)
        self.purchases = tuple(workspace.settings.conversion_events)
        self.totals = Totals()
        self._lives: dict[int, Live] = {}
        self._stop = threading.Event()

    def now(self) -> datetime:
        """The clock's time, in UTC."""
        return self.clock().astimezone(UTC)

    def stop(self) -> None:
        """Stop after the current transaction (or delivery chunk); safe from a signal handler."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stop.is_set()

    def close(self) -> None:
        """Give back leases and connections."""
        self.delivery.close()
        self.analytics.close()
        self.engine.dispose()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _watch(self, lives: dict[int, Live]) -> Totals:
        """Read events and evaluate states, if no other worker is doing it now."""
        with self.engine.begin() as con:
            if (
                con.dialect.name == "postgresql"
                and not con.execute(
                    text("SELECT pg_try_advisory_xact_lock(CAST(:ns AS integer), 0)"),
                    {"ns": LOCK_NAMESPACE},
                ).scalar()
            ):
                return Totals()
            now = self.now()
            scan = self.watcher.scan(con, lives, now)
            states = evaluate_states(con, lives, self.analytics, now)
        if scan.entered + states.entered >= ANALYZE_AFTER and self.engine.dialect.name != "sqlite":
            with self.engine.begin() as con:  # fresh statistics for the claim's plan
                con.execute(text("ANALYZE journey_entries"))
        return Totals(read=scan.read, entered=scan.entered + states.entered, exited=scan.exited,
                      woken=scan.woken, evaluated=states.evaluated)  # fmt: skip

    def round(self, *, budget: float | None = None) -> Totals:
        """One round: read events, evaluate states, run due steps (for about ``budget``
        seconds), deliver; returns what it did."""
        started = time.perf_counter()
        budget = self.budget if budget is None else budget
        self._lives = live_journeys(self.engine, self._lives)
        out = Totals(rounds=1)
        try:
            out += self._watch(self._lives)
            caches = Caches(self.engine, self.analytics)
            deadline = time.monotonic() + budget
            while not self.stopping:
                with self.engine.begin() as con:
                    b = run_batch(con, self._lives, caches, self.workspace, self.now(),
                                  limit=self.batch, purchase_events=self.purchases)  # fmt: skip
                out += Totals(steps=b.steps, queued=b.queued, ended=b.ended, kinds=b.kinds,
                              failed=len(b.failures))  # fmt: skip
                if b.claimed < self.batch or time.monotonic() > deadline:
                    break
            if self.deliver and not self.stopping:
                ids = [cid for live in self._lives.values() if live.active
                       for cid in live.campaigns.values()]  # fmt: skip
                d = self.delivery.run(ids, stop=lambda: self.stopping, budget=budget)
                out += Totals(pushed=d.pushed, failed=d.failed)
        finally:
            self.analytics.close()  # DuckDB admits one writing process: do not hold it
        out = Totals(**{**out.to_dict(), "seconds": time.perf_counter() - started})
        self.totals += out
        return out

    def run_once(self, *, max_rounds: int = 10_000) -> Totals:
        """Rounds until nothing is left to do now (for ``--once`` and tests)."""
        out = Totals()
        for _ in range(max_rounds):
            r = self.round()
            out += r
            if not r.busy or self.stopping:
                break
        return out

    def run(self, *, poll: float = 1.0, on_round: Callable[[Totals], None] | None = None) -> Totals:
        """Rounds until :meth:`stop`; sleeps ``poll`` seconds after a round with nothing to do.
        A database that cannot be reached, or an analytics file another process is writing,
        ends only the round (its transaction rolls back); the next one is tried after a pause."""
        failures = 0
        while not self.stopping:
            try:
                r = self.round()
            except (OperationalError, duckdb.IOException) as exc:
                failures += 1
                wait = min(60.0, poll * 2**failures)
                log.warning("round failed (%s); trying again in %.0f s", exc, wait)
                self._stop.wait(wait)
                continue
            failures = 0
            if on_round is not None:
                on_round(r)
            if not r.busy:
                self._stop.wait(poll)
        return self.totals
