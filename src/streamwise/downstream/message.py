"""RFC 5322 messages from rendered e-mail: headers for one-click unsubscribe, MIME parts.

:func:`build_email` writes the bytes directly with the stdlib's encoders (``email.header`` for
RFC 2047 encoded words, ``email.utils`` for addresses and dates, ``binascii`` for
quoted-printable and base64) instead of building an :class:`email.message.EmailMessage`: the
latter costs about 1 ms per message, as much as rendering and DKIM signing together. The result
parses back with ``email.message_from_bytes(..., policy=email.policy.default)``; the tests check.

The message is ``multipart/alternative`` (RFC 2046 §5.1.4) with the text part first and the
HTML part last (the preferred one). Each part is UTF-8, ``7bit`` when it is short-lined ASCII,
``base64`` when more than a fifth of its bytes are non-ASCII, ``quoted-printable`` otherwise.
Lines end in CRLF, as on the wire and as DKIM signs them.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr

from streamwise.downstream.render import RenderedEmail
from streamwise.errors import DataError

__all__ = ["build_email", "format_address", "message_id"]

_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_DOMAIN = re.compile(
    r"(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9-]+"
)
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 §2.2: printable ASCII except ':'
_CRLF = "\r\n"


def message_id(campaign_id: str, recipient_id: str, domain: str, *, attempt_key: str = "") -> str:
    """A deterministic Message-ID (RFC 5322 §3.6.4): the same send always gets the same id.

    Parameters
    ----------
    campaign_id, recipient_id
        The send; a retried send keeps its id, so the ledger and the receiving server can spot
        duplicates.
    domain
        The sending domain (right-hand side).
    attempt_key
        Set it to send the same campaign to the same recipient again as a *new* message.

    Returns
    -------
    str
        ``<32 hex digits.campaign@domain>`` (the campaign part only when it is a dot-atom).
    """
    if not _DOMAIN.fullmatch(domain):
        raise DataError(
            f"{domain!r} is not a domain name; give the sending domain, e.g. mail.x.com"
        )
    key = "\x1f".join((campaign_id, recipient_id, attempt_key)).encode()
    digest = hashlib.sha256(key).hexdigest()[:32]
    tag = campaign_id if _ATOM.fullmatch(campaign_id) and len(campaign_id) <= 40 else ""
    tag = tag.strip(".").replace("..", ".")
    return f"<{digest}.{tag}@{domain}>" if tag else f"<{digest}@{domain}>"


def _check(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise DataError(f"the {name} header value contains a line break; remove it", column=name)
    return value


def format_address(address: str) -> str:
    """``Name <local@domain>`` with the display name RFC 2047-encoded when it is not ASCII.

    The domain is IDNA-encoded (RFC 5890); a non-ASCII local part is refused (it needs
    SMTPUTF8, RFC 6531, which this sender does not use).
    """
    name, addr = parseaddr(_check("address", address))
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain:
        raise DataError(f"{address!r} is not an e-mail address; use local@domain or Name <...>")
    if not local.isascii():
        raise DataError(f"{address!r} has a non-ASCII local part; SMTPUTF8 is not supported")
    try:
        domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError:
        raise DataError(f"{address!r} has an invalid domain name") from None
    return formataddr((name, f"{local}@{domain}"), charset="utf-8")


def _header(name: str, value: str) -> str:
    """One header field, folded at 78 characters; RFC 2047 words when not ASCII."""
    _check(name, value)
    if value.isascii() and len(name) + len(value) + 2 <= 78:
        return f"{name}: {value}{_CRLF}"
    charset = "us-ascii" if value.isascii() else "utf-8"
    folded = Header(value, charset, maxlinelen=78, header_name=name).encode(linesep=_CRLF)
    return f"{name}: {folded}{_CRLF}"


def _part(subtype: str, content: str) -> tuple[bytes, bytes]:
    """Headers and encoded body of one text part."""
    text = content.replace("\r\n", "\n").replace("\r", "\n")
    raw = text.encode("utf-8")
    if raw.isascii() and all(len(line) <= 998 for line in raw.split(b"\n")):
        cte, body = "7bit", raw.replace(b"\n", b"\r\n")
    elif sum(b > 127 for b in raw) * 5 > len(raw):
        cte = "base64"
        b64 = binascii.b2a_base64(raw, newline=False)
        body = b"\r\n".join(b64[i : i + 76] for i in range(0, len(b64), 76))
    else:
        cte = "quoted-printable"
        body = binascii.b2a_qp(raw, istext=True).replace(b"\n", b"\r\n")
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    head = f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: {cte}\r\n'
    return head.encode("ascii"), body


def build_email(
    rendered: RenderedEmail,
    *,
    sender: str,
    recipient: str,
    message_id: str,
    list_id: str,
    unsubscribe_url: str,
    unsubscribe_mailto: str | None = None,
    reply_to: str | None = None,
    headers: Mapping[str, str] | None = None,
    date: datetime | None = None,
) -> bytes:
    """The message's RFC 5322 bytes, ready for DKIM signing and SMTP.

    Parameters
    ----------
    rendered
        Subject, HTML and text from :func:`~streamwise.downstream.render.render`.
    sender, recipient
        ``From`` and ``To``: ``addr@domain`` or ``Display Name <addr@domain>``.
    message_id
        From :func:`message_id`, with its angle brackets.
    list_id
        The list's identifier (RFC 2919), e.g. ``spring-news.example.com`` or
        ``Spring news <spring-news.example.com>``.
    unsubscribe_url
        The one-click unsubscribe URL (RFC 8058 §3.1: HTTPS, answers a POST with
        ``List-Unsubscribe=One-Click``). It goes into ``List-Unsubscribe`` with
        ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``.
    unsubscribe_mailto
        An optional ``mailto:`` alternative (RFC 2369) for clients without one-click.
    reply_to
        ``Reply-To`` address.
    headers
        Further header fields (``Feedback-ID``, ``X-Campaign``, ...).
    date
        ``Date``; now (UTC) by default.
    """
    if not unsubscribe_url.lower().startswith("https://"):
        raise DataError(
            f"the unsubscribe URL {unsubscribe_url!r} is not HTTPS; RFC 8058 one-click "
            "unsubscribe needs an https:// URL (set the tracking base URL to https)",
            column="unsubscribe_url",
        )
    if not (message_id.startswith("<") and message_id.endswith(">") and "@" in message_id):
        raise DataError(f"{message_id!r} is not a Message-ID; build one with message_id()")
    unsub = f"<{_check('List-Unsubscribe', unsubscribe_url)}>"
    if unsubscribe_mailto:
        mailto = unsubscribe_mailto
        mailto = mailto if mailto.lower().startswith("mailto:") else f"mailto:{mailto}"
        unsub += f",{_CRLF} <{_check('List-Unsubscribe', mailto)}>"
    lid = list_id.strip() if "<" in list_id else f"<{list_id.strip()}>"
    when = format_datetime((date or datetime.now(UTC)).astimezone(UTC))
    out = [
        _header("From", format_address(sender)),
        _header("To", format_address(recipient)),
        _header("Subject", rendered.subject),
        f"Date: {when}{_CRLF}",
        f"Message-ID: {_check('Message-ID', message_id)}{_CRLF}",
        "MIME-Version: 1.0\r\n",
        _header("List-Id", lid),
        f"List-Unsubscribe: {unsub}{_CRLF}",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
    ]
    if reply_to:
        out.append(_header("Reply-To", format_address(reply_to)))
    for name, value in (headers or {}).items():
        if not _HEADER_NAME.fullmatch(name):
            raise DataError(f"{name!r} is not a header field name; use printable ASCII, no ':'")
        out.append(_header(name, value))
    text_head, text_body = _part("plain", rendered.text)
    html_head, html_body = _part("html", rendered.html)
    seed = hashlib.sha256(message_id.encode()).hexdigest()[:24]
    boundary = f"=_sw_{seed}"
    while boundary.encode() in text_body or boundary.encode() in html_body:
        seed = hashlib.sha256(seed.encode()).hexdigest()[:24]
        boundary = f"=_sw_{seed}"
    out.append(f'Content-Type: multipart/alternative; boundary="{boundary}"{_CRLF}{_CRLF}')
    sep = f"--{boundary}\r\n".encode()
    return b"".join(
        (
            "".join(out).encode("ascii"),
            sep,
            text_head,
            b"\r\n",
            text_body,
            sep,
            html_head,
            b"\r\n",
            html_body,
            f"--{boundary}--\r\n".encode(),
        )
    )
