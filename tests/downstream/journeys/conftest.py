"""Fixtures of the journey tests: the shop workspace, a real SMTP server, the real tracking
server, the sales team's webhook receiver, an SMS gateway (helpers in :mod:`.shop`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from streamwise.downstream.channels.webhook import SIGNATURE_HEADER, verify_webhook_signature
from streamwise.downstream.journeys import create_journey, parse_journey
from streamwise.downstream.tracking.bots import BotSettings
from streamwise.web.app import create_app
from streamwise.web.auth import create_key
from streamwise.workspace import Workspace

from .shop import SALES_SECRET, SMS_SECRET, Gateway, Mailbox, SalesHook, Tracker, shop


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on loopback (aiosmtpd) and its port."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    """The shop on SQLite."""
    with Workspace.open(shop(tmp_path / "ws")) as w:
        yield w


@pytest.fixture
def tracker(ws: Workspace) -> Iterator[Tracker]:
    """The tracking server of ``ws`` (clicks count however soon after sending they come)."""
    app = create_app(ws)
    app.state.bot_settings = BotSettings(too_fast_seconds=0)
    _, key = create_key(ws.operational(), "journey tests", "ingest")
    with TestClient(app) as client:
        yield Tracker(client, key)


@pytest.fixture
def install() -> Callable[..., int]:
    """``install(ws, data)``: check and create a journey from data."""

    def make(ws: Workspace, data: dict[str, Any]) -> int:
        return create_journey(ws, parse_journey(data, data["name"]))

    return make


@pytest.fixture
def sales_hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[SalesHook]:
    """A :class:`SalesHook` serving on a free port, its secret in the worker's environment."""
    hook = SalesHook()
    monkeypatch.setenv("STREAMWISE_SALES_WEBHOOK_SECRET", SALES_SECRET)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            signature = self.headers.get(SIGNATURE_HEADER, "")
            ok = verify_webhook_signature(SALES_SECRET, signature, body)
            with hook.lock:
                if ok:
                    hook.accepted.append({"key": self.headers.get("Idempotency-Key"),
                                          "body": json.loads(body)})  # fmt: skip
                else:
                    hook.bad_signatures += 1
            answer = b"{}"
            self.send_response(200 if ok else 401)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    hook.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=hook.server.serve_forever, daemon=True)
    thread.start()
    yield hook
    hook.server.shutdown()
    hook.server.server_close()


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gateway]:
    """A :class:`Gateway` serving on a free port, its secret in the worker's environment."""
    gw = Gateway()
    monkeypatch.setenv("STREAMWISE_WEBHOOK_SECRET", SMS_SECRET)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            signature = self.headers.get(SIGNATURE_HEADER, "")
            ok = verify_webhook_signature(SMS_SECRET, signature, body)
            with gw.lock:
                if ok:
                    data = json.loads(body)
                    gw.accepted.append({"key": self.headers.get("Idempotency-Key"),
                                        "to": data["payload"]["to"], "body": data})  # fmt: skip
                else:
                    gw.bad_signatures += 1
            answer = b'{"status": "queued"}' if ok else b'{"error": "bad signature"}'
            self.send_response(200 if ok else 401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    gw.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=gw.server.serve_forever, daemon=True)
    thread.start()
    yield gw
    gw.server.shutdown()
    gw.server.server_close()
