"""``streamwise journey …`` and ``streamwise worker --once`` end to end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml
from typer.testing import CliRunner

from streamwise.cli.app import app

from .shop import Tracker, cid, journey_data

ENV = {"COLUMNS": "200", "NO_COLOR": "1"}


def run(*args: str) -> object:
    return CliRunner().invoke(app, list(args), env=ENV)


def test_templates_validate_create_list_show_pause_resume(
    ws, mailbox, tracker: Tracker, tmp_path: Path
) -> None:
    box, port = mailbox
    root = str(ws.root)
    out = run("journey", "templates")
    assert out.exit_code == 0, out.output
    assert "cart_abandonment" in out.output
    out = run("journey", "templates", "--write", str(tmp_path / "t"))
    assert out.exit_code == 0, out.output
    assert (tmp_path / "t" / "win_back.yaml").exists()
    file = tmp_path / "welcome.yaml"
    file.write_text(yaml.safe_dump(journey_data("welcome", port), sort_keys=False))
    out = run("journey", "validate", str(file))
    assert out.exit_code == 0, out.output
    assert "OK" in out.output
    broken = tmp_path / "broken.yaml"
    broken.write_text(file.read_text().replace("then: done", "then: dnoe"))
    out = run("journey", "validate", str(broken))
    assert out.exit_code == 1
    assert "steps[2].branch.then (line" in out.output
    assert "did you mean 'done'" in out.output
    out = run("journey", "create", str(file), "-w", root)
    assert out.exit_code == 0, out.output
    again = run("journey", "create", str(file), "-w", root)
    assert again.exit_code == 1
    assert "exists already" in again.output
    tracker.track(cid(1), "Signed Up", tracker_time())
    out = run("worker", "-w", root, "--once", "--json")
    assert out.exit_code == 0, out.output
    totals = json.loads(out.output[out.output.index("{") :])
    assert totals["entered"] == 1
    assert totals["steps"] == 1
    assert box.to() == {"c1@example.com": 1}
    out = run("journey", "list", "-w", root)
    assert out.exit_code == 0, out.output
    assert "welcome" in out.output
    assert "Signed Up" in out.output
    out = run("journey", "show", "welcome", "-w", root)
    assert out.exit_code == 0, out.output
    assert "queued A 1" in out.output
    assert "sent 1" in out.output
    assert run("journey", "pause", "welcome", "-w", root).exit_code == 0
    assert "(paused)" in run("journey", "show", "welcome", "-w", root).output
    assert run("journey", "resume", "welcome", "-w", root).exit_code == 0
    missing = run("journey", "show", "nope", "-w", root)
    assert missing.exit_code == 1
    assert "journeys: welcome" in missing.output


def tracker_time() -> datetime:  # the worker's clock is the real one here
    return datetime.now(UTC)


def test_the_worker_stops_cleanly_on_sigterm(ws, mailbox, install) -> None:
    """``streamwise worker`` (a real process) exits 0 soon after SIGTERM, saying so."""
    _, port = mailbox
    install(ws, journey_data("welcome", port))
    command = [sys.executable, "-c", "from streamwise.cli.app import main; main()", "worker",
               "-w", str(ws.root), "--poll", "0.1"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **ENV})  # fmt: skip
    assert proc.stderr is not None
    started = proc.stderr.readline()  # once its signal handlers are in place
    assert "Worker started" in started, started
    time.sleep(0.5)  # idle, polling
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Worker stopped" in out
