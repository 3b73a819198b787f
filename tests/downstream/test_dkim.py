"""DKIM signatures verified independently with dkimpy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import dkim
import pytest

from streamwise.downstream.dkim import DkimSigner, generate_key
from streamwise.downstream.message import build_email, message_id
from streamwise.downstream.render import RenderedEmail
from streamwise.errors import ConfigError


@pytest.fixture(scope="module")
def keys() -> tuple[bytes, str]:
    return generate_key()


@pytest.fixture(scope="module")
def signer(keys: tuple[bytes, str]) -> DkimSigner:
    return DkimSigner("s2026", "example.com", keys[0])


def dns_for(txt: str) -> Callable[..., bytes]:
    def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"s2026._domainkey.example.com."
        return txt.encode()

    return dnsfunc


def message(subject: str = "Hello Jane", html: str = "<p>Hi</p>", text: str = "Hi\n") -> bytes:
    return build_email(
        RenderedEmail(subject, html, text), sender="Shop <news@example.com>",
        recipient="Jane <jane@example.org>", message_id=message_id("c1", "r1", "example.com"),
        list_id="Spring news <spring.example.com>", unsubscribe_url="https://t.example.com/u/TOK",
        unsubscribe_mailto="unsub@example.com", date=datetime(2026, 11, 23, tzinfo=UTC),
    )  # fmt: skip


def test_txt_record(keys: tuple[bytes, str], signer: DkimSigner) -> None:
    assert keys[1].startswith("v=DKIM1; k=rsa; p=MIIB")
    assert signer.txt_record == keys[1]
    assert "BEGIN" not in repr(signer)


def test_signature_verifies_and_signs_unsubscribe_headers(
    signer: DkimSigner, keys: tuple[bytes, str]
) -> None:
    signed = signer.sign(message())
    assert dkim.verify(signed, dnsfunc=dns_for(keys[1]))
    head = signed.split(b"\r\n\r\n")[0].decode()
    h = head.split("h=")[1].split(";")[0].replace("\r\n\t", "").lower().split(":")
    for name in ("from", "to", "subject", "date", "message-id", "mime-version", "content-type",
                 "list-unsubscribe", "list-unsubscribe-post", "list-id"):  # fmt: skip
        assert name in h
    assert "a=rsa-sha256" in head
    assert "c=relaxed/relaxed" in head


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"<https://t.example.com/u/TOK>", b"<https://evil.example.com/u/TOK>"),
        (b"List-Unsubscribe=One-Click", b"List-Unsubscribe=One-Clack"),
        (b"Subject: Hello Jane", b"Subject: Hello Joan"),
        (b"<p>Hi</p>", b"<p>Ho</p>"),
    ],
)
def test_tampering_breaks_the_signature(
    signer: DkimSigner, keys: tuple[bytes, str], old: bytes, new: bytes
) -> None:
    signed = signer.sign(message())
    assert old in signed
    assert not dkim.verify(signed.replace(old, new), dnsfunc=dns_for(keys[1]))


def test_added_unsubscribe_header_breaks_the_signature(
    signer: DkimSigner, keys: tuple[bytes, str]
) -> None:
    signed = signer.sign(message())
    extra = b"List-Unsubscribe: <https://evil.example.com/>\r\n"
    at = signed.index(b"\r\n\r\n") + 2
    assert not dkim.verify(signed[:at] + extra + signed[at:], dnsfunc=dns_for(keys[1]))


def test_non_ascii_folding_and_line_endings(signer: DkimSigner, keys: tuple[bytes, str]) -> None:
    subject = "Grüße aus München — " + "ein sehr langer Betreff, der gefaltet wird " * 3
    html = "<p>Ünïcödé   with   spaces   </p>\n\n\n" + "<p>" + "x" * 3000 + "</p>\n\n"
    text = "日本語のテキスト。\t tab \n" * 30 + "\n\n\n"
    raw = message(subject, html, text)
    dns = dns_for(keys[1])
    assert dkim.verify(signer.sign(raw), dnsfunc=dns)
    # bare LF input is signed as the CRLF message that goes on the wire
    lf = signer.sign(raw.replace(b"\r\n", b"\n"))
    assert b"\n" not in lf.replace(b"\r\n", b"")
    assert dkim.verify(lf, dnsfunc=dns)
    # relaxed body canonicalisation: trailing blanks and empty lines do not matter
    signed = signer.sign(raw)
    relaxed = signed.replace(b"</p>\r\n", b"</p>  \r\n") + b"\r\n\r\n"
    assert dkim.verify(relaxed, dnsfunc=dns)


def test_bad_keys_and_header_lists(keys: tuple[bytes, str]) -> None:
    with pytest.raises(ConfigError, match="PEM"):
        DkimSigner("s", "example.com", b"not a key")
    with pytest.raises(ConfigError, match="List-Unsubscribe-Post"):
        DkimSigner("s", "example.com", keys[0], headers=("From", "List-Unsubscribe"))
