"""Two worker processes on one PostgreSQL database never run the same step twice: with 12,000
entries due at once (48,000 steps), the steps both workers report add up to exactly the
steps there are, each entry's steps are numbered 1..4 once each, and both workers took part."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from streamwise.downstream.journeys import create_journey, parse_journey
from streamwise.store.models import CustomerAttribute, JourneyEntry, JourneyStep
from streamwise.workspace import Workspace

from .shop import shop

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WORKER = "from streamwise.cli.app import main; main()"
ENTRIES = 12_000
JOURNEY = {
    "name": "busy",
    "trigger": {"event": "Signed Up"},
    "steps": [
        {"id": "mark", "update": {"seen": True}},
        {"id": "ab", "split": {"A": {"weight": 1, "next": "a"}, "B": {"weight": 1, "next": "b"}}},
        {"id": "a", "update": {"arm": "A"}, "next": "done"},
        {"id": "b", "update": {"arm": "B"}},
        {"id": "done", "exit": {}},
    ],
}  # fmt: skip


def test_two_workers_never_run_a_step_twice(tmp_path: Path, pg_url: str) -> None:
    root = shop(tmp_path / "ws", pg_url)
    E, L = JourneyEntry.__table__, JourneyStep.__table__
    now = datetime.now(UTC)
    with Workspace.open(root) as ws:
        jid = create_journey(ws, parse_journey(JOURNEY, "busy"))
        rows = [{"journey_id": jid, "customer_id": f"X{i:06d}", "state": "active", "step": "mark",
                 "seq": 0, "due_at": now, "trigger_key": "bulk", "event_mark": 0,
                 "email_mark": 0, "step_event_mark": 0, "step_email_mark": 0, "context": {},
                 "entered_at": now, "updated_at": now} for i in range(ENTRIES)]  # fmt: skip
        with ws.operational().begin() as con:
            con.execute(insert(E), rows)
        ws.operational().dispose()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-c", WORKER, "worker", "-w", str(root), "--once", "--batch",
               "200", "--json"]  # fmt: skip
    procs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]  # fmt: skip
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]
    reported = [json.loads(out)["steps"] for out, _ in outs]
    with Workspace.open(root) as ws, ws.operational().connect() as con:
        runs = con.execute(select(func.count()).select_from(L)).scalar()
        per_entry = Counter(
            tuple(r) for r in con.execute(select(L.c.seq, L.c.kind).order_by(L.c.entry_id, L.c.seq))
        )
        states = dict(con.execute(select(E.c.state, func.count()).group_by(E.c.state)).all())
        query = select(CustomerAttribute.value).where(CustomerAttribute.name == "arm")
        arms = Counter(v for (v,) in con.execute(query))
        ws.operational().dispose()
    assert states == {"completed": ENTRIES}
    assert runs == 4 * ENTRIES  # mark, ab, a or b, done
    assert sum(reported) == runs  # what the workers did adds up: nothing twice
    print(f"steps per worker: {reported}")
    assert min(reported) > 0, reported  # both took part
    assert per_entry == {(1, "update"): ENTRIES, (2, "split"): ENTRIES, (3, "update"): ENTRIES,
                         (4, "exit"): ENTRIES}  # fmt: skip
    assert sum(arms.values()) == ENTRIES
    assert abs(arms["A"] - arms["B"]) < 0.05 * ENTRIES  # the split's weights
