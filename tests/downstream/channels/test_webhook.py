"""WebhookChannel against a local http.server in a thread."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from streamwise.downstream.channels import OutgoingMessage, channel_from_config
from streamwise.downstream.channels.webhook import (
    SIGNATURE_HEADER,
    WebhookChannel,
    sign_webhook,
    verify_webhook_signature,
)
from streamwise.errors import ConfigError

SECRET = "whsec-0123456789abcdef"


class Receiver:
    """Records requests; answers each path from a script of (status, headers) (last repeats)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: dict[str, list[tuple[int, dict[str, str]]]] = {}

    def answer(self, path: str) -> tuple[int, dict[str, str]]:
        replies = self.script.get(path) or [(200, {})]
        return replies.pop(0) if len(replies) > 1 else replies[0]


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append(
                {"path": self.path, "headers": dict(self.headers), "body": body, "at": time.time()}
            )
            status, headers = state.answer(self.path)
            payload = b'{"error": "bad"}' if status >= 400 else b"{}"
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def sms(i: int) -> OutgoingMessage:
    return OutgoingMessage(f"sms-{i}", f"+4470000000{i}", {"text": f"Offer {i} ✓"}, None, {"c": 1})


def test_signed_post_verifies_and_carries_idempotency_key(receiver: tuple[Receiver, str]) -> None:
    state, base = receiver
    with WebhookChannel(f"{base}/hook", SECRET, backoff=(0.01,)) as channel:
        results = channel.push([sms(1), sms(2)])
    assert [(r.status, r.code, r.attempts) for r in results] == [("sent", 200, 1)] * 2
    first = state.requests[0]
    assert first["headers"]["Idempotency-Key"] == "sms-1"
    assert verify_webhook_signature(SECRET, first["headers"][SIGNATURE_HEADER], first["body"])
    assert json.loads(first["body"]) == {
        "message_id": "sms-1",
        "recipient": "+44700000001",
        "payload": {"text": "Offer 1 ✓"},
        "metadata": {"c": 1},
    }
    header = first["headers"][SIGNATURE_HEADER]
    assert not verify_webhook_signature("another-secret-xyz", header, first["body"])
    assert not verify_webhook_signature(SECRET, header, first["body"] + b" ")
    assert not verify_webhook_signature(SECRET, header, first["body"], now=time.time() + 301)
    assert not verify_webhook_signature(SECRET, "garbage", first["body"])


def test_signature_format_is_stripe_like() -> None:
    header = sign_webhook("k" * 16, b'{"a":1}', 1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    assert len(header.split("v1=")[1]) == 64
    rotated = f"{header},v1={'0' * 64}"
    assert verify_webhook_signature("k" * 16, rotated, b'{"a":1}', now=1_700_000_010)


def test_retries_on_503_honouring_retry_after(receiver: tuple[Receiver, str]) -> None:
    state, base = receiver
    state.script["/busy"] = [(503, {"Retry-After": "1"}), (200, {})]
    with WebhookChannel(f"{base}/busy", SECRET, backoff=(0.01,)) as channel:
        [result] = channel.push([sms(1)])
    assert (result.status, result.code, result.attempts) == ("sent", 200, 2)
    assert state.requests[1]["at"] - state.requests[0]["at"] >= 0.95
    assert {r["headers"]["Idempotency-Key"] for r in state.requests} == {"sms-1"}


def test_persistent_5xx_is_deferred_and_400_failed(receiver: tuple[Receiver, str]) -> None:
    state, base = receiver
    state.script["/down"] = [(502, {})]
    state.script["/bad"] = [(400, {})]
    with WebhookChannel(f"{base}/down", SECRET, max_retries=2, backoff=(0.01,)) as channel:
        [down] = channel.push([sms(1)])
    assert (down.status, down.code, down.attempts) == ("deferred", 502, 3)
    with WebhookChannel(f"{base}/bad", SECRET, backoff=(0.01,)) as channel:
        [bad] = channel.push([sms(2)])
    assert (bad.status, bad.code, bad.attempts) == ("failed", 400, 1)
    assert "bad" in bad.detail


def test_unreachable_url_fails_naming_it(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/hook"
    with WebhookChannel(url, SECRET, max_retries=1, backoff=(0.01,)) as channel:
        [result] = channel.push([sms(1)])
    assert (result.status, result.attempts, result.ambiguous) == ("failed", 2, False)
    assert url in result.detail


def test_secret_hidden_and_config_checked() -> None:
    channel = channel_from_config({"type": "webhook", "url": "https://x.test/h", "secret": SECRET})
    assert SECRET not in repr(channel)
    channel.close()
    with pytest.raises(ConfigError, match="at least 16"):
        WebhookChannel("https://x.test/h", "short")
    with pytest.raises(ConfigError, match="http"):
        WebhookChannel("ftp://x.test/h", SECRET)


def test_gone_or_an_invalid_number_marker_bounces(receiver: tuple[Receiver, str]) -> None:
    state, base = receiver
    state.script["/gone"] = [(410, {})]
    state.script["/bad"] = [(400, {})]  # the body says {"error": "bad"}
    with WebhookChannel(f"{base}/gone", SECRET, backoff=(0.01,)) as channel:
        [gone] = channel.push([sms(1)])
    assert (gone.status, gone.code, gone.attempts) == ("bounced", 410, 1)
    with WebhookChannel(f"{base}/bad", SECRET, bounce_markers=["BAD"]) as channel:
        [marked] = channel.push([sms(2)])
    assert (marked.status, marked.code) == ("bounced", 400)  # markers ignore case
    with WebhookChannel(f"{base}/bad", SECRET, bounce_markers=["invalid_number"]) as channel:
        [other] = channel.push([sms(3)])
    assert (other.status, other.code) == ("failed", 400)
    with pytest.raises(ConfigError, match="bounce_status"):
        WebhookChannel(f"{base}/x", SECRET, bounce_status=[503])
