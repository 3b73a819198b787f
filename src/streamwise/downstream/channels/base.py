"""The channel interface every delivery channel implements, its value objects and its registry.

A channel has four parts, as listmonk's messengers do: a ``name``, ``push`` (deliver a batch and
report, per message, exactly what happened), ``flush`` and ``close``. Delivery (the send ledger)
only ever sees this interface; it knows nothing of SMTP, HTTP or outboxes.
"""

from __future__ import annotations

import inspect
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, Literal, Self, TypeVar

from streamwise.errors import ConfigError

__all__ = [
    "Channel",
    "DeliveryResult",
    "DeliveryStatus",
    "OutgoingMessage",
    "Throttle",
    "backoff_delay",
    "channel_from_config",
    "channel_names",
    "register_channel",
]

C = TypeVar("C", bound=type["Channel"])

DeliveryStatus = Literal["sent", "deferred", "bounced", "failed"]


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message for one recipient on one channel.

    Parameters
    ----------
    message_id
        The caller's unique id (the send ledger's key); channels use it for idempotency.
    recipient
        An e-mail address (email), an endpoint or subscriber id (webhook), or an account
        handle (social).
    payload
        ``bytes`` for e-mail: a complete, already built and signed RFC 5322 message, sent
        byte for byte. A ``dict`` for webhook and social channels.
    envelope_from
        The SMTP envelope sender (return path); ``None`` uses the channel's default.
    metadata
        Free-form context (campaign id, variant, ...) that channels may pass on.
    """

    message_id: str
    recipient: str
    payload: bytes | Mapping[str, Any]
    envelope_from: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What happened to one message.

    Parameters
    ----------
    message_id
        The message's id.
    status
        ``"sent"``: accepted by the server or written to the outbox. ``"deferred"``: temporary
        failures (SMTP 4xx, HTTP 429/5xx) until the retries ran out; try again later.
        ``"bounced"``: permanently refused for this recipient (SMTP 5xx at RCPT or DATA); suppress
        the address. ``"failed"``: not delivered for any other reason; see ``detail``.
    code
        The server's reply code (SMTP or HTTP), when there was one.
    detail
        The server's text, or what went wrong and what to do.
    attempts
        How many times the message was sent (0: never tried).
    ambiguous
        True when the connection broke after the message had gone out but before the server's
        answer: it may or may not have been delivered. The channel never retries such a message
        on its own (at most once); the ledger decides. ``detail`` then starts ``outcome unknown``.
    """

    message_id: str
    status: DeliveryStatus
    code: int | None
    detail: str
    attempts: int
    ambiguous: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The result as a plain dict (JSON-ready)."""
        return {
            "message_id": self.message_id,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
            "attempts": self.attempts,
            "ambiguous": self.ambiguous,
        }


class Channel(ABC):
    """A delivery channel: ``name``, ``push``, ``flush``, ``close``; also a context manager."""

    name: ClassVar[str]

    @abstractmethod
    def push(self, messages: Sequence[OutgoingMessage]) -> list[DeliveryResult]:
        """Deliver ``messages`` and return one result per message, in the same order.

        Parameters
        ----------
        messages
            The messages to deliver.

        Returns
        -------
        list of DeliveryResult
            ``results[i]`` belongs to ``messages[i]``.
        """

    def flush(self) -> None:  # noqa: B027 (a no-op default is the point)
        """Make everything pushed so far durable or delivered. A no-op for unbuffered channels."""

    @abstractmethod
    def close(self) -> None:
        """Release connections and files. Safe to call twice."""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Self:
        """Build the channel from settings (keyword arguments of ``__init__``).

        Raises
        ------
        ConfigError
            When a required setting is missing or an unknown one is given.
        """
        params = inspect.signature(cls.__init__).parameters
        known = [p for p in params if p != "self"]
        unknown = sorted(set(config) - set(known))
        if unknown:
            raise ConfigError(
                f"channel {cls.name!r} has no setting(s) {', '.join(unknown)}; "
                f"its settings are: {', '.join(known)}"
            )
        missing = [
            p.name
            for p in params.values()
            if p.name != "self" and p.default is inspect.Parameter.empty and p.name not in config
        ]
        if missing:
            raise ConfigError(f"channel {cls.name!r} needs setting(s): {', '.join(missing)}")
        return cls(**config)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


_REGISTRY: dict[str, type[Channel]] = {}


def register_channel(cls: C) -> C:
    """Register a channel class under its ``name`` (usable as a class decorator).

    Raises
    ------
    ConfigError
        When another class is already registered under the same name.
    """
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{cls.__qualname__} needs a class attribute `name` to be registered")
    existing = _REGISTRY.get(name)
    if existing is not None and existing is not cls:
        raise ConfigError(
            f"channel name {name!r} is taken by {existing.__qualname__}; choose another name"
        )
    _REGISTRY[name] = cls
    return cls


def channel_names() -> list[str]:
    """The names of the registered channels, sorted."""
    return sorted(_REGISTRY)


def channel_from_config(config: Mapping[str, Any]) -> Channel:
    """Build a registered channel from ``{"type": name, **settings}``.

    Raises
    ------
    ConfigError
        When ``type`` is missing or unknown, or a setting is wrong.
    """
    settings = dict(config)
    kind = settings.pop("type", None)
    if kind not in _REGISTRY:
        raise ConfigError(
            f"unknown channel type {kind!r}; set `type` to one of: {', '.join(channel_names())}"
        )
    return _REGISTRY[kind].from_config(settings)


def backoff_delay(backoff: Sequence[float], retry: int) -> float:
    """Seconds to wait before retry number ``retry`` (1-based); the last delay repeats."""
    if not backoff:
        return 0.0
    return float(backoff[min(retry, len(backoff)) - 1])


class Throttle:
    """A token bucket (burst 1) that spaces sends at most ``rate`` per second.

    ``reserve()`` books the next free slot and returns how long to wait for it, so that ``N``
    sends take at least ``(N - 1) / rate`` seconds; thread-safe and usable from asyncio (sleep with
    ``asyncio.sleep``) and from threads (``time.sleep``). ``rate=None`` never waits.
    """

    def __init__(self, rate: float | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate is not None and rate <= 0:
            raise ConfigError(f"rate_per_second must be positive or None (no limit), not {rate}")
        self.rate = rate
        self._clock = clock
        self._next = 0.0
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Book the next slot; return the seconds to wait before using it (0 when free)."""
        if self.rate is None:
            return 0.0
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + 1.0 / self.rate
            return slot - now
