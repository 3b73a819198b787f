"""Pushing the ranked list to a CRM on loopback that verifies every signature: retries after a
failure, resumes after a refusal and after SIGKILL without resending an acknowledged batch, and
keeps the secret and people's details out of the journal."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from streamwise.cli.app import app
from streamwise.downstream.sales.journal import JOURNAL_PATH, PushJournal
from streamwise.downstream.sales.push import push_leads
from streamwise.workspace import Workspace

FAST = {"backoff": (0.01,), "max_retries": 2}


@pytest.fixture
def root(planted, tmp_path) -> Path:
    out = tmp_path / "ws"
    shutil.copytree(planted["root"], out)
    return out


def _journal(root: Path, push_id: str) -> list[dict]:
    return [r for r in PushJournal(root / JOURNAL_PATH).records() if r["push_id"] == push_id]


def test_push_retries_a_failed_batch_and_delivers_each_once(root, crm, planted) -> None:
    crm.script[2] = [503, 200]  # the CRM fails batch 2 once
    with Workspace.open(root) as ws:
        report = push_leads(ws, crm.url, crm.secret, top=230, batch_size=50, **FAST)
    assert report.done
    assert report.batches == 5
    assert report.leads == 230
    assert report.sent == 5
    assert crm.bad_signatures == 0
    assert [r["batch"] for r in crm.requests] == [1, 2, 2, 3, 4, 5]
    assert [r["status"] for r in crm.requests] == [200, 503, 200, 200, 200, 200]
    assert report.results[1].attempts == 2
    keys = [r["key"] for r in crm.accepted]
    assert len(keys) == len(set(keys)) == 5
    leads = [lead for r in crm.accepted for lead in r["body"]["leads"]]
    assert [lead["rank"] for lead in leads] == list(range(1, 231))
    assert all(lead["reasons"] and lead["p_buy"] is not None for lead in leads)
    assert {r["body"]["run_id"] for r in crm.accepted} == {planted["run"].run_id}
    # the journal: the plan with each body's digest, one result per batch, then done
    records = _journal(root, report.push_id)
    assert [r["type"] for r in records] == ["push", "batch", "batch", "batch", "batch", "batch",
                                            "done"]  # fmt: skip
    plan = records[0]
    sent = {r["key"]: hashlib.sha256(r["raw"]).hexdigest() for r in crm.accepted}
    assert {b["key"]: b["sha256"] for b in plan["batches"]} == sent
    assert plan["url"] == crm.url  # no credentials in it to hide
    text = (root / JOURNAL_PATH).read_text()
    assert crm.secret not in text
    assert "@" not in text
    # the same push again sends nothing
    with Workspace.open(root) as ws:
        again = push_leads(ws, crm.url, crm.secret, top=230, batch_size=50, **FAST)
    assert again.done
    assert again.push_id == report.push_id
    assert again.acknowledged_before == 5
    assert again.results == ()
    assert len(crm.requests) == 6


def test_a_refused_push_resumes_with_the_same_keys(root, crm) -> None:
    with Workspace.open(root) as ws:
        refused = push_leads(ws, crm.url, "not-the-crm-secret-at-all", top=120, batch_size=40,
                             **FAST)  # fmt: skip
    assert not refused.done
    assert refused.sent == 0
    assert refused.results[0].status == "failed"
    assert refused.results[0].code == 401
    assert crm.bad_signatures == 1
    assert crm.accepted == []
    crm.script[2] = [500, 500, 500]  # then batch 2 fails until the retries run out
    with Workspace.open(root) as ws:
        partial = push_leads(ws, crm.url, crm.secret, top=120, batch_size=40, **FAST)
        assert not partial.done
        assert partial.sent == 1
        assert partial.results[-1].status == "deferred"
        crm.script[2] = [200]
        final = push_leads(ws, crm.url, crm.secret, top=120, batch_size=40, **FAST)
    assert final.done
    assert final.acknowledged_before == 1
    assert final.sent == 2
    assert refused.push_id == partial.push_id == final.push_id
    delivered = crm.delivered()
    assert sorted(b["body"]["batch"] for b in delivered.values()) == [1, 2, 3]
    assert len(crm.accepted) == 3  # batch 1 was accepted once, never resent
    statuses = [r["status"] for r in _journal(root, final.push_id) if r["type"] == "batch"]
    assert statuses == ["failed", "sent", "deferred", "sent", "sent"]


PUSHER = [sys.executable, "-c", "from streamwise.cli.app import main; main()"]


def test_resume_after_sigkill_sends_no_acknowledged_batch_again(root, crm) -> None:
    crm.hold[3] = 30.0  # batch 3 is received, and its answer held until the pusher is killed
    env = {**os.environ, "CRM_KEY": crm.secret, "PYTHONUNBUFFERED": "1"}
    args = [*PUSHER, "sales", "push", crm.url, "-w", str(root), "--secret-env", "CRM_KEY",
            "--top", "300", "--batch-size", "50"]  # fmt: skip
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    held = crm.holding.wait(120)
    os.kill(proc.pid, signal.SIGKILL)
    assert held, proc.communicate(timeout=30)[1]
    proc.wait(30)
    journal = PushJournal(root / JOURNAL_PATH).records()
    acked = {r["key"] for r in journal if r["type"] == "batch" and r["status"] == "sent"}
    assert len(acked) == 2  # batches 1 and 2; batch 3 was in flight
    crm.hold.clear()
    before = len(crm.requests)
    done = subprocess.run([*args, "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["done"]
    assert report["acknowledged_before"] == 2
    assert report["sent"] == 4
    resent = [r["key"] for r in crm.requests[before:]]
    assert not set(resent) & acked  # nothing acknowledged went out again
    assert crm.bad_signatures == 0
    delivered = crm.delivered()
    assert sorted(b["body"]["batch"] for b in delivered.values()) == [1, 2, 3, 4, 5, 6]
    ranks = sorted(lead["rank"] for b in delivered.values() for lead in b["body"]["leads"])
    assert ranks == list(range(1, 301))
    # batch 3 reached the CRM twice (in flight at the kill), with the same key and bytes
    third = [r for r in crm.accepted if r["body"]["batch"] == 3]
    assert len(third) == 2
    assert third[0]["key"] == third[1]["key"]
    assert third[0]["raw"] == third[1]["raw"]
    assert crm.secret not in done.stdout + done.stderr


def test_a_missing_secret_is_a_clear_error(root, crm, monkeypatch) -> None:
    monkeypatch.delenv("STREAMWISE_CRM_SECRET", raising=False)
    out = CliRunner().invoke(app, ["sales", "push", crm.url, "-w", str(root)])
    assert out.exit_code == 1
    assert crm.requests == []
    assert "set the environment variable STREAMWISE_CRM_SECRET" in " ".join(out.output.split())
