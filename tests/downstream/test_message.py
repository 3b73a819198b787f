"""RFC 5322 message bytes: headers for one-click unsubscribe, MIME parts, message ids."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy

import pytest

from streamwise.downstream.message import build_email, format_address, message_id
from streamwise.downstream.render import RenderedEmail
from streamwise.errors import DataError

UNSUB = "https://t.example.com/u/TOKEN"


def build(rendered: RenderedEmail | None = None, **kw: object) -> bytes:
    args: dict[str, object] = {
        "sender": "Streamwise Outdoor <news@example.com>",
        "recipient": "Jane Doe <jane@example.org>",
        "message_id": message_id("spring", "c42", "example.com"),
        "list_id": "spring.example.com",
        "unsubscribe_url": UNSUB,
        "date": datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
    }
    args.update(kw)
    rendered = rendered or RenderedEmail("Hello Jane", "<p>Hello <b>Jane</b></p>", "Hello Jane\n")
    return build_email(rendered, **args)  # type: ignore[arg-type]


def test_message_id_is_deterministic() -> None:
    a = message_id("spring", "c42", "example.com")
    assert a == message_id("spring", "c42", "example.com")
    assert a.startswith("<")
    assert a.endswith(".spring@example.com>")
    assert a != message_id("spring", "c43", "example.com")
    assert a != message_id("spring", "c42", "example.com", attempt_key="resend-1")
    assert "@" in message_id("spring sale / 2026", "c42", "example.com")
    with pytest.raises(DataError, match="domain"):
        message_id("c", "r", "not a domain")


def test_headers_are_present_and_parse() -> None:
    raw = build(unsubscribe_mailto="unsubscribe@example.com", reply_to="help@example.com",
                headers={"Feedback-ID": "spring:streamwise"})  # fmt: skip
    assert b"\n" not in raw.replace(b"\r\n", b"")
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["From"] == "Streamwise Outdoor <news@example.com>"
    assert msg["To"] == "Jane Doe <jane@example.org>"
    assert msg["Subject"] == "Hello Jane"
    assert msg["Message-ID"] == message_id("spring", "c42", "example.com")
    assert msg["MIME-Version"] == "1.0"
    assert msg["Date"].datetime == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert msg["List-Id"] == "<spring.example.com>"
    assert msg["List-Unsubscribe"] == f"<{UNSUB}>, <mailto:unsubscribe@example.com>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Reply-To"] == "help@example.com"
    assert msg["Feedback-ID"] == "spring:streamwise"
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert parts[0].get_content().rstrip("\n") == "Hello Jane"
    assert parts[1].get_content().rstrip("\n") == "<p>Hello <b>Jane</b></p>"
    assert all(p.get_content_charset() == "utf-8" for p in parts)


def test_non_ascii_and_long_lines() -> None:
    subject = ("Grüße aus München — " + "ein sehr langer Betreff " * 4).strip()
    html = "<p>" + "a naïve remark on the weather " * 100 + "</p>\n<p>end</p>"
    text = "日本語のテキスト。" * 40
    raw = build(RenderedEmail(subject, html, text), sender="Jörg Müller <news@example.com>",
                recipient="jane@exämple.org")  # fmt: skip
    assert raw.isascii()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    head = raw.split(b"\r\n\r\n")[0]
    assert all(len(line) <= 78 for line in head.split(b"\r\n") if b"List-Unsub" not in line)
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"] == subject
    assert msg["From"].addresses[0].display_name == "Jörg Müller"
    assert msg["To"] == "jane@xn--exmple-cua.org"
    plain, rich = msg.iter_parts()
    assert plain["Content-Transfer-Encoding"] == "base64"
    assert plain.get_content() == text
    assert rich["Content-Transfer-Encoding"] == "quoted-printable"
    assert rich.get_content().replace("\r\n", "\n") == html  # canonical text has CRLF


def test_refusals() -> None:
    with pytest.raises(DataError, match="HTTPS"):
        build(unsubscribe_url="http://t.example.com/u/x")
    with pytest.raises(DataError, match="line break"):
        build(RenderedEmail("Hi\r\nBcc: evil@example.com", "<p>x</p>", "x"))
    with pytest.raises(DataError, match="line break"):
        build(headers={"X-Note": "a\nb"})
    with pytest.raises(DataError, match="header field name"):
        build(headers={"Bad Name": "x"})
    with pytest.raises(DataError, match="Message-ID"):
        build(message_id="abc")
    with pytest.raises(DataError, match="e-mail address"):
        format_address("nobody")
