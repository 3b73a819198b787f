"""API keys: created once and shown once, stored as SHA-256, scoped, rate-limited per key.

A key reads ``sw_<prefix>_<secret>``: the prefix (8 characters) finds the row, the whole key's
SHA-256 is compared in constant time. Keys are random 256-bit values, so a fast hash is the
right one (as for GitHub's tokens); a slow password hash would only slow every request.

Scopes: ``ingest`` (send events), ``read`` (read campaigns, audiences, plans, results) and
``admin`` (everything, including writes). Clients send the key as ``Authorization: Bearer
<key>``; Segment's libraries send it as the HTTP Basic user name, which is accepted too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal, get_args

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from sqlalchemy import Engine, select

from streamwise.errors import DataError
from streamwise.store.models import ApiKey
from streamwise.web.problems import ProblemError

__all__ = [
    "SCOPES",
    "AdminKey",
    "IngestKey",
    "Principal",
    "RateLimiter",
    "ReadKey",
    "Scope",
    "create_key",
    "list_keys",
    "require",
    "revoke_key",
    "verify_key",
]

Scope = Literal["ingest", "read", "admin"]
SCOPES: tuple[str, ...] = get_args(Scope)
_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no look-alikes (l, 1, o, 0)
# How long a looked-up key is trusted before it is read again (revocation takes this long).
CACHE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's id, name, scopes and rate limit (requests per second)."""

    key_id: int
    name: str
    scopes: frozenset[str]
    rate_limit: float

    def allows(self, scope: str) -> bool:
        """Whether the key may use ``scope`` (``admin`` may use all)."""
        return scope in self.scopes or "admin" in self.scopes


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _scopes(scopes: str | list[str] | tuple[str, ...]) -> list[str]:
    items = scopes.replace(",", " ").split() if isinstance(scopes, str) else list(scopes)
    bad = [s for s in items if s not in SCOPES]
    if bad or not items:
        raise DataError(
            f"unknown scope(s) {', '.join(bad) or '(none given)'}; use one or more of "
            f"{', '.join(SCOPES)}",
            column="scopes",
        )
    return sorted(set(items))


def create_key(
    engine: Engine,
    name: str,
    scopes: str | list[str] | tuple[str, ...],
    *,
    rate_limit: float = 0.0,
) -> tuple[ApiKey, str]:
    """Create a key; returns its row and the key itself, which is shown this once only."""
    prefix = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    key = f"sw_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(name=name, prefix=prefix, key_hash=_hash(key),
                 scopes=" ".join(_scopes(scopes)), rate_limit=float(rate_limit))  # fmt: skip
    from streamwise.store import session_factory

    with session_factory(engine)() as session:
        session.add(row)
        session.commit()
    return row, key


def list_keys(engine: Engine) -> list[ApiKey]:
    """Every key (revoked ones too), oldest first; no secrets are stored to show."""
    from streamwise.store import session_factory

    with session_factory(engine)() as session:
        return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(engine: Engine, prefix: str) -> ApiKey:
    """Revoke the key with this prefix (``sw_<prefix>_…``; the ``sw_`` may be left out)."""
    from streamwise.store import session_factory

    prefix = prefix.removeprefix("sw_").split("_", 1)[0]
    with session_factory(engine)() as session:
        row = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()
        if row is None:
            raise DataError(f"no API key with prefix {prefix!r}; `streamwise keys list` shows them")
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
            session.commit()
        return row


def verify_key(engine: Engine, key: str) -> Principal | None:
    """The key's principal, or ``None`` when the key is unknown, revoked or malformed."""
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != "sw":
        return None
    with engine.connect() as con:
        row = con.execute(
            select(ApiKey.id, ApiKey.name, ApiKey.key_hash, ApiKey.scopes, ApiKey.rate_limit,
                   ApiKey.revoked_at).where(ApiKey.prefix == parts[1])
        ).first()  # fmt: skip
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_hash, _hash(key)):
        return None
    return Principal(row.id, row.name, frozenset(row.scopes.split()), row.rate_limit)


class _KeyCache:
    """Looked-up keys for :data:`CACHE_SECONDS`, so a request costs no database read."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.lock = threading.Lock()
        self.items: dict[str, tuple[float, Principal | None]] = {}

    def clear(self) -> None:
        """Forget every looked-up key (after a revocation in this process)."""
        with self.lock:
            self.items.clear()

    def get(self, key: str) -> Principal | None:
        digest = _hash(key)
        now = time.monotonic()
        with self.lock:
            hit = self.items.get(digest)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1]
        principal = verify_key(self.engine, key)
        with self.lock:
            if len(self.items) > 10_000:
                self.items.clear()
            self.items[digest] = (now, principal)
        return principal


class RateLimiter:
    """A token bucket per key: ``rate`` requests per second, bursts of up to one second's worth
    (at least one request, so a key limited to less than one request per second still gets
    its request every ``1 / rate`` seconds).

    The buckets live in each server process; with several workers a key may use ``rate`` in
    each of them.
    """

    def __init__(self, default_rate: float) -> None:
        self.default_rate = default_rate
        self.lock = threading.Lock()
        self.buckets: dict[int, tuple[float, float]] = {}

    def take(self, principal: Principal) -> float:
        """Take one token; returns 0 when allowed, else the seconds to wait."""
        rate = principal.rate_limit or self.default_rate
        now = time.monotonic()
        burst = max(1.0, rate)
        with self.lock:
            tokens, last = self.buckets.get(principal.key_id, (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            if tokens >= 1:
                self.buckets[principal.key_id] = (tokens - 1, now)
                return 0.0
            self.buckets[principal.key_id] = (tokens, now)
            return (1 - tokens) / rate


_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer sw_…`")


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic" and value.strip():
        try:
            user = base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user or None
    return None


def require(scope: Scope) -> Callable[..., Principal]:
    """A dependency that admits keys with ``scope`` (401 without a valid key, 403 without the
    scope, 429 over the key's rate limit with ``Retry-After``)."""

    def dependency(request: Request, _: Annotated[object, Depends(_bearer)] = None) -> Principal:
        key = _presented_key(request)
        state = request.app.state
        principal = state.keys.get(key) if key else None
        if principal is None:
            raise ProblemError(
                401, "Unauthorized",
                "send a valid API key as 'Authorization: Bearer sw_…'; create one with "
                "`streamwise keys create NAME --scope " + scope + "`",
                headers={"WWW-Authenticate": 'Bearer realm="streamwise"'},
            )  # fmt: skip
        if not principal.allows(scope):
            raise ProblemError(
                403, "Forbidden",
                f"this key has scopes {' '.join(sorted(principal.scopes))}; this call needs "
                f"{scope!r} (create a key with that scope)",
            )  # fmt: skip
        wait = state.limiter.take(principal)
        if wait > 0:
            raise ProblemError(
                429, "Too many requests",
                f"this key is limited to {principal.rate_limit or state.limiter.default_rate:g} "
                "requests per second; retry after the time in Retry-After",
                headers={"Retry-After": str(max(1, round(wait + 0.5)))},
            )  # fmt: skip
        return principal

    return dependency


#: Dependencies for handler signatures: ``def handler(key: ReadKey) -> ...``.
IngestKey = Annotated[Principal, Depends(require("ingest"))]
ReadKey = Annotated[Principal, Depends(require("read"))]
AdminKey = Annotated[Principal, Depends(require("admin"))]
