"""Keys, scopes, rate limits, body size limits, CORS and the OpenAPI security declarations."""

from __future__ import annotations

import base64
from collections.abc import Iterator

from streamwise.web.auth import create_key, list_keys, revoke_key


def test_missing_wrong_or_malformed_keys_are_401(api) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer sw_abcdefgh_not-the-key"},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": "Token " + api.keys["admin"]},
        {"Authorization": "Basic !!!not-base64"},
    ):
        r = api.client.get("/campaigns", headers=headers)
        assert r.status_code == 401, headers
        assert r.headers["www-authenticate"] == 'Bearer realm="streamwise"'
        assert r.headers["content-type"] == "application/problem+json"
    tampered = api.keys["admin"][:-2] + ("aa" if not api.keys["admin"].endswith("aa") else "bb")
    assert (
        api.client.get("/campaigns", headers={"Authorization": f"Bearer {tampered}"}).status_code
        == 401
    )


def test_the_key_as_basic_user_name_works(api) -> None:
    basic = base64.b64encode(f"{api.keys['read']}:".encode()).decode()
    r = api.client.get("/campaigns", headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200


def test_a_revoked_key_is_refused(api) -> None:
    engine = api.workspace.operational()
    _, key = create_key(engine, "leaving", "admin")
    revoke_key(engine, key)
    r = api.client.get("/campaigns", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 401
    assert all(row.key_hash != key and key not in row.key_hash for row in list_keys(engine))


def test_scopes(api) -> None:
    assert api.get("/campaigns", scope="read").status_code == 200
    assert api.get("/campaigns", scope="admin").status_code == 200  # admin includes read
    r = api.get("/campaigns", scope="ingest")
    assert r.status_code == 403
    assert "needs 'read'" in r.json()["detail"]
    assert api.get("/suppressions", scope="read").status_code == 403


def test_rate_limit_answers_429_with_retry_after(api) -> None:
    engine = api.workspace.operational()
    _, key = create_key(engine, "slow", "read", rate_limit=1)
    headers = {"Authorization": f"Bearer {key}"}
    assert api.client.get("/campaigns", headers=headers).status_code == 200
    r = api.client.get("/campaigns", headers=headers)
    assert r.status_code == 429
    assert r.headers["retry-after"] == "1"
    assert r.json()["type"].endswith("/too-many-requests")
    assert api.get("/campaigns", scope="read").status_code == 200  # other keys are not limited


def test_a_key_slower_than_one_request_a_second_still_gets_its_request(api) -> None:
    _, key = create_key(api.workspace.operational(), "trickle", "read", rate_limit=0.25)
    headers = {"Authorization": f"Bearer {key}"}
    assert api.client.get("/campaigns", headers=headers).status_code == 200
    r = api.client.get("/campaigns", headers=headers)
    assert r.status_code == 429
    assert 3 <= int(r.headers["retry-after"]) <= 5


def test_the_server_default_rate_limit_applies_to_keys_without_their_own(make_api) -> None:
    api = make_api(rate_limit=2)
    codes = [api.get("/campaigns", scope="read").status_code for _ in range(4)]
    assert codes[:2] == [200, 200]
    assert 429 in codes[2:]


def test_bodies_over_the_limit_are_413(make_api) -> None:
    api = make_api(max_body_bytes=2048)
    big = {"filter": 'segment = "' + "x" * 4000 + '"'}
    r = api.post("/audiences/preview", scope="read", json=big)
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"
    assert "max_body_bytes" in r.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: refused while it streams in
        yield b'{"filter": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}'

    streamed = api.client.post(
        "/audiences/preview", content=chunks(),
        headers={**api.headers("read"), "Content-Type": "application/json"},
    )  # fmt: skip
    assert streamed.status_code == 413
    small = api.post("/audiences/preview", scope="read", json={"filter": "clv > 1"})
    assert small.status_code == 200


def test_cors_allows_only_configured_origins(make_api) -> None:
    api = make_api(cors_origins=["https://app.example"])
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type"}  # fmt: skip
    ok = api.client.options("/campaigns", headers={"Origin": "https://app.example", **preflight})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://app.example"
    assert "authorization" in ok.headers["access-control-allow-headers"].lower()
    evil = api.client.options("/campaigns", headers={"Origin": "https://evil.example", **preflight})
    assert evil.status_code == 400
    assert "access-control-allow-origin" not in evil.headers
    simple = api.get("/campaigns", scope="read", headers={"Origin": "https://app.example"})
    assert simple.headers["access-control-allow-origin"] == "https://app.example"
    other = api.get("/campaigns", scope="read", headers={"Origin": "https://evil.example"})
    assert other.status_code == 200
    assert "access-control-allow-origin" not in other.headers
    refused = api.get("/campaigns", scope=None, headers={"Origin": "https://app.example"})
    assert refused.status_code == 401  # the problem is readable by the allowed page
    assert refused.headers["access-control-allow-origin"] == "https://app.example"


def test_no_cors_headers_without_configured_origins(api) -> None:
    r = api.get("/campaigns", scope="read", headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in r.headers
    headers = {"Origin": "https://app.example", "Access-Control-Request-Method": "GET"}
    pre = api.client.options("/campaigns", headers=headers)
    assert "access-control-allow-origin" not in pre.headers


def test_openapi_declares_bearer_security_on_protected_routes(api) -> None:
    doc = api.client.get("/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["HTTPBearer"] == {
        "type": "http", "scheme": "bearer", "description": schemes["HTTPBearer"]["description"],
    }  # fmt: skip
    protected = [p for p in doc["paths"] if p.startswith(("/campaigns", "/plans", "/audiences",
                                                          "/suppressions", "/v1/"))]  # fmt: skip
    assert len(protected) >= 12
    for path in protected:
        for method, op in doc["paths"][path].items():
            assert op.get("security") == [{"HTTPBearer": []}], (method, path)
            if not path.startswith("/v1/"):
                assert "application/problem+json" in op["responses"]["401"]["content"], path
    assert "security" not in doc["paths"]["/healthz"]["get"]
    assert "429" in doc["paths"]["/campaigns"]["get"]["responses"]
    assert "Retry-After" in doc["paths"]["/campaigns"]["get"]["responses"]["429"]["headers"]
    assert "413" in doc["paths"]["/campaigns"]["post"]["responses"]
