"""The request log: method, route template, status and duration; never keys, tokens, query
strings, e-mail addresses or bodies."""

from __future__ import annotations

import logging

import pytest

from streamwise.downstream.tracking import sign_token
from streamwise.web.logging import ACCESS_LOGGER

EMAIL = "jane.doe@example.com"


def _lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == ACCESS_LOGGER]


def test_requests_are_logged_by_route_template_without_secrets(api, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    secret = api.workspace.settings.secret_key.get_secret_value()
    token = sign_token(secret, kind="click", campaign_id="1", recipient_id="C00000002",
                       variant="A", url="https://shop.example/boots")  # fmt: skip
    key = api.keys["admin"]
    api.client.get(f"/c/{token}?email={EMAIL}", headers={"Authorization": f"Bearer {key}"},
                   follow_redirects=False)  # fmt: skip
    api.get(f"/campaigns/1?email={EMAIL}&api_key={key}")
    api.post("/audiences/preview", json={"filter": f'email = "{EMAIL}"'})
    api.get(f"/plans/{EMAIL}")  # a 404 whose path holds the address
    api.get(f"/nowhere/{token}")  # no route at all
    api.client.get("/campaigns", headers={"Authorization": f"Bearer {key}x"})  # a wrong key

    records = _lines(caplog)
    assert len(records) == 6
    assert "?" not in "\n".join(r.getMessage() for r in records)
    # Nothing the server logged, at any level, holds them (the test client's own httpx lines,
    # which show the URL it requested, are not the server's).
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    text = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in server)
    for secret_part in (key, key[:20], token, token[:16], EMAIL, "jane", "example.com"):
        assert secret_part not in text, secret_part
    messages = [r.getMessage().rsplit(" ", 1)[0] for r in records]  # without the duration
    assert messages[1:] == [
        "GET /campaigns/{campaign_id} 200",
        "POST /audiences/preview 200",
        "GET /plans/{name} 404",
        "GET (no route) 404",
        "GET /campaigns 401",
    ]
    assert messages[0].startswith("GET /c/{token} ")
    record = records[1]
    assert record.route == "/campaigns/{campaign_id}"  # structured fields for JSON log handlers
    assert record.status == 200
    assert record.method == "GET"
    assert record.duration_ms >= 0


def test_refusals_by_the_middleware_are_logged_too(make_api, caplog) -> None:
    api = make_api(max_body_bytes=1024)
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    r = api.post("/audiences/preview", json={"filter": EMAIL * 100})
    assert r.status_code == 413
    [record] = _lines(caplog)
    assert record.getMessage().startswith("POST (no route) 413 ")  # refused before routing
    assert EMAIL not in record.getMessage()
