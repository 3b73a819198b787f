"""Kill the sender with SIGKILL at random moments, resume, and count at the SMTP server (and, for
an SMS campaign, at an HTTP gateway): nobody is missed, and a message reaches the server twice
only when the kill fell between the server's acceptance and the ledger's commit — then with the
same Message-ID (idempotency key), at most one chunk per kill."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text

from streamwise.downstream.campaigns.service import create_campaign
from streamwise.workspace import Workspace

pytestmark = pytest.mark.slow

SENDER = r"""
import sys
from streamwise.workspace import Workspace
from streamwise.downstream.campaigns.service import run_send
with Workspace.open(sys.argv[1]) as ws:
    report = run_send(ws, "crashy")
print(report.state)
"""


def _settings(port: int) -> dict:
    return {
        "sender": {"address": "news@northwind.example", "domain": "northwind.example",
                   "list_id": "News <news.northwind.example>",
                   "postal_address": "1 Trail Road, Portland, OR 97201, USA"},
        "variants": {"A": {"subject": "Hi {{ first_name }}", "html": "<p>Hello</p>"}},
        "holdout": 0.05,
        "tracking_base_url": "https://t.northwind.example",
        "channel": {"host": "127.0.0.1", "port": port, "pool_size": 2, "starttls": False},
        "batch_size": 20,
    }  # fmt: skip


def _ledger(ws: Workspace) -> list[tuple[str, str, str]]:
    with ws.operational().connect() as con:
        return [tuple(r) for r in con.execute(
            text("SELECT s.message_id, s.status, s.detail FROM campaign_sends s "
                 "JOIN campaigns c ON c.id = s.campaign_id WHERE c.name = 'crashy'")
        )]  # fmt: skip


def _attempts(root: Path) -> dict[str, int]:
    with Workspace.open(root) as ws, ws.operational().connect() as con:
        return dict(con.execute(text("SELECT message_id, attempts FROM campaign_sends")).all())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_anywhere_then_resume(demo_dir: Path, tmp_path: Path, smtp, seed: int) -> None:
    controller, server = smtp
    shutil.copytree(demo_dir, tmp_path / "ws")
    with Workspace.open(tmp_path / "ws") as ws:
        create_campaign(ws, "crashy", audience="email_consent", settings=_settings(controller.port))
    rng = random.Random(seed)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    kills = 0
    failures: list[str] = []
    for _ in range(4):  # four kills at random points, then let it finish
        proc = subprocess.Popen([sys.executable, "-c", SENDER, str(tmp_path / "ws")], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
        target = len(server.messages) + rng.randint(1, 120)
        deadline = time.monotonic() + 60
        while len(server.messages) < target and proc.poll() is None:
            if time.monotonic() > deadline:
                break
            time.sleep(rng.uniform(0, 0.003))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        _, err = proc.communicate(timeout=30)
        if proc.returncode not in (0, -signal.SIGKILL):
            failures.append(err.decode(errors="replace")[-2000:])
    final = subprocess.run([sys.executable, "-c", SENDER, str(tmp_path / "ws")], env=env,
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert final.returncode == 0, final.stderr
    assert final.stdout.strip().endswith("done")
    assert kills >= 1
    assert not [f for f in failures if "done" not in f], failures  # no crash but the kills
    with Workspace.open(tmp_path / "ws") as ws:
        ledger = _ledger(ws)
    statuses = Counter(s for _, s, _ in ledger)
    assert set(statuses) <= {"sent", "held_out"}, statuses  # nothing left pending or unknown
    sent = {m for m, s, _ in ledger if s == "sent"}
    received = Counter(server.message_ids())
    assert set(received) == sent  # zero missing, nothing that was not meant to go
    twice = {m for m, n in received.items() if n > 1}
    resent = {m for m, _, d in ledger if d.startswith("re-sent after a crash")}
    assert twice <= resent  # a duplicate only where a kill left the outcome unknown...
    attempts = {m: (a, [d for mm, _, d in ledger if mm == m]) for m, a in
                _attempts(tmp_path / "ws").items() if m in twice}  # fmt: skip
    extra = sum(n - 1 for n in received.values())  # a row re-sent first can be hit by two kills
    assert extra <= 2 * kills, (kills, attempts)  # ...at most one chunk (pool_size 2) per kill
    print(f"kills {kills}, sent {len(sent)}, received twice {len(twice)}")


SMS_SENDER = r"""
import sys
from streamwise.workspace import Workspace
from streamwise.downstream.campaigns.service import run_send
with Workspace.open(sys.argv[1]) as ws:
    report = run_send(ws, "crashy-sms")
print(report.state)
"""


@pytest.mark.parametrize("seed", [1, 2])
def test_kill_the_sms_sender_anywhere_then_resume(
    sms_root: Path, gateway, sms_settings, seed: int
) -> None:
    """The same for a webhook (SMS) campaign, counted at a real HTTP gateway that verifies the
    signatures and deduplicates by Idempotency-Key (= the ledger's message id)."""
    gateway.delay = 0.002
    audience = 'segment in ("Weekend Campers", "Alpine Pros")'
    settings = sms_settings(gateway.url, batch_size=20)
    with Workspace.open(sms_root) as ws:
        create_campaign(ws, "crashy-sms", audience=audience, channel="webhook", settings=settings)
    rng = random.Random(seed)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    kills, failures = 0, []
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", SMS_SENDER, str(sms_root)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
        target = len(gateway.accepted) + rng.randint(1, 60)
        deadline = time.monotonic() + 60
        while len(gateway.accepted) < target and proc.poll() is None:
            if time.monotonic() > deadline:
                break
            time.sleep(rng.uniform(0, 0.003))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        _, err = proc.communicate(timeout=30)
        if proc.returncode not in (0, -signal.SIGKILL):
            failures.append(err.decode(errors="replace")[-2000:])
    final = subprocess.run([sys.executable, "-c", SMS_SENDER, str(sms_root)], env=env,
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert final.returncode == 0, final.stderr
    assert final.stdout.strip().endswith("done")
    assert kills >= 1
    assert not failures, failures
    assert gateway.bad_signatures == 0
    with Workspace.open(sms_root) as ws, ws.operational().connect() as con:
        ledger = [tuple(r) for r in con.execute(
            text("SELECT s.message_id, s.status, s.detail FROM campaign_sends s "
                 "JOIN campaigns c ON c.id = s.campaign_id WHERE c.name = 'crashy-sms'")
        )]  # fmt: skip
    assert {s for _, s, _ in ledger} <= {"sent", "held_out"}  # nothing pending or unknown
    sent = {m for m, s, _ in ledger if s == "sent"}
    delivered = gateway.delivered()  # what the deduplicating receiver keeps
    assert set(delivered) == sent  # zero missing, zero extra, zero duplicates kept
    assert len({r["to"] for r in delivered.values()}) == len(sent)  # one SMS per number
    posts = Counter(gateway.keys())
    repeats = {m for m, n in posts.items() if n > 1}
    resent = {m for m, _, d in ledger if d.startswith("re-sent after a crash")}
    assert repeats <= resent  # a repeated POST only where a kill left the outcome unknown...
    assert sum(n - 1 for n in posts.values()) <= kills  # ...at most one message (chunk 1) a kill
    print(f"kills {kills}, sent {len(sent)}, repeated POSTs {len(repeats)} (dropped by the key)")
