"""Signed tracking tokens: round trip, tampering, kind, expiry, key rotation, link rewriting."""

from __future__ import annotations

import pytest

from streamwise.downstream.tracking import (
    InvalidToken,
    add_open_pixel,
    open_pixel,
    rewrite_links,
    sign_token,
    tracking_url,
    verify_token,
)
from streamwise.errors import ConfigError, DataError

SECRET = "s3cret-for-tests-only-0123456789"
NOW = 1_800_000_000


def click(**kw: object) -> str:
    fields = {"kind": "click", "campaign_id": "spring", "recipient_id": "c42", "variant": "B",
                  "url": "https://shop.example.com/tents?a=1&b=2", "issued_at": NOW}  # fmt: skip
    fields.update(kw)
    return sign_token(SECRET, **fields)  # type: ignore[arg-type]


def test_round_trip_is_url_safe() -> None:
    token = click()
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    data = verify_token(SECRET, token, kind="click", now=NOW + 10)
    assert (data.kind, data.campaign_id, data.recipient_id, data.variant) == (
        "click", "spring", "c42", "B",
    )  # fmt: skip
    assert data.url == "https://shop.example.com/tents?a=1&b=2"
    assert data.issued_at == NOW
    assert data.expires_at > NOW


def test_open_and_unsubscribe_tokens() -> None:
    for kind in ("open", "unsubscribe"):
        token = sign_token(SECRET, kind=kind, campaign_id="c", recipient_id="r", issued_at=NOW)
        data = verify_token(SECRET, token, kind=kind, now=NOW)
        assert data.kind == kind
        assert data.url is None
        assert data.variant is None


def test_tampered_payload_and_signature_are_refused() -> None:
    token = click()
    payload, sig = token.split(".")
    other = click(recipient_id="c43").split(".")[0]
    with pytest.raises(InvalidToken) as err:
        verify_token(SECRET, f"{other}.{sig}", kind="click", now=NOW)
    assert err.value.reason == "signature"
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    with pytest.raises(InvalidToken):
        verify_token(SECRET, f"{payload}.{flipped}", kind="click", now=NOW)
    with pytest.raises(InvalidToken) as err:
        verify_token(SECRET, "not-a-token", kind="click", now=NOW)
    assert err.value.reason == "malformed"
    for odd in (f"é{payload}.{sig}", f"{payload}.{sig}€"):  # non-ASCII: refused, not a crash
        with pytest.raises(InvalidToken) as err:
            verify_token(SECRET, odd, kind="click", now=NOW)
        assert err.value.reason == "malformed"
    with pytest.raises(InvalidToken):
        verify_token("another-secret", token, kind="click", now=NOW)


def test_wrong_kind_and_expiry_are_refused() -> None:
    token = click(ttl=60)
    with pytest.raises(InvalidToken, match="matching endpoint") as err:
        verify_token(SECRET, token, kind="unsubscribe", now=NOW)
    assert err.value.reason == "kind"
    with pytest.raises(InvalidToken, match="expired") as err:
        verify_token(SECRET, token, kind="click", now=NOW + 60)
    assert err.value.reason == "expired"
    assert isinstance(err.value, DataError)


def test_key_rotation_first_signs_all_verify() -> None:
    old = sign_token("old-secret", kind="open", campaign_id="c", recipient_id="r", issued_at=NOW)
    new = sign_token(["new-secret", "old-secret"], kind="open", campaign_id="c", recipient_id="r",
                     issued_at=NOW)  # fmt: skip
    for token in (old, new):
        verify_token(["new-secret", "old-secret"], token, kind="open", now=NOW)
    verify_token("new-secret", new, kind="open", now=NOW)
    with pytest.raises(InvalidToken):
        verify_token("new-secret", old, kind="open", now=NOW)


def test_bad_inputs() -> None:
    with pytest.raises(DataError, match="url"):
        sign_token(SECRET, kind="click", campaign_id="c", recipient_id="r")
    with pytest.raises(DataError, match="javascript"):
        sign_token(SECRET, kind="click", campaign_id="c", recipient_id="r", url="javascript:x")
    with pytest.raises(DataError, match="only click"):
        sign_token(SECRET, kind="open", campaign_id="c", recipient_id="r", url="https://x.y")
    with pytest.raises(ConfigError):
        sign_token("", kind="open", campaign_id="c", recipient_id="r")


def test_rewrite_links_only_tracks_http_links() -> None:
    html = (
        '<a href="https://shop.example.com/?a=1&amp;b=2" class="x">Shop</a>'
        "<a href='http://example.org/p'>P</a>"
        '<a href="mailto:hi@example.com">Mail</a><a href="#top">Top</a>'
        '<a href="https://t.example.com/u/TOKEN">Unsubscribe</a>'
        '<a data-notrack href="https://example.com/legal">Legal</a>'
        '<link href="https://example.com/style.css">'
    )
    seen: list[str] = []

    def make(url: str) -> str:
        seen.append(url)
        return tracking_url("https://t.example.com/c/", f"tok{len(seen)}")

    out = rewrite_links(html, make, skip={"https://t.example.com/u/TOKEN"})
    assert seen == ["https://shop.example.com/?a=1&b=2", "http://example.org/p"]
    assert '<a href="https://t.example.com/c/tok1" class="x">Shop</a>' in out
    assert 'href="https://t.example.com/c/tok2"' in out
    for kept in ("mailto:hi@example.com", "#top", "https://t.example.com/u/TOKEN",
                 "https://example.com/legal", "https://example.com/style.css"):  # fmt: skip
        assert f'href="{kept}"' in out


def test_open_pixel() -> None:
    pixel = open_pixel("https://t.example.com/o", "abc.def")
    assert 'src="https://t.example.com/o/abc.def"' in pixel
    assert 'width="1"' in pixel
    assert add_open_pixel("<html><body><p>x</p></body></html>", pixel).endswith(
        pixel + "</body></html>"
    )
    assert add_open_pixel("<p>x</p>", pixel) == "<p>x</p>" + pixel
