"""A demo workspace with a plan, a real SMTP server (aiosmtpd) on loopback that records the
Message-ID of every message it accepts, a real HTTP SMS gateway on loopback that verifies the
webhook signatures, and a fresh PostgreSQL database per test."""

from __future__ import annotations

import email
import json
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from streamwise.cli.demo import run_demo
from streamwise.downstream.channels.webhook import SIGNATURE_HEADER, verify_webhook_signature


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Recorder:
    """Keeps every accepted message (raw bytes) and its Message-ID."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.lock:
            self.messages.append(envelope.original_content or envelope.content)
        return "250 OK"

    def message_ids(self) -> list[str]:
        with self.lock:
            raw = list(self.messages)
        return [email.message_from_bytes(m, policy=policy.default)["Message-ID"] for m in raw]


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Recorder]]:
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, recorder
    controller.stop()


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo workspace (customers, segments, plan) built once; tests copy it."""
    out = run_demo(
        tmp_path_factory.mktemp("campaigns") / "demo", customers=1_500, seed=42, mmm_draws=0
    )
    return Path(out["workspace"])


# --- webhook (SMS) campaigns -------------------------------------------------------------------

WEBHOOK_SECRET = "gw-secret-0123456789abcdef"


class Gateway:
    """An SMS gateway on loopback: verifies each request's HMAC signature (refusing bad ones
    with 401), answers per recipient number from a script of ``(status, headers, body)`` (the
    last entry repeats; default 200) and records every accepted request."""

    def __init__(self, secret: str = WEBHOOK_SECRET) -> None:
        self.secret = secret
        self.accepted: list[dict] = []  # one per 2xx answer, repeats included
        self.requests: list[dict] = []  # every request, whatever the answer
        self.bad_signatures = 0
        self.script: dict[str, list[tuple[int, dict[str, str], bytes]]] = {}
        self.delay = 0.0
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/sms"

    def keys(self) -> list[str]:
        """Idempotency keys of the accepted requests, in arrival order, repeats included."""
        with self.lock:
            return [r["key"] for r in self.accepted]

    def delivered(self) -> dict[str, dict]:
        """What a receiver that deduplicates by Idempotency-Key keeps: the first of each key."""
        out: dict[str, dict] = {}
        with self.lock:
            for r in self.accepted:
                out.setdefault(r["key"], r)
        return out

    def _answer(self, to: str) -> tuple[int, dict[str, str], bytes]:
        replies = self.script.get(to) or [(200, {}, b'{"status": "queued"}')]
        return replies.pop(0) if len(replies) > 1 else replies[0]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if gateway.delay:
                    time.sleep(gateway.delay)
                signature = self.headers.get(SIGNATURE_HEADER, "")
                ok = verify_webhook_signature(gateway.secret, signature, body)
                data = json.loads(body) if ok else {}
                to = data.get("payload", {}).get("to", "")
                with gateway.lock:
                    gateway.requests.append({"key": self.headers.get("Idempotency-Key"), "to": to})
                    if not ok:
                        gateway.bad_signatures += 1
                        status, headers, answer = 401, {}, b'{"error": "bad signature"}'
                    else:
                        status, headers, answer = gateway._answer(to)
                    if 200 <= status < 300:
                        gateway.accepted.append(
                            {"key": self.headers["Idempotency-Key"], "to": to, "body": data}
                        )
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a sender killed mid-request resets its connection: expected in crash tests


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    """A :class:`Gateway` serving on 127.0.0.1 at a free port."""
    gw = Gateway()
    gw.server = _QuietServer(("127.0.0.1", 0), gw.handler())
    thread = threading.Thread(target=gw.server.serve_forever, daemon=True)
    thread.start()
    yield gw
    gw.server.shutdown()
    gw.server.server_close()


def add_sms_consent(root: Path) -> None:
    """Give the workspace's customers an ``sms_opt_in`` column (about two in three true, a few
    unknown): the customers contract has no consent to text messages, so tests add one."""
    import duckdb

    con = duckdb.connect(str(root / "analytics.duckdb"))
    try:
        con.execute("ALTER TABLE customers ADD COLUMN sms_opt_in BOOLEAN")
        con.execute(
            "UPDATE customers SET sms_opt_in = CASE WHEN hash(customer_id) % 29 = 0 THEN NULL "
            "ELSE hash(customer_id) % 3 <> 0 END"
        )
    finally:
        con.close()


def _sms_settings(url: str, **extra: object) -> dict:
    """A two-variant SMS campaign's settings posting to ``url``."""
    out = {
        "text_message": {"address_field": "phone", "consent_field": "sms_opt_in",
                         "sender_id": "Northwind"},
        "variants": {
            "A": {"weight": 1, "text": "Hi {{ first_name }}, tents -20% this weekend: "
                                      "{{ link('https://shop.example/tents') }}"},
            "B": {"weight": 1, "text": "{{ first_name }}, sleep under the stars: new bags in."},
        },
        "holdout": 0.1,
        "tracking_base_url": "https://t.northwind.example",
        "utm": {"source": "sms-blast"},
        "channel": {"url": url, "backoff": [0.01], "max_retries": 2,
                    "bounce_markers": ["invalid_number"]},
        "batch_size": 50,
    }  # fmt: skip
    return out | extra


@pytest.fixture
def sms_settings() -> Callable[..., dict]:
    """``sms_settings(url, **overrides)``: a two-variant SMS campaign's settings."""
    return _sms_settings


@pytest.fixture
def sms_root(demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the demo workspace whose customers have ``sms_opt_in``, with the webhook
    secret in the environment (as a sender process would have it)."""
    root = tmp_path / "ws"
    shutil.copytree(demo_dir, root)
    add_sms_consent(root)
    monkeypatch.setenv("STREAMWISE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    return root
