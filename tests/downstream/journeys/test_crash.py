"""Kill ``streamwise worker`` with SIGKILL while it sends a journey's messages to a real SMTP
server, start it again, and count at the server per (customer, step).

What is asserted, exactly:

* no step is skipped: every entry completes, and its ``journey_steps`` rows are numbered
  1, 2, 3, … without a gap, one run of each of the journey's steps;
* no step is repeated: one run per entry and step, so one ledger row per (customer, step);
* every consenting customer receives every message at least once, and nothing else arrives;
* a message arrives more than once only where the ledger says it was re-sent after a crash,
  always with the same Message-ID (one Message-ID per customer and step at the server), and
  the copies are at most one chunk (the SMTP pool size, 2) per kill — the ledger's documented
  re-send of the batch in flight.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from streamwise.downstream.journeys import create_journey, parse_journey
from streamwise.store.models import CampaignSend, JourneyEntry, JourneyStep
from streamwise.workspace import Workspace

from .shop import Clock, Mailbox, Tracker, cid, consents, shop

pytestmark = pytest.mark.slow

WORKER = "from streamwise.cli.app import main; main()"
CUSTOMERS = 200


class SlowMailbox(Mailbox):
    """Takes a little time per message, as a real server does, so kills land mid-batch."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.003)
        return await super().handle_DATA(server, session, envelope)


def _journey(port: int) -> dict[str, Any]:
    mail = {"sender": {"address": "hi@shop.example.com", "domain": "shop.example.com",
                       "list_id": "Shop <j.shop.example.com>",
                       "postal_address": "1 Main Street, Springfield, USA"},
            "tracking_base_url": "https://t.shop.example.com",
            "channel": {"host": "127.0.0.1", "port": port, "starttls": False, "pool_size": 2},
            "batch_size": 20}  # fmt: skip
    return {
        "name": "crashy", "trigger": {"event": "Signed Up"}, "settings": mail,
        "steps": [
            {"id": "a", "send": {"variants": {"A": {"subject": "a: hi", "html": "<p>a</p>"}}}},
            {"id": "pause", "wait": "1s"},
            {"id": "b", "send": {"variants": {"A": {"subject": "b: hi", "html": "<p>b</p>"}}}},
            {"id": "done", "exit": {}},
        ],
    }  # fmt: skip


@pytest.mark.parametrize("seed", [7, 8])
def test_sigkill_mid_journey_neither_repeats_nor_skips_a_step(tmp_path: Path, seed: int) -> None:
    box = SlowMailbox()
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        root = shop(tmp_path / "ws", customers=CUSTOMERS)
        _run(root, box, port, seed)
    finally:
        controller.stop()


def _run(root: Path, box: SlowMailbox, port: int, seed: int) -> None:
    from fastapi.testclient import TestClient

    from streamwise.web.app import create_app
    from streamwise.web.auth import create_key

    with Workspace.open(root) as ws:
        create_journey(ws, parse_journey(_journey(port), "crashy"))
        _, key = create_key(ws.operational(), "t", "ingest")
        with TestClient(create_app(ws)) as client:
            tracker = Tracker(client, key)
            for i in range(1, CUSTOMERS + 1):
                tracker.track(cid(i), "Signed Up", Clock().t)
    rng = random.Random(seed)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-c", WORKER, "worker", "-w", str(root), "--poll", "0.05",
               "--batch", "40"]  # fmt: skip
    kills, failures = 0, []
    for _ in range(4):
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        target = len(box.raw) + rng.randint(10, 70)
        deadline = time.monotonic() + 60
        while len(box.raw) < target and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(rng.uniform(0, 0.004))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        _, err = proc.communicate(timeout=30)
        if proc.returncode not in (0, -signal.SIGKILL):
            failures.append(err.decode(errors="replace")[-3000:])
    time.sleep(1.1)  # the wait step of the last entries
    final = subprocess.run([*command, "--once"], env=env, capture_output=True, text=True,
                           timeout=300)  # fmt: skip
    assert final.returncode == 0, final.stderr[-3000:]
    assert not failures, failures
    assert kills >= 2
    _check(root, box, kills)


def _check(root: Path, box: SlowMailbox, kills: int) -> None:
    E, L, S = JourneyEntry.__table__, JourneyStep.__table__, CampaignSend.__table__
    with Workspace.open(root) as ws, ws.operational().connect() as con:
        states = Counter(s for (s,) in con.execute(select(E.c.state)))
        seqs: dict[int, list[tuple[int, str]]] = {}
        for entry, seq, step in con.execute(select(L.c.entry_id, L.c.seq, L.c.step)
                                            .order_by(L.c.entry_id, L.c.seq)):  # fmt: skip
            seqs.setdefault(entry, []).append((seq, step))
        ledger = con.execute(select(S.c.customer_id, S.c.message_id, S.c.status, S.c.detail)).all()
        per_step = con.execute(select(func.count()).select_from(S)).scalar()
    assert states == {"completed": CUSTOMERS}
    assert all(v == [(1, "a"), (2, "pause"), (3, "b"), (4, "done")] for v in seqs.values())
    assert len(seqs) == CUSTOMERS
    consenting = [i for i in range(1, CUSTOMERS + 1) if consents(i)]
    assert per_step == 2 * len(consenting)  # one ledger row per customer and send step
    assert {s for _, _, s, _ in ledger} == {"sent"}
    messages = box.messages()
    seen: dict[tuple[str, str], set[str]] = {}
    for m in messages:
        seen.setdefault((str(m["To"]), str(m["Subject"])[0]), set()).add(str(m["Message-ID"]))
    want = {(f"c{i}@example.com", step) for i in consenting for step in "ab"}
    assert set(seen) == want  # nobody missed, nothing else sent
    assert all(len(ids) == 1 for ids in seen.values())  # a copy always has the same Message-ID
    received = Counter(str(m["Message-ID"]) for m in messages)
    assert set(received) == {mid for _, mid, _, _ in ledger}
    twice = {mid for mid, n in received.items() if n > 1}
    resent = {mid for _, mid, _, d in ledger if d.startswith("re-sent after a crash")}
    assert twice <= resent  # a copy only where a kill left the outcome unknown
    extra = sum(n - 1 for n in received.values())
    assert extra <= 2 * kills, (extra, kills)  # at most one chunk (pool size 2) per kill
    print(f"kills {kills}, messages {len(messages)}, copies {extra}")
