"""One batch of the worker, in one transaction: claim due entries, run their steps group by group
(entries at the same step of the same journey together), follow each entry on through steps
that need no waiting, then write everything in bulk and commit.

The transaction holds, for every step run: its ``journey_steps`` row (unique per entry and step
number), its effect (send-ledger row, attribute) and the entry's move. So a step is never
repeated (a crash before the commit undoes the lot; after it, the entry is past the step) and
never skipped (the entry stays due at the step until a commit moves it on).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from streamwise.downstream.journeys.bulk import insert_rows
from streamwise.downstream.journeys.context import Caches, Run
from streamwise.downstream.journeys.schedule import (
    Entry,
    arrival,
    claim,
    insert_steps,
    marks,
    save,
    upsert,
)
from streamwise.downstream.journeys.steps import RUNNERS
from streamwise.downstream.journeys.store import Live
from streamwise.downstream.message import message_id
from streamwise.errors import StreamwiseError
from streamwise.store.models import CampaignSend, CustomerAttribute

__all__ = ["BatchReport", "run_batch"]

log = logging.getLogger("streamwise.journeys")
#: Steps one entry may run in one batch (validation forbids loops without a wait, so chains
#: are shorter than the journey; a longer one simply goes on in the next batch).
MAX_ROUNDS = 100


@dataclass(frozen=True)
class BatchReport:
    """What a batch did: entries claimed, steps run, by kind, messages queued, entries ended
    (completed or failed) and failures (journey, step, message)."""

    claimed: int = 0
    steps: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    queued: int = 0
    ended: int = 0
    failures: tuple[tuple[str, str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The counts, JSON-ready."""
        return {"claimed": self.claimed, "steps": self.steps, "kinds": dict(self.kinds),
                "queued": self.queued, "ended": self.ended,
                "failures": [list(f) for f in self.failures]}  # fmt: skip


def run_batch(
    con: Connection,
    lives: Mapping[int, Live],
    caches: Caches,
    workspace: Any,
    now: datetime,
    *,
    limit: int = 1000,
    purchase_events: tuple[str, ...] = ("Order Completed",),
) -> BatchReport:
    """Claim up to ``limit`` due entries of active journeys and run them as far as they go now,
    inside the caller's transaction ``con`` (the caller commits)."""
    paused = [j for j, live in lives.items() if not live.active]
    running = {j for j, live in lives.items() if live.active}
    entries = claim(con, running, now, limit, paused=paused)
    entries = [e for e in entries if e.journey_id in running]  # a journey made meanwhile
    if not entries:
        return BatchReport()
    run = Run(con, workspace, caches, now, marks(con), purchase_events)
    logs: list[dict[str, Any]] = []
    kinds: Counter[str] = Counter()
    failures: list[tuple[str, str, str]] = []
    pending = entries
    for _ in range(MAX_ROUNDS):
        if not pending:
            break
        groups: dict[tuple[int, str], list[Entry]] = defaultdict(list)
        for e in pending:
            groups[(e.journey_id, e.step)].append(e)
        pending = []
        for (jid, sid), group in groups.items():
            live = lives[jid]
            step = live.definition.by_id[sid]
            for e in group:
                e.seq += 1
            try:
                results = RUNNERS[step.kind](step, group, live, run)
            except StreamwiseError as exc:  # a step that cannot run (e.g. a missing field)
                reason = f"failed: {exc}"[:200]
                failures.append((live.name, sid, str(exc)))
                log.error("journey %s, step %s: %s", live.name, sid, exc)
                results = [(e, reason, None) for e in group]
                for e in group:
                    e.state, e.exit_reason = "failed", str(exc)[:2000]
            kinds[step.kind] += len(results)
            for e, outcome, nxt in results:
                logs.append({"entry_id": e.id, "journey_id": jid, "customer_id": e.customer_id,
                             "seq": e.seq, "step": sid, "kind": step.kind,
                             "outcome": outcome[:200], "at": now})  # fmt: skip
                if nxt is None:
                    if e.state == "active":
                        e.state, e.exit_reason = "completed", outcome
                    continue
                e.step, e.woken_by = nxt, None
                e.step_event_mark, e.step_email_mark = run.marks
                e.due_at = arrival(live.definition, nxt, now)
                if e.due_at <= now:
                    pending.append(e)  # no wait: run it in this batch
    _write(con, run, logs, entries, now)
    ended = sum(1 for e in entries if e.state != "active")
    return BatchReport(len(entries), len(logs), dict(kinds), len(run.ledger), ended,
                       tuple(failures))  # fmt: skip


def _write(
    con: Connection, run: Run, logs: list[dict[str, Any]], entries: list[Entry], now: datetime
) -> None:
    """The batch's writes: step runs, then the ledger rows that name them, attributes, entries."""
    ids = insert_steps(con, logs)
    if run.ledger:
        rows = []
        for r in run.ledger:
            step_id = ids[r["_key"]]
            row = {k: v for k, v in r.items() if not k.startswith("_")}
            row["journey_step_id"] = step_id
            row["message_id"] = message_id(str(r["campaign_id"]), r["customer_id"], r["_domain"],
                                           attempt_key=f"journey-step-{step_id}")  # fmt: skip
            rows.append(row)
        insert_rows(con, CampaignSend.__table__, rows)
    # In key order, so that two workers setting the same attributes lock them in one order.
    attributes = [row for _, row in sorted(run.attributes.items())]
    upsert(con, CustomerAttribute.__table__, attributes, ["customer_id", "name"])
    save(con, entries, now)
