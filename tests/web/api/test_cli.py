"""``streamwise keys create|list|revoke`` and ``streamwise serve`` (a real uvicorn process with
two workers built by the import-string factory)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from streamwise.cli.app import app
from streamwise.cli.serve import is_loopback
from streamwise.downstream.tracking import sign_token
from streamwise.web.auth import list_keys
from streamwise.workspace import Workspace

ENV = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}


def run(*args: str):
    return CliRunner().invoke(app, list(args), env=ENV)


def test_keys_create_prints_the_key_once_and_stores_only_its_hash(ws_dir: Path) -> None:
    result = run("keys", "create", "shop backend", "--scope", "ingest", "--scope", "read",
                 "--rate-limit", "50", "-w", str(ws_dir))  # fmt: skip
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert key.startswith("sw_")
    assert len(result.stdout.splitlines()) == 1  # the key alone on stdout
    assert "not stored" in result.stderr
    [row] = [k for k in list_keys(Workspace.open(ws_dir).operational()) if k.name == "shop backend"]
    assert row.scopes == "ingest read"
    assert row.rate_limit == 50
    assert key.split("_")[1] == row.prefix
    assert row.key_hash != key
    assert key not in row.key_hash


def test_keys_list_and_revoke(ws_dir: Path) -> None:
    key = run("keys", "create", "ci", "-s", "admin", "-w", str(ws_dir)).stdout.strip()
    prefix = key.split("_")[1]
    listed = run("keys", "list", "-w", str(ws_dir))
    assert listed.exit_code == 0
    assert f"sw_{prefix}_…" in listed.stdout
    assert "admin" in listed.stdout
    assert key not in listed.stdout
    assert key.split("_", 2)[2][:8] not in listed.stdout  # no part of the secret
    revoked = run("keys", "revoke", prefix, "-w", str(ws_dir))
    assert revoked.exit_code == 0
    assert "revoked" in revoked.stdout
    [row] = [k for k in list_keys(Workspace.open(ws_dir).operational()) if k.prefix == prefix]
    assert row.revoked_at is not None
    assert prefix in run("keys", "list", "-w", str(ws_dir)).stdout


def test_keys_errors_say_what_to_do(ws_dir: Path) -> None:
    unknown = run("keys", "revoke", "zzzzzzzz", "-w", str(ws_dir))
    assert unknown.exit_code == 1
    assert "streamwise keys list" in unknown.output
    bad_scope = run("keys", "create", "x", "--scope", "root", "-w", str(ws_dir))
    assert bad_scope.exit_code == 1
    assert "ingest, read, admin" in bad_scope.output
    assert run("keys", "create", " ", "--scope", "read", "-w", str(ws_dir)).exit_code == 1
    assert run("keys", "create", "x", "-w", str(ws_dir)).exit_code == 2  # --scope is required


def test_serve_refuses_a_public_address_without_public(ws_dir: Path) -> None:
    result = run("serve", "--host", "0.0.0.0", "-w", str(ws_dir))
    assert result.exit_code == 1
    assert "--public" in result.output
    assert run("serve", "--log-level", "loud", "-w", str(ws_dir)).exit_code == 1
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("192.168.1.10")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_runs_workers_and_logs_no_secrets(ws_dir: Path) -> None:
    key = run("keys", "create", "reader", "-s", "read", "-w", str(ws_dir)).stdout.strip()
    secret = Workspace.open(ws_dir).settings.secret_key.get_secret_value()
    token = sign_token(secret, kind="click", campaign_id="1", recipient_id="C00000002",
                       variant="A", url="https://shop.example/boots")  # fmt: skip
    port = _free_port()
    env = {**os.environ, **ENV}
    env.pop("STREAMWISE_WORKSPACE", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from streamwise.cli.app import main; main()",
         "serve", "-w", str(ws_dir), "--port", str(port), "--workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not start in 60 s"
            time.sleep(0.2)
        auth = {"Authorization": f"Bearer {key}"}
        for _ in range(4):  # new connections, which either worker may take
            r = httpx.get(f"{base}/campaigns?email=jane@example.com", headers=auth)
            assert r.status_code == 200
            assert r.json()["total"] == 2
        click = httpx.get(f"{base}/c/{token}?email=jane@example.com", follow_redirects=False)
        assert click.status_code in (302, 303, 307)
        assert httpx.get(f"{base}/campaigns", timeout=5).status_code == 401
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert "GET /campaigns 200" in out
    assert "GET /c/{token} 30" in out
    assert "GET /campaigns 401" in out
    assert "HTTP/1.1" not in out  # uvicorn's access log is off
    for secret_part in (key, token, "jane", "example.com", "email="):
        assert secret_part not in out
    assert out.count("Started server process") >= 2  # two workers
