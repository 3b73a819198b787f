"""Benchmark: customers entering a journey and one worker advancing them (issue 8 goal:
>= 5,000 steps/s by one worker on 2 cores with PostgreSQL).

A workspace gets ``--customers`` customers (1M by default) in its DuckDB file and this journey:

    ab (A/B split) → wait 1d → bought? (branch on a purchase since entry) → mail (send:
    consent, suppression, arm, Message-ID, a send-ledger row) → mark (update) → done (exit)

Everyone enters through a state trigger (``email_consent``, admitting those who match at the
first evaluation). Then one worker (``Worker(deliver=False)``: messages are queued in the send
ledger, not delivered; ``benchmarks/send.py`` measures delivery) advances them on a simulated
clock: at t0 (ab, arrival at the wait), then at t0 + 1 day (wait over, bought?, mail, mark,
done) — six step runs per customer, each recorded in ``journey_steps``, in batches of
``--batch`` per transaction. Each phase runs until nothing is due or for ``--seconds`` at most,
so the default 1M finishes in a few minutes; steps/s is steps run / time spent running them.

The peer is measured in the same run on the same journey and database: the naive runner, one
transaction per step with ORM objects (load the entry, run its step, add the step row, the
ledger row or attribute, update the entry, commit), for ``--naive-seconds`` per phase. No
documented throughput of Mautic's or Dittofeed's journey runners was found (Mautic documents
its cron batch sizes only), so none is printed.

    .venv/bin/python benchmarks/journeys.py [--customers 1000000] [--db postgres|sqlite|both]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import func, select

from streamwise.downstream.journeys import Worker, create_journey, parse_journey
from streamwise.downstream.journeys.batch import run_batch
from streamwise.downstream.journeys.context import Caches, Run
from streamwise.downstream.journeys.schedule import Entry, arrival, marks
from streamwise.downstream.journeys.states import evaluate_states
from streamwise.downstream.journeys.steps import RUNNERS
from streamwise.downstream.journeys.store import live_journeys
from streamwise.downstream.message import message_id
from streamwise.store.db import session_factory
from streamwise.store.models import (
    CampaignSend,
    CustomerAttribute,
    JourneyEntry,
    JourneyStep,
)
from streamwise.workspace import CONFIG_FILE, Workspace

PG = "postgresql://postgres@127.0.0.1:5432"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SENDER = {
    "address": "news@shop.example.com",
    "domain": "shop.example.com",
    "list_id": "News <news.shop.example.com>",
    "postal_address": "1 Main Street, Springfield",
}


def journey(name: str, audience: str) -> dict[str, Any]:
    return {
        "name": name, "trigger": {"state": audience, "include_existing": True},
        "settings": {"sender": SENDER, "tracking_base_url": "https://t.shop.example.com"},
        "steps": [
            {"id": "ab", "split": {"A": {"next": "wait"}, "B": {"next": "wait"}}},
            {"id": "wait", "wait": "1d"},
            {"id": "bought", "branch": {"if": {"bought": True}, "then": "done", "else": "mail"}},
            {"id": "mail", "send": {"variants": {"A": {"subject": "Hi {{ first_name }}",
                                                       "html": "<p>Hello {{ first_name }}</p>"}}}},
            {"id": "mark", "update": {"stage": "mailed"}},
            {"id": "done", "exit": {}},
        ],
    }  # fmt: skip


def workspace(root: Path, db: str, customers: int) -> tuple[Workspace, str | None]:
    """A workspace with ``customers`` customers; its operational database on ``db``."""
    ws = Workspace.init(root, company="Bench", brand="Bench")
    ws.close()
    dropped = None
    if db == "postgres":
        dropped = f"sw_bench_journeys_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{dropped}"')
        config = root / CONFIG_FILE
        config.write_text(config.read_text().replace('"sqlite:///streamwise.sqlite"',
                                                     f'"{PG}/{dropped}"'))  # fmt: skip
    ws = Workspace.open(root)
    ws.upgrade()
    ws.duckdb().execute(
        "INSERT INTO customers (customer_id, email, first_name, signup_date, email_consent) "
        "SELECT printf('C%08d', i), printf('c%d@example.com', i), 'Name' || i, "
        "DATE '2025-01-01', i % 1000 <> 0 FROM range(?) t(i)", [customers],
    )  # fmt: skip
    ws.close()
    return Workspace.open(root), dropped


def advance(worker: Worker, seconds: float) -> tuple[int, float, dict[str, int]]:
    """Run due steps until none is due or ``seconds`` have passed: steps, seconds, kinds."""
    lives = {
        j: lv if lv.name == "bench" else dataclasses.replace(lv, state="paused")
        for j, lv in live_journeys(worker.engine).items()
    }  # only the benchmark's journey
    caches = Caches(worker.engine, worker.analytics)
    steps, kinds = 0, {}
    started = time.perf_counter()
    while seconds <= 0 or time.perf_counter() - started < seconds:
        with worker.engine.begin() as con:
            b = run_batch(con, lives, caches, worker.workspace, worker.now(), limit=worker.batch,
                          purchase_events=worker.purchases)  # fmt: skip
        steps += b.steps
        for k, v in b.kinds.items():
            kinds[k] = kinds.get(k, 0) + v
        if b.claimed == 0:
            break
    took = time.perf_counter() - started
    worker.analytics.close()
    return steps, took, kinds


def naive(worker: Worker, name: str, now: datetime, seconds: float) -> tuple[int, float]:
    """The naive runner: one transaction and ORM objects per step."""
    live = next(lv for lv in live_journeys(worker.engine).values() if lv.name == name)
    caches = Caches(worker.engine, worker.analytics)
    Session = session_factory(worker.engine)
    steps = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        with Session() as session, session.begin():
            row = session.scalars(
                select(JourneyEntry).where(JourneyEntry.journey_id == live.id,
                                           JourneyEntry.state == "active",
                                           JourneyEntry.due_at <= now)
                .order_by(JourneyEntry.due_at).limit(1).with_for_update(skip_locked=True)
            ).first()  # fmt: skip
            if row is None:
                break
            e = Entry(row.id, row.journey_id, row.customer_id, row.step, row.seq + 1,
                      row.entered_at, row.event_mark, row.email_mark, row.step_event_mark,
                      row.step_email_mark, row.woken_by, dict(row.context))  # fmt: skip
            step = live.definition.by_id[row.step]
            run = Run(session.connection(), worker.workspace, caches, now,
                      marks(session.connection()), worker.purchases)  # fmt: skip
            [(_, outcome, nxt)] = RUNNERS[step.kind](step, [e], live, run)
            log = JourneyStep(
                entry_id=e.id,
                journey_id=live.id,
                customer_id=e.customer_id,
                seq=e.seq,
                step=step.id,
                kind=step.kind,
                outcome=outcome,
                at=now,
            )
            session.add(log)
            session.flush()
            for r in run.ledger:
                session.add(CampaignSend(**{k: v for k, v in r.items() if not k.startswith("_")},
                                         journey_step_id=log.id, message_id=message_id(
                                             str(r["campaign_id"]), e.customer_id, r["_domain"],
                                             attempt_key=f"journey-step-{log.id}")))  # fmt: skip
            for a in run.attributes.values():
                session.merge(CustomerAttribute(**a))
            row.seq = e.seq
            if nxt is None:
                row.state, row.due_at, row.exited_at = "completed", None, now
            else:
                row.step, row.due_at = nxt, arrival(live.definition, nxt, now)
            steps += 1
    took = time.perf_counter() - started
    worker.analytics.close()
    return steps, took


def bench(db: str, customers: int, seconds: float, naive_seconds: float, batch: int) -> dict:
    root = Path(tempfile.mkdtemp(prefix="sw-bench-journeys-")) / "ws"
    ws, database = workspace(root, db, customers)
    try:
        create_journey(ws, parse_journey(journey("bench", "email_consent"), "bench"))
        create_journey(ws, parse_journey(journey("naive", "customer_id = \"C00000001\" or "
                                                          "customer_id = \"C00000002\""),
                                         "naive"))  # fmt: skip
        clock = [T0]
        worker = Worker(ws, now=lambda: clock[0], deliver=False, batch=batch)
        lives = live_journeys(worker.engine)
        t = time.perf_counter()
        with worker.engine.begin() as con:
            evaluate_states(con, lives, worker.analytics, T0)
        if db == "postgres":  # as the worker does after admitting many
            with worker.engine.begin() as con:
                con.exec_driver_sql("ANALYZE journey_entries")
        admitted = time.perf_counter() - t
        worker.analytics.close()
        # The naive runner's entries: copies of the benchmark's first 3,000 entries' shape.
        _naive_entries(worker, 3000)
        s1, t1, k1 = advance(worker, seconds)
        n1, nt1 = naive(worker, "naive", T0, naive_seconds)
        clock[0] = T0 + timedelta(days=1, seconds=1)
        s2, t2, k2 = advance(worker, seconds)
        n2, nt2 = naive(worker, "naive", clock[0], naive_seconds)
        with worker.engine.connect() as con:
            bench_id = next(j for j, lv in lives.items() if lv.name == "bench")
            mine = JourneyEntry.journey_id == bench_id
            admitted_n = con.execute(select(func.count()).where(mine)).scalar()
            logged = con.execute(select(func.count()).select_from(JourneyStep)).scalar()
            queued = con.execute(select(func.count()).select_from(CampaignSend)).scalar()
        worker.close()
        return {"db": db, "customers": customers, "entered": admitted_n, "admit_s": admitted,
                "steps": s1 + s2, "seconds": t1 + t2, "phase1": (s1, t1), "phase2": (s2, t2),
                "kinds": {k: k1.get(k, 0) + k2.get(k, 0) for k in {*k1, *k2}},
                "naive_steps": n1 + n2, "naive_seconds": nt1 + nt2, "logged": logged,
                "queued": queued}  # fmt: skip
    finally:
        ws.close()
        if database:
            with psycopg.connect(f"{PG}/postgres", autocommit=True) as con:
                con.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _naive_entries(worker: Worker, n: int) -> None:
    """Give the naive journey ``n`` due entries (the state trigger admitted two)."""
    from streamwise.downstream.journeys.bulk import insert_rows

    jid = next(j for j, lv in live_journeys(worker.engine).items() if lv.name == "naive")
    rows = [{"journey_id": jid, "customer_id": f"C{i:08d}", "state": "active", "step": "ab",
             "seq": 0, "due_at": T0, "trigger_key": "bench", "event_mark": 0, "email_mark": 0,
             "step_event_mark": 0, "step_email_mark": 0, "context": {}, "entered_at": T0,
             "updated_at": T0} for i in range(3, n + 3)]  # fmt: skip
    with worker.engine.begin() as con:
        insert_rows(con, JourneyEntry.__table__, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument(
        "--seconds",
        type=float,
        default=60.0,
        help="at most this long per phase (0: until nothing is due)",
    )
    parser.add_argument("--naive-seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument(
        "--sqlite-customers",
        type=int,
        default=100_000,
        help="customers of the SQLite reference run",
    )
    args = parser.parse_args()
    dbs = ["postgres", "sqlite"] if args.db == "both" else [args.db]
    for db in dbs:
        n = args.customers if db == "postgres" else min(args.customers, args.sqlite_customers)
        r = bench(db, n, args.seconds, args.naive_seconds, args.batch)
        rate = r["steps"] / r["seconds"]
        peer = r["naive_steps"] / r["naive_seconds"]
        (s1, t1), (s2, t2) = r["phase1"], r["phase2"]
        print(f"journeys on {db}: {r['customers']:,} customers, batch {args.batch}")
        print(f"  entered     {r['entered']:>10,} in {r['admit_s']:6.1f} s "
              f"({r['entered'] / r['admit_s']:,.0f} entries/s, state trigger)")  # fmt: skip
        print(f"  streamwise  {r['steps']:>10,} steps in {r['seconds']:6.1f} s  {rate:8,.0f} "
              f"steps/s  (t0: {s1:,} in {t1:.1f} s; t0+1d: {s2:,} in {t2:.1f} s)")  # fmt: skip
        print(f"              kinds {dict(sorted(r['kinds'].items()))}; "
              f"messages queued {r['queued']:,}")  # fmt: skip
        print(f"  naive ORM   {r['naive_steps']:>10,} steps in {r['naive_seconds']:6.1f} s  "
              f"{peer:8,.0f} steps/s  (one transaction per step, measured)")  # fmt: skip
        print(f"  ratio {rate / peer:.1f}x   goal >= 5,000 steps/s on PostgreSQL: "
              f"{'met' if rate >= 5000 else 'not met'}" if db == "postgres" else
              f"  ratio {rate / peer:.1f}x (SQLite: reference only)")  # fmt: skip
        sys.stdout.flush()


if __name__ == "__main__":
    main()
