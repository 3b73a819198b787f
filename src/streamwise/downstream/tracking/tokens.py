"""Signed tracking tokens: click links, the open pixel and one-click unsubscribe links.

A token is ``<payload>.<signature>``, both base64url without padding (RFC 4648 §5), so it can
sit in a URL path unescaped. The payload is compact JSON holding the kind (``click``, ``open``
or ``unsubscribe``), the campaign, variant and recipient ids, the target URL for clicks, and the
issue and expiry times (Unix seconds). The signature is HMAC-SHA256 (RFC 2104) over a
domain-separation label and the encoded payload, truncated to 128 bits (RFC 2104 §5 allows
truncation to half the hash length). The payload is signed, not encrypted: it must not carry
anything the recipient may not read (it carries ids, never e-mail addresses).

Keys rotate: :func:`sign_token` signs with the first secret it is given, :func:`verify_token`
accepts a token signed with any of them, so a new secret is put first and an old one kept in
the list until its tokens have expired.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import json
import re
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from streamwise.errors import ConfigError, DataError

__all__ = [
    "DEFAULT_TTL",
    "InvalidToken",
    "TokenData",
    "TokenKind",
    "add_open_pixel",
    "open_pixel",
    "rewrite_links",
    "sign_token",
    "tracking_url",
    "verify_token",
]

TokenKind = Literal["click", "open", "unsubscribe"]
_KINDS: tuple[str, ...] = get_args(TokenKind)
_DAY = 86_400
#: How long a token stays valid by default, in seconds. CAN-SPAM (15 U.S.C. §7704(a)(3)) needs
#: an opt-out to work for at least 30 days after sending; two years leaves ample margin.
DEFAULT_TTL: dict[str, int] = {"click": 365 * _DAY, "open": 90 * _DAY, "unsubscribe": 730 * _DAY}
_LABEL = b"streamwise-tracking-v1."
_MAC_BYTES = 16
_Secret = str | bytes


class InvalidToken(DataError):  # noqa: N818 - reads naturally as ``except InvalidToken``
    """A tracking token was malformed, forged or tampered with, of the wrong kind, or expired.

    Parameters
    ----------
    message
        What was wrong and what to do about it.
    reason
        ``"malformed"``, ``"signature"``, ``"kind"`` or ``"expired"``, so that a tracking service
        can answer 400 for the first three and a friendly "link expired" page for the last.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, source="tracking token")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class TokenData:
    """What a verified token says.

    Attributes
    ----------
    kind
        ``"click"``, ``"open"`` or ``"unsubscribe"``.
    campaign_id, recipient_id
        Whom the message was for, in which campaign.
    variant
        The experiment variant the recipient saw, if any.
    url
        The click's target (clicks only).
    issued_at, expires_at
        Unix seconds.
    """

    kind: TokenKind
    campaign_id: str
    recipient_id: str
    variant: str | None
    url: str | None
    issued_at: int
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(secret: _Secret) -> bytes:
    key = secret.encode() if isinstance(secret, str) else secret
    if not key:
        raise ConfigError(
            "the tracking secret is empty; set secret_key in streamwise.toml or "
            "STREAMWISE_SECRET_KEY"
        )
    return key


def _mac(key: bytes, payload: str) -> bytes:
    return hmac.new(key, _LABEL + payload.encode("ascii"), hashlib.sha256).digest()[:_MAC_BYTES]


def sign_token(
    secret: _Secret | Sequence[_Secret],
    *,
    kind: TokenKind,
    campaign_id: str,
    recipient_id: str,
    variant: str | None = None,
    url: str | None = None,
    issued_at: int | None = None,
    ttl: int | None = None,
) -> str:
    """Sign a tracking token.

    Parameters
    ----------
    secret
        The signing secret, or a list of secrets whose first one signs (key rotation).
    kind
        ``"click"`` (needs ``url``), ``"open"`` or ``"unsubscribe"``.
    campaign_id, recipient_id, variant
        Identify the send. Use ids, never e-mail addresses: the payload is readable.
    url
        For clicks, the http(s) URL the tracking service redirects to.
    issued_at
        Unix seconds; now by default.
    ttl
        Seconds of validity; :data:`DEFAULT_TTL` for the kind by default.

    Returns
    -------
    str
        ``<payload>.<signature>``, URL-safe.
    """
    if kind not in _KINDS:
        raise DataError(f"unknown token kind {kind!r}; use one of {', '.join(_KINDS)}")
    if kind == "click":
        if not url or not url.lower().startswith(("http://", "https://")):
            raise DataError(f"a click token needs an http(s) target url, got {url!r}")
    elif url is not None:
        raise DataError(f"only click tokens carry a url; drop url= for a {kind} token")
    first = secret if isinstance(secret, str | bytes) else (secret[0] if secret else b"")
    iat = int(time.time()) if issued_at is None else int(issued_at)
    body: dict[str, object] = {
        "k": kind[0],
        "c": campaign_id,
        "r": recipient_id,
        "i": iat,
        "e": iat + (DEFAULT_TTL[kind] if ttl is None else int(ttl)),
    }
    if variant is not None:
        body["v"] = variant
    if url is not None:
        body["u"] = url
    payload = _b64(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
    return f"{payload}.{_b64(_mac(_key(first), payload))}"


def verify_token(
    secret: _Secret | Sequence[_Secret],
    token: str,
    *,
    kind: TokenKind,
    now: float | None = None,
) -> TokenData:
    """Check a token's signature, kind and expiry, and return what it says.

    Parameters
    ----------
    secret
        The secret, or every secret still accepted (current first, then retired ones).
    token
        The token from the URL.
    kind
        The kind the endpoint serves; a click token is refused at the unsubscribe endpoint.
    now
        Unix seconds; now by default.

    Raises
    ------
    InvalidToken
        With ``reason`` ``"malformed"``, ``"signature"``, ``"kind"`` or ``"expired"``.
    """
    secrets = [secret] if isinstance(secret, str | bytes) else list(secret)
    if not secrets:
        raise ConfigError("no tracking secret given; pass the current secret (and retired ones)")
    payload, dot, sig_text = token.partition(".")
    try:
        if not dot or not payload or not token.isascii():
            raise ValueError("no signature")
        signature = _unb64(sig_text)
    except (ValueError, binascii.Error):
        raise InvalidToken(
            "the token is not '<payload>.<signature>' in base64url; the link was cut or altered, "
            "ask the recipient to use the link from the original message",
            reason="malformed",
        ) from None
    # Compare against every secret (no early exit), in constant time (hmac.compare_digest).
    valid = False
    for s in secrets:
        valid |= hmac.compare_digest(_mac(_key(s), payload), signature)
    if not valid:
        raise InvalidToken(
            "the token's signature does not match; it was altered or signed with a secret that "
            "is no longer accepted (keep retired secrets in the list until their tokens expire)",
            reason="signature",
        )
    try:
        body = json.loads(_unb64(payload))
        data = TokenData(
            kind={k[0]: k for k in _KINDS}[body["k"]],  # type: ignore[arg-type]
            campaign_id=str(body["c"]),
            recipient_id=str(body["r"]),
            variant=body.get("v"),
            url=body.get("u"),
            issued_at=int(body["i"]),
            expires_at=int(body["e"]),
        )
    except (ValueError, KeyError, TypeError):
        raise InvalidToken(
            "the token is signed but its payload is unreadable; it was made by another version",
            reason="malformed",
        ) from None
    if data.kind != kind:
        raise InvalidToken(
            f"this is a {data.kind} token, not a {kind} token; use the matching endpoint",
            reason="kind",
        )
    if (time.time() if now is None else now) >= data.expires_at:
        raise InvalidToken(
            "the token has expired; the recipient can use the link in a more recent message",
            reason="expired",
        )
    return data


def tracking_url(base_url: str, token: str) -> str:
    """The tracking service's URL for a token: ``base_url`` + ``/`` + token.

    Use one base per kind, e.g. ``https://t.example.com/c`` for clicks, ``.../o`` for opens and
    ``.../u`` for unsubscribes; the token needs no escaping.
    """
    return f"{base_url.rstrip('/')}/{token}"


_A_TAG = re.compile(r"<a\b[^>]*>", re.IGNORECASE)
_HREF = re.compile(r"""(\shref\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
_NOTRACK = re.compile(r"\sdata-notrack\b", re.IGNORECASE)


def rewrite_links(
    html_text: str,
    make_click_url: Callable[[str], str],
    *,
    skip: Collection[str] = (),
) -> str:
    """Route every http(s) link of ``<a>`` tags through the click tracker.

    Parameters
    ----------
    html_text
        Rendered HTML.
    make_click_url
        Called with each target URL (unescaped), returns the tracking URL to put instead.
    skip
        URLs to leave as they are: the unsubscribe and preferences links (an unsubscribe must
        not depend on the click tracker). Links with a ``data-notrack`` attribute are left too,
        as are ``mailto:``, ``tel:`` and ``#`` anchors.

    Returns
    -------
    str
        The HTML with the ``href`` values replaced.
    """
    skipped = set(skip)

    def tag(match: re.Match[str]) -> str:
        text = match.group(0)
        if _NOTRACK.search(text):
            return text
        href = _HREF.search(text)
        if href is None:
            return text
        raw = next(g for g in href.groups()[1:] if g is not None)
        url = html.unescape(raw).strip()
        if not url.lower().startswith(("http://", "https://")) or url in skipped:
            return text
        new = f'{href.group(1)}"{html.escape(make_click_url(url), quote=True)}"'
        return text[: href.start()] + new + text[href.end() :]

    return _A_TAG.sub(tag, html_text)


def open_pixel(base_url: str, token: str) -> str:
    """The open-tracking pixel: a 1×1 image whose URL carries an ``open`` token."""
    src = html.escape(tracking_url(base_url, token), quote=True)
    return (
        f'<img src="{src}" width="1" height="1" alt="" '
        'style="display:block;border:0;width:1px;height:1px;overflow:hidden">'
    )


_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def add_open_pixel(html_text: str, pixel: str) -> str:
    """Put the pixel just before the last ``</body>`` (or at the end when there is none)."""
    ends = list(_BODY_END.finditer(html_text))
    if not ends:
        return html_text + pixel
    at = ends[-1].start()
    return html_text[:at] + pixel + html_text[at:]
