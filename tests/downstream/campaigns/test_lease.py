"""One sender per campaign across machines: a PostgreSQL advisory lock held by the sender's own
session. Two "machines" (processes with their own workspace folders, sharing one PostgreSQL
database) cannot send the same campaign at once; killing the holder frees the campaign."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text

from streamwise.downstream.campaigns.lease import sender_lease
from streamwise.downstream.campaigns.service import create_campaign
from streamwise.errors import ConfigError, DeliveryError
from streamwise.store.db import make_engine
from streamwise.workspace import Workspace

pytestmark = pytest.mark.postgres

SENDER = r"""
import sys
from streamwise.errors import ConfigError
from streamwise.workspace import Workspace
from streamwise.downstream.campaigns.service import run_send
with Workspace.open(sys.argv[1]) as ws:
    try:
        report = run_send(ws, "shared")
    except ConfigError as exc:
        print("REFUSED", exc)
        sys.exit(3)
print(report.state, report.recovered)
"""


def test_advisory_lock_refuses_a_second_session_and_names_the_holder(
    pg_url: str, tmp_path: Path
) -> None:
    one, two = make_engine(pg_url), make_engine(pg_url)
    try:
        with sender_lease(tmp_path / "a", 7, engine=one) as lease:
            assert lease.kind == "postgresql"
            lease.verify()
            refused = f"being sent by streamwise send pid {os.getpid()}"
            with (
                pytest.raises(ConfigError, match=refused),
                sender_lease(tmp_path / "b", 7, engine=two),
            ):
                pass
            with sender_lease(tmp_path / "b", 8, engine=two):  # another campaign is free
                pass
        assert not (tmp_path / "a" / ".locks").exists()  # no flock file on PostgreSQL
        with sender_lease(tmp_path / "b", 7, engine=two) as lease:  # released on exit
            with one.connect() as con:
                pid = con.execute(
                    text("SELECT pid FROM pg_stat_activity WHERE application_name = :n "
                         "AND pid <> pg_backend_pid()"),
                    {"n": f"streamwise send pid {os.getpid()} on {os.uname().nodename}"[:63]},
                ).scalar_one()  # fmt: skip
                con.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            with pytest.raises(DeliveryError, match="lock of campaign 7 was lost"):
                lease.verify()  # the send stops rather than race a sender that took over
        with sender_lease(tmp_path / "a", 7, engine=one):  # the lost session freed it
            pass
    finally:
        one.dispose()
        two.dispose()


def _on_postgres(root: Path, url: str) -> None:
    config = root / "streamwise.toml"
    old = 'operational = "sqlite:///streamwise.sqlite"'
    config.write_text(config.read_text().replace(old, f'operational = "{url}"'))


@pytest.mark.slow
def test_two_machines_one_sender_and_sigkill_frees_the_campaign(
    pg_url: str, sms_root: Path, gateway, sms_settings, tmp_path: Path
) -> None:
    _on_postgres(sms_root, pg_url)
    with Workspace.open(sms_root) as ws:
        ws.upgrade()  # the PostgreSQL database gets the operational tables
        assert ws.operational().dialect.name == "postgresql"
        create_campaign(ws, "shared", audience='segment = "Weekend Campers"', channel="webhook",
                        settings=sms_settings(gateway.url, batch_size=10))  # fmt: skip
    other = tmp_path / "machine-b"  # its own folder, DuckDB file and lock files
    shutil.copytree(sms_root, other)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    gateway.delay = 0.02  # slow enough to catch the first sender at work
    first = subprocess.Popen([sys.executable, "-c", SENDER, str(sms_root)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 120
    while len(gateway.accepted) < 15 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert first.poll() is None, first.communicate()
    second = subprocess.run([sys.executable, "-c", SENDER, str(other)], env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert second.returncode == 3, second.stderr
    holder = re.search(r"being sent by streamwise send pid (\d+) on (\S+) \(PostgreSQL session "
                       r"\d+ from [\d.]+ since ", second.stdout)  # fmt: skip
    assert holder, second.stdout
    assert int(holder.group(1)) == first.pid
    assert first.poll() is None  # the refused sender changed nothing; the first goes on
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    posted = len(gateway.accepted)
    gateway.delay = 0.0
    for _ in range(50):  # PostgreSQL ends the killed sender's session as its socket closes
        last = subprocess.run([sys.executable, "-c", SENDER, str(other)], env=env,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        if last.returncode != 3:
            break
        time.sleep(0.1)
    assert last.returncode == 0, last.stdout + last.stderr
    state, recovered = last.stdout.split()
    assert state == "done"
    assert 0 < posted < len(gateway.accepted)  # the second machine sent the rest
    with Workspace.open(other) as ws, ws.operational().connect() as con:
        ledger = dict(con.execute(text("SELECT message_id, status FROM campaign_sends")).all())
    sent = {m for m, s in ledger.items() if s == "sent"}
    assert set(ledger.values()) <= {"sent", "held_out"}
    assert set(gateway.delivered()) == sent  # zero missing at the receiver
    posts = Counter(gateway.keys())
    assert sum(n - 1 for n in posts.values()) <= 1  # at most the one message the kill cut off
    assert 0 < int(recovered) <= 2 * 10  # the batch in flight and the one claimed ahead
