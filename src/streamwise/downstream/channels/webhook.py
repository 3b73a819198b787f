"""Webhooks: a signed JSON POST per message, e.g. to an SMS gateway or a chat.

Each request carries ``X-Streamwise-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">``
(as Stripe signs its webhooks: receivers verify it with :func:`verify_webhook_signature` and
refuse old timestamps, so a captured request cannot be replayed) and ``Idempotency-Key:
<message_id>`` (so a receiver can drop a repeat).

Outcomes: 2xx ``sent``; 408, 429 and 5xx retried after ``backoff`` or the server's
``Retry-After``, then ``deferred``; a status in ``bounce_status`` (410 Gone by default), or a 4xx
whose body contains one of ``bounce_markers`` (a gateway's "invalid number" code), ``bounced``
(the caller suppresses the recipient); other 4xx ``failed``. A connection that could not be made is
retried; one that broke after the request went out is ``failed`` with ``ambiguous=True`` and is
not retried here (at most once; the ledger may resend with the same idempotency key).
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from streamwise.downstream.channels.base import (
    Channel,
    DeliveryResult,
    DeliveryStatus,
    OutgoingMessage,
    Throttle,
    backoff_delay,
    register_channel,
)
from streamwise.errors import ConfigError, DeliveryError

__all__ = ["SIGNATURE_HEADER", "WebhookChannel", "sign_webhook", "verify_webhook_signature"]

SIGNATURE_HEADER = "X-Streamwise-Signature"
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def sign_webhook(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header value ``t=<timestamp>,v1=<hex HMAC-SHA256 of "t.body">``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_webhook_signature(
    secret: str,
    header: str,
    body: bytes,
    tolerance: float = 300,
    *,
    now: float | None = None,
) -> bool:
    """Check a received webhook: the signature matches ``body`` and is at most ``tolerance``
    seconds old (or early), so replays are refused.

    Parameters
    ----------
    secret
        The shared secret the channel was configured with.
    header
        The ``X-Streamwise-Signature`` header as received.
    body
        The raw request body, byte for byte (do not re-serialise the parsed JSON).
    tolerance
        Largest accepted age of the timestamp, in seconds.
    now
        The current Unix time (default: the clock).

    Returns
    -------
    bool
        True when some ``v1`` signature matches and the timestamp is fresh.
    """
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = sign_webhook(secret, body, timestamp).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, got) for got in parts.get("v1", []))


def _retry_after(value: str | None, now: float) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


@register_channel
class WebhookChannel(Channel):
    """Signed JSON POSTs to one URL, over one shared HTTP connection pool.

    Parameters
    ----------
    url
        Where to POST.
    secret
        The shared HMAC secret (never shown or logged); give the receiver the same one.
    timeout
        Seconds per request.
    max_retries
        Retries after 408/429/5xx or a refused connection.
    backoff
        Seconds before retry 1, 2, ...; the last repeats. ``Retry-After`` takes precedence.
    max_retry_after
        Longest ``Retry-After`` honoured; a longer one defers the message at once.
    rate_per_second
        Requests per second at most (``None``: no limit).
    headers
        Extra headers for every request (e.g. a gateway's API key).
    envelope
        True: POST ``{"message_id", "recipient", "payload", "metadata"}``; False: the payload
        dict as it is (for gateways with a fixed format).
    bounce_status
        Statuses that mean "this recipient does not exist" (``bounced``, not ``failed``).
    bounce_markers
        Texts (case-insensitive) whose presence in a 4xx answer's body means the same, e.g. a
        gateway's error code for an invalid number (``"21211"``) or ``"invalid_number"``.
    """

    name = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout: float = 10.0,
        max_retries: int = 3,
        backoff: Sequence[float] = (0.5, 2.0, 8.0),
        max_retry_after: float = 60.0,
        rate_per_second: float | None = None,
        headers: Mapping[str, str] | None = None,
        envelope: bool = True,
        bounce_status: Sequence[int] = (410,),
        bounce_markers: Sequence[str] = (),
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"webhook url must start with http:// or https://, not {url!r}")
        if len(secret) < 16:
            raise ConfigError("the webhook secret must be at least 16 characters; generate one")
        self.url = url
        self._secret = secret
        self.max_retries = max_retries
        self.backoff = tuple(backoff)
        self.max_retry_after = max_retry_after
        self.envelope = envelope
        self.bounce_status = frozenset(int(c) for c in bounce_status)
        if self.bounce_status & (_RETRY_STATUS | frozenset(range(200, 300))):
            raise ConfigError(
                "bounce_status may not hold 2xx or retried statuses (408, 425, 429, 5xx); "
                f"got {sorted(self.bounce_status)}"
            )
        self.bounce_markers = tuple(m.lower() for m in bounce_markers if m)
        self.throttle = Throttle(rate_per_second)
        self._sleep = sleep
        self._client: httpx.Client | None = httpx.Client(
            timeout=timeout, headers=dict(headers or {}), transport=transport
        )

    def __repr__(self) -> str:
        return (
            f"WebhookChannel(url={self.url!r}, secret='***', max_retries={self.max_retries}, "
            f"rate_per_second={self.throttle.rate})"
        )

    def _body(self, message: OutgoingMessage) -> bytes:
        if not isinstance(message.payload, Mapping):
            raise DeliveryError(
                f"message {message.message_id!r}: a webhook payload must be a dict, "
                f"not {type(message.payload).__name__}"
            )
        data: Any = message.payload
        if self.envelope:
            data = {
                "message_id": message.message_id,
                "recipient": message.recipient,
                "payload": dict(message.payload),
                "metadata": dict(message.metadata),
            }
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str).encode()

    def push(self, messages: Sequence[OutgoingMessage]) -> list[DeliveryResult]:
        """POST each message in turn; see the module docstring for outcomes.

        Raises
        ------
        DeliveryError
            When the channel is closed or a payload is not a dict (nothing is sent then).
        """
        if self._client is None:
            raise DeliveryError(f"the webhook channel to {self.url} is closed; open a new one")
        bodies = [self._body(m) for m in messages]
        return [self._send(m, body) for m, body in zip(messages, bodies, strict=True)]

    def _send(self, message: OutgoingMessage, body: bytes) -> DeliveryResult:
        assert self._client is not None
        attempts = 0
        while True:
            wait = self.throttle.reserve()
            if wait > 0:
                self._sleep(wait)
            attempts += 1
            headers = {
                "Content-Type": "application/json",
                "Idempotency-Key": message.message_id,
                SIGNATURE_HEADER: sign_webhook(self._secret, body, int(time.time())),
            }
            try:
                response = self._client.post(self.url, content=body, headers=headers)
            except _NOT_SENT as exc:
                if attempts > self.max_retries:
                    return DeliveryResult(
                        message.message_id,
                        "failed",
                        None,
                        f"not sent: could not connect to {self.url} ({exc}); check the URL",
                        attempts,
                    )
                self._sleep(backoff_delay(self.backoff, attempts))
                continue
            except httpx.HTTPError as exc:
                return DeliveryResult(
                    message.message_id,
                    "failed",
                    None,
                    f"outcome unknown: the request went to {self.url} but no answer came "
                    f"({type(exc).__name__}: {exc}); not retried",
                    attempts,
                    ambiguous=True,
                )
            code, text = response.status_code, response.text[:200]
            detail = f"{code} {response.reason_phrase}: {text}".rstrip(": ")
            if 200 <= code < 300:
                return DeliveryResult(message.message_id, "sent", code, detail, attempts)
            if code not in _RETRY_STATUS:
                status: DeliveryStatus = (
                    "bounced" if self._is_bounce(code, response.text) else "failed"
                )
                return DeliveryResult(message.message_id, status, code, detail, attempts)
            delay = _retry_after(response.headers.get("Retry-After"), time.time())
            if delay is None:
                delay = backoff_delay(self.backoff, attempts)
            if attempts > self.max_retries or delay > self.max_retry_after:
                return DeliveryResult(message.message_id, "deferred", code, detail, attempts)
            self._sleep(delay)

    def _is_bounce(self, code: int, body: str) -> bool:
        if code in self.bounce_status:
            return True
        text = body[:4000].lower()
        return 400 <= code < 500 and any(m in text for m in self.bounce_markers)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        if self._client is not None:
            self._client.close()
            self._client = None
