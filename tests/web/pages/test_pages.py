"""The dashboard through the real app: sign in, roles on every route, CSRF, the overview, the
plan with comments, users and the audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.pages import conftest as H  # noqa: N812 (importlib mode: by dotted path)

from streamwise.web.pages.accounts import allowed
from streamwise.web.pages.routes import router

#: GET routes of the dashboard, and the permission each needs
PAGES = {
    "/app": "read",
    "/app/plan": "read",
    "/app/customers": "read",
    "/app/research": "read",
    "/app/research/simulator": "read",
    "/app/competitors": "read",
    "/app/trends": "read",
    "/app/personas": "read",
    "/app/personas/0": "read",
    "/app/personas/0/evidence/0/0": "read",
    "/app/users": "users.manage",
    "/app/audit": "users.manage",
    "/app/campaigns": "read",
    "/app/campaigns/new": "campaign.edit",
    "/app/results": "read",
    "/app/results/budget": "read",
    "/app/static/progress.js": "read",
    "/app/data": "read",
    "/app/plan/versions": "read",
    "/app/plan/edit": "plan.edit",
    "/app/keys": "keys.manage",
}
#: the route behind each page above
ROUTES = {
    "/app",
    "/app/plan",
    "/app/customers",
    "/app/research",
    "/app/research/simulator",
    "/app/competitors",
    "/app/trends",
    "/app/personas",
    "/app/personas/{index}",
    "/app/personas/{index}/evidence/{claim}/{item}",
    "/app/report",
    "/app/users",
    "/app/audit",
    "/app/campaigns",
    "/app/campaigns/new",
    "/app/campaigns/{cid}",
    "/app/campaigns/{cid}/preview",
    "/app/results",
    "/app/results/budget",
    "/app/jobs/{job_id}",
    "/app/static/{name}",
    "/app/data",
    "/app/plan/versions",
    "/app/plan/edit",
    "/app/keys",
}


def test_every_page_route_is_listed_here() -> None:
    """New routes must be added to PAGES so that the checks below cover them."""
    gets = {r.path for r in router.routes if "GET" in getattr(r, "methods", set())}
    assert gets - {"/login"} == ROUTES


@pytest.mark.parametrize("path", sorted(PAGES))
def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


@pytest.mark.parametrize("path", ["/app/plan/comments", "/app/users", "/logout"])
def test_anonymous_posts_are_refused(client: TestClient, path: str) -> None:
    response = client.post(path, data={"item": "plan", "body": "hi"}, headers={"accept": "*/*"})
    assert response.status_code in (303, 401)
    assert "sw_session" not in response.headers.get("set-cookie", "")


def test_sign_in_sets_a_safe_cookie_and_goes_where_asked(client: TestClient) -> None:
    token = H.login_form_token(client)
    response = client.post(
        "/login",
        data={"username": "sales", "password": H.PASSWORD, "csrf_token": token,
              "next": "/app/plan"},
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == "/app/plan"
    cookie = response.headers["set-cookie"].lower()
    assert "sw_session=" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil"])
def test_no_open_redirect(client: TestClient, target: str) -> None:
    token = H.login_form_token(client)
    response = client.post(
        "/login",
        data={"username": "sales", "password": H.PASSWORD, "csrf_token": token, "next": target},
    )
    assert response.headers["location"] == "/app"


def test_wrong_password_and_stale_form_are_refused(client: TestClient) -> None:
    wrong = H.sign_in(client, "sales", "not the password")
    assert wrong.status_code == 401
    assert "do not match" in wrong.text
    assert "sw_session" not in wrong.headers.get("set-cookie", "")
    stale = client.post(
        "/login", data={"username": "sales", "password": H.PASSWORD, "csrf_token": "forged"}
    )
    assert stale.status_code == 401
    assert "expired" in stale.text


@pytest.mark.parametrize("role", ["product", "sales", "marketing", "admin"])
def test_each_role_sees_the_pages_it_may(client: TestClient, role: str) -> None:
    assert H.sign_in(client, role).status_code == 303
    for path, permission in PAGES.items():
        response = client.get(path)
        may = allowed(role, permission)
        assert response.status_code == (200 if may else 403), (role, path)
        if not may:
            assert "may not do this" in response.text
    overview = client.get("/app").text
    assert ('href="/app/users"' in overview) == (role == "admin")  # the menu shows what you may use


def test_pages_send_security_headers(client: TestClient) -> None:
    H.sign_in(client, "sales")
    response = client.get("/app")
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"


def test_overview_shows_plan_kpis_and_what_changed(client: TestClient) -> None:
    H.sign_in(client, "product")
    text = client.get("/app").text
    assert "Overview" in text
    assert "version 2" in text
    assert "Repeat purchase rate" in text
    assert "NPS" in text
    assert "not measured yet" in text
    assert "1 change(s) from version 1 to 2" in text
    assert "summary" in text


def test_comments_need_csrf_and_are_escaped(client: TestClient) -> None:
    H.sign_in(client, "sales")
    forged = client.post("/app/plan/comments", data={"item": "plan", "body": "hello"})
    assert forged.status_code == 403
    assert "out of date" in forged.text
    csrf = H.csrf_of(client, "/app/plan")
    body = "Can we <script>alert(1)</script> target Gift Shoppers too?"
    ok = client.post("/app/plan/comments", data={"item": "kpi:kpi-nps", "body": body,
                                                 "csrf_token": csrf})  # fmt: skip
    assert ok.status_code == 303
    page = client.get("/app/plan").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    unknown = client.post("/app/plan/comments", data={"item": "goal:nope", "body": "x",
                                                      "csrf_token": csrf})  # fmt: skip
    assert unknown.status_code == 403


def test_only_admins_add_users_and_it_is_audited(client: TestClient) -> None:
    H.sign_in(client, "marketing")
    csrf = H.csrf_of(client)
    refused = client.post("/app/users", data={"username": "eve", "password": "x" * 12,
                                              "role": "admin", "csrf_token": csrf})  # fmt: skip
    assert refused.status_code == 403
    client.cookies.clear()
    H.sign_in(client, "admin")
    csrf = H.csrf_of(client)
    bad = client.post("/app/users", data={"username": "eve", "password": "short",
                                          "role": "sales", "csrf_token": csrf})  # fmt: skip
    assert bad.status_code == 422
    assert "too short" in bad.text
    added = client.post("/app/users", data={"username": "eve", "password": "x" * 12,
                                            "role": "sales", "csrf_token": csrf})  # fmt: skip
    assert added.status_code == 303
    assert "eve" in client.get("/app/users").text
    audit = client.get("/app/audit").text
    assert "user.create" in audit
    assert "eve" in audit
    assert "login" in audit


def test_sign_out_ends_the_session(client: TestClient) -> None:
    H.sign_in(client, "sales")
    session = client.cookies.get("sw_session")
    csrf = H.csrf_of(client)
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    client.cookies.set("sw_session", session or "")
    assert client.get("/app").status_code == 303  # the old cookie opens nothing


def test_persona_evidence_is_followed_to_the_rows(client: TestClient, team_workspace: Any) -> None:
    import duckdb

    H.sign_in(client, "sales")
    cards = client.get("/app/personas").text
    assert 'href="/app/personas/0"' in cards
    card = client.get("/app/personas/0").text
    link = "/app/personas/0/evidence/1/0"  # claim 1 rests on customer_clv · clv
    assert f'href="{link}"' in card
    missing = client.get(link).text
    assert "table customer_clv is not in the workspace now" in missing
    segment = H._make_plan().personas[0].segment
    path = str(team_workspace.analytics_path)
    with duckdb.connect(path) as con:
        con.execute("CREATE TABLE customer_clv (segment VARCHAR, clv DOUBLE)")
        con.execute("INSERT INTO customer_clv VALUES (?, 500.0), ('Other', 1.0)", [segment])
    holds = client.get(link).text
    assert "the claim holds" in holds
    assert "Other" not in holds  # only the rows the key selects
    with duckdb.connect(path) as con:
        con.execute("UPDATE customer_clv SET clv = 450.0 WHERE segment = ?", [segment])
    moved = client.get(link).text
    assert "The data now say 450.0, not 500.0" in moved
    assert client.get("/app/personas/99").status_code == 404
    assert client.get("/app/personas/0/evidence/1/7").status_code == 404


def test_the_report_is_served_once_written(client: TestClient, team_workspace: Any) -> None:
    H.sign_in(client, "sales")
    missing = client.get("/app/report")
    assert missing.status_code == 404
    assert "streamwise report" in missing.text
    html = "<!DOCTYPE html><html><body><h1>Upstream, plan and results</h1></body></html>"
    (team_workspace.root / "report.html").write_text(html)
    served = client.get("/app/report")
    assert served.status_code == 200
    assert served.text == html
    assert served.headers["content-security-policy"].startswith("default-src 'none'")


def test_upstream_pages_say_what_to_run_and_follow_the_data(
    client: TestClient, team_workspace: Any
) -> None:
    H.sign_in(client, "product")
    empty = client.get("/app/customers").text
    assert "streamwise customers" in empty  # the hint names the command that makes the tables
    import duckdb

    with duckdb.connect(str(team_workspace.analytics_path)) as con:
        con.execute("CREATE TABLE customer_rfm AS SELECT 'c1' AS customer_id, 'Champions' AS "
                    "segment, 5 AS r, 5 AS f, 5 AS m")  # fmt: skip
        con.execute("CREATE TABLE customer_clv AS SELECT 'c1' AS customer_id, 123.0 AS clv, "
                    "0.9 AS probability_alive")  # fmt: skip
    # the page is rendered again once the analytics file changed
    after = client.get("/app/customers").text
    assert "Champions" in after
    assert "Champions" not in empty


def test_upstream_pages_read_the_analytics_file_read_only(tmp_path: Path) -> None:
    """A server process that does not hold the analytics file reads it read-only, and lets go:
    a command-line run can open it for writing right after."""
    import duckdb

    from streamwise.web.app import create_app
    from streamwise.workspace import Workspace

    made = H._workspace(tmp_path / "ws")
    path = made.analytics_path
    made.close()
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE customer_rfm AS SELECT 'c1' AS customer_id, 'Loyal' AS segment")
        con.execute("CREATE TABLE customer_clv AS SELECT 'c1' AS customer_id, 7.0 AS clv, "
                    "0.5 AS probability_alive")  # fmt: skip
    ws = Workspace.open(tmp_path / "ws")
    try:
        with TestClient(create_app(ws), follow_redirects=False) as c:
            H.sign_in(c, "sales")
            assert "Loyal" in c.get("/app/customers").text
            assert not ws.analytics_open
            with duckdb.connect(str(path)) as writer:  # nothing holds the file any more
                writer.execute("CREATE TABLE later (x INTEGER)")
    finally:
        ws.close()


def test_admin_creates_and_revokes_an_api_key_that_then_stops_working(client: TestClient) -> None:
    H.sign_in(client, "admin")
    token = H.csrf_of(client, "/app/keys")
    created = client.post("/app/keys", data={"csrf_token": token, "name": "collector",
                                             "scope": "read"})  # fmt: skip
    assert created.status_code == 200
    marker = 'id="new-key" value="'
    key = created.text[created.text.index(marker) + len(marker) :].split('"', 1)[0]
    assert key.startswith("sw_")
    bearer = {"Authorization": f"Bearer {key}"}
    assert client.get("/campaigns", headers=bearer).status_code == 200  # the key works
    assert key not in client.get("/app/keys").text  # shown once only
    prefix = key.split("_")[1]
    revoked = client.post("/app/keys/revoke", data={"csrf_token": token, "prefix": prefix})
    assert "revoked" in revoked.text
    assert client.get("/campaigns", headers=bearer).status_code == 401
    log = client.get("/app/audit").text
    assert "key.create" in log
    assert "key.revoke" in log


def test_only_admin_manages_keys(client: TestClient) -> None:
    H.sign_in(client, "marketing")
    token = H.csrf_of(client)
    refused = client.post("/app/keys", data={"csrf_token": token, "name": "x", "scope": "admin"})
    assert refused.status_code == 403
