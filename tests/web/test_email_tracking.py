"""The e-mail tracking endpoints through the real app: the open pixel, click redirects (no open
redirect, ever), the unsubscribe page and RFC 8058 one-click unsubscribe; tampered, expired and
misplaced tokens; machine requests; and a campaign sent to a real SMTP server end to end."""

from __future__ import annotations

import base64
import email
import json
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import schemathesis
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance
from sqlalchemy import insert, select

from streamwise.downstream.audiences import suppressed
from streamwise.downstream.tracking import sign_token
from streamwise.downstream.tracking.bots import BotSettings
from streamwise.downstream.tracking.privacy import Scrubber
from streamwise.downstream.tracking.results import campaign_results
from streamwise.store import Campaign, CampaignSend, Engagement, make_engine
from streamwise.web.api.email import PIXEL
from streamwise.web.app import create_app
from streamwise.workspace import Workspace

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
SHOP = "https://shop.example/tents?utm_source=newsletter&utm_content=A"


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    """A workspace with one sent campaign: a1, a2 (variant A) and h1 (held out)."""
    workspace = Workspace.init(tmp_path / "ws", demo=True)
    with workspace.operational().begin() as con:
        con.execute(insert(Campaign.__table__).values(
            id=1, name="spring", channel="email", state="done", audience="email_consent",
            seed="s", created_at=T0, updated_at=T0,
            settings={"sender": {"organisation": "Northwind <Outfitters>"}},
        ))  # fmt: skip
        for cid, arm in (("a1", "A"), ("a2", "A"), ("h1", "holdout")):
            con.execute(insert(CampaignSend.__table__).values(
                campaign_id=1, customer_id=cid, address=f"{cid}@example.com", arm=arm,
                message_id=f"<1.{cid}@x>", status="held_out" if arm == "holdout" else "sent",
                attempts=1, sent_at=None if arm == "holdout" else T0, detail="", context={},
            ))  # fmt: skip
    yield workspace
    workspace.close()


@pytest.fixture
def client(ws: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(ws), headers={"User-Agent": CHROME}) as c:
        yield c


def secret(ws: Workspace) -> str:
    return ws.settings.secret_key.get_secret_value()


def tok(ws: Workspace, kind: str, customer: str = "a1", **kw: object) -> str:
    kw.setdefault("url", SHOP if kind == "click" else None)
    return sign_token(secret(ws), kind=kind, campaign_id="1", recipient_id=customer,  # type: ignore[arg-type]
                      variant="A", **kw)  # type: ignore[arg-type]  # fmt: skip


def engagements(ws: Workspace, kind: str | None = None) -> list:
    e = Engagement.__table__
    query = select(e).order_by(e.c.id)
    if kind:
        query = query.where(e.c.kind == kind)
    with ws.operational().connect() as con:
        return list(con.execute(query))


def flip(text: str, at: int) -> str:
    """``text`` with the base64url character at ``at`` changed."""
    swap = "B" if text[at] != "B" else "C"
    return text[:at] + swap + text[at + 1 :]


def tampered(token: str) -> dict[str, str]:
    payload, signature = token.split(".")
    return {
        "payload": f"{flip(payload, 5)}.{signature}",
        "signature": f"{payload}.{flip(signature, 3)}",
        "truncated": token[:-4],
        "no signature": payload,
        "garbage": "not-a-token",
        "non-ascii": "é.abc",
        "non-ascii signature": f"{payload}.é",
    }


def edit_payload(token: str, **changes: object) -> str:
    """The token with its payload decoded, changed and re-encoded, signature kept."""
    payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body.update(changes)
    raw = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).rstrip(b"=")
    return f"{raw.decode()}.{signature}"


# --- open pixel -----------------------------------------------------------------------------


def test_the_pixel_records_a_human_open(ws: Workspace, client: TestClient) -> None:
    r = client.get(f"/o/{tok(ws, 'open')}")
    assert r.status_code == 200
    assert r.content == PIXEL
    assert r.content.startswith(b"GIF89a")
    assert r.headers["content-type"] == "image/gif"
    assert "no-store" in r.headers["cache-control"]
    assert r.headers["expires"] == "0"
    (row,) = engagements(ws, "open")
    assert (row.campaign_id, row.customer_id, row.variant) == (1, "a1", "A")
    assert (row.machine, row.rule, row.user_agent) == (False, None, CHROME)
    assert row.ip == "testclient"


def test_head_and_apple_prefetch_opens_are_flagged(ws: Workspace, client: TestClient) -> None:
    assert client.head(f"/o/{tok(ws, 'open')}").status_code == 200
    r = client.get(f"/o/{tok(ws, 'open', 'a2')}", headers={"User-Agent": "Mozilla/5.0"})
    assert r.content == PIXEL
    r = client.get(f"/o/{tok(ws, 'open', 'a2')}", headers={"Sec-Purpose": "prefetch"})
    assert [(x.customer_id, x.machine, x.rule) for x in engagements(ws, "open")] == [
        ("a1", True, "head_request"), ("a2", True, "apple_mpp"), ("a2", True, "prefetch"),
    ]  # fmt: skip
    results = campaign_results(ws.operational(), 1)
    assert (results.arm("A").unique_opens, results.arm("A").machine_opens) == (0, 3)


def test_the_pixel_answers_bad_tokens_but_records_nothing(
    ws: Workspace, client: TestClient
) -> None:
    bad = tampered(tok(ws, "open"))
    bad["expired"] = tok(ws, "open", issued_at=int(time.time()) - 100, ttl=10)
    bad["click token"] = tok(ws, "click")
    bad["unsubscribe token"] = tok(ws, "unsubscribe")
    bad["huge"] = "a" * 5000 + ".b"
    for name, token in bad.items():
        r = client.get(f"/o/{token}")
        assert (r.status_code, r.content) == (200, PIXEL), name
    assert engagements(ws) == []


def test_the_pixel_renders_when_the_database_is_down(ws: Workspace, client: TestClient) -> None:
    client.app.state.engine = make_engine(f"sqlite:///{ws.root / 'missing' / 'x.sqlite'}")
    r = client.get(f"/o/{tok(ws, 'open')}")
    assert (r.status_code, r.content) == (200, PIXEL)
    r = client.get(f"/c/{tok(ws, 'click')}", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (302, SHOP)  # the link still works
    r = client.post(f"/u/{tok(ws, 'unsubscribe')}", data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 503  # but an unsubscribe is never claimed when not saved
    assert r.headers["retry-after"] == "60"


def test_pii_is_scrubbed_as_configured(ws: Workspace, client: TestClient) -> None:
    scrub = Scrubber("hash", secret(ws))
    client.app.state.scrub = scrub
    client.get(f"/o/{tok(ws, 'open')}")
    (row,) = engagements(ws, "open")
    assert row.ip == scrub("testclient")
    assert row.user_agent == scrub(CHROME)


# --- clicks ---------------------------------------------------------------------------------


def test_a_click_redirects_to_the_signed_url_only(ws: Workspace, client: TestClient) -> None:
    token = tok(ws, "click")
    for query in ("", "?url=https://evil.example", "?next=//evil.example&redirect=https://evil"):
        r = client.get(f"/c/{token}{query}", follow_redirects=False)
        assert r.status_code == 302
        assert r.headers["location"] == SHOP
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["referrer-policy"] == "no-referrer"
    rows = engagements(ws, "click")
    assert [(x.url, x.machine) for x in rows] == [(SHOP, False)] * 3


def test_open_redirect_attempts_never_redirect(ws: Workspace, client: TestClient) -> None:
    token = tok(ws, "click")
    attempts = [
        f"/c/{edit_payload(token, u='https://evil.example/')}",  # payload edited: bad signature
        f"/c/{edit_payload(token, u='//evil.example')}",
        "/c/%2F%2Fevil.example",
        "/c//evil.example",
        "/c/https:%2F%2Fevil.example",
        f"/c/{token}/..%2F..%2F%2Fevil.example",
    ]
    for path in attempts:
        r = client.get(path, follow_redirects=False)
        assert r.status_code in {400, 404}, path
        assert "location" not in r.headers, path
        assert "evil.example" not in r.headers.get("location", ""), path
    assert engagements(ws) == []


def test_tampered_and_misplaced_click_tokens_are_refused(ws: Workspace, client: TestClient) -> None:
    bad = tampered(tok(ws, "click"))
    bad["open token"] = tok(ws, "open")
    bad["unsubscribe token"] = tok(ws, "unsubscribe")
    for name, token in bad.items():
        r = client.get(f"/c/{token}", follow_redirects=False)
        assert r.status_code == 400, name
        assert r.headers["content-type"].startswith("text/html")
        assert "This link is not valid" in r.text
        assert "location" not in r.headers
    assert engagements(ws) == []


def test_an_expired_click_link_says_so(ws: Workspace, client: TestClient) -> None:
    token = tok(ws, "click", issued_at=int(time.time()) - 100, ttl=10)
    r = client.get(f"/c/{token}", follow_redirects=False)
    assert r.status_code == 410
    assert "expired" in r.text
    assert "location" not in r.headers
    assert engagements(ws) == []


def test_machine_clicks_redirect_but_are_flagged(ws: Workspace, client: TestClient) -> None:
    token = tok(ws, "click")
    r = client.get(f"/c/{token}", headers={"User-Agent": "curl/8.5.0"}, follow_redirects=False)
    assert r.headers["location"] == SHOP
    r = client.head(f"/c/{token}", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (302, SHOP)
    rows = engagements(ws, "click")
    assert [(x.machine, x.rule) for x in rows] == [(True, "automation"), (True, "head_request")]


def test_non_ascii_targets_are_percent_encoded(ws: Workspace, client: TestClient) -> None:
    token = tok(ws, "click", url="https://shop.example/tënt?q=a b")
    r = client.get(f"/c/{token}", follow_redirects=False)
    assert r.headers["location"] == "https://shop.example/t%C3%ABnt?q=a%20b"


# --- unsubscribe ----------------------------------------------------------------------------

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def test_the_unsubscribe_page_changes_nothing(ws: Workspace, client: TestClient) -> None:
    r = client.get(f"/u/{tok(ws, 'unsubscribe')}")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "a***@example.com" in r.text
    assert "a1@example.com" not in r.text
    assert "Northwind &lt;Outfitters&gt;" in r.text  # escaped
    assert '<form method="post">' in r.text
    assert 'name="List-Unsubscribe" value="One-Click"' in r.text
    assert r.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert suppressed(ws.operational(), "email").empty
    assert engagements(ws) == []


def test_one_click_unsubscribe(ws: Workspace, client: TestClient) -> None:
    path = f"/u/{tok(ws, 'unsubscribe')}"
    r = client.post(path, data=ONE_CLICK, follow_redirects=False)
    assert r.status_code == 200  # no redirect (RFC 8058)
    assert "is unsubscribed" in r.text
    table = suppressed(ws.operational(), "email")
    assert (table["address"].tolist(), table["reason"].tolist()) == (
        ["a1@example.com"], ["unsubscribe"]
    )  # fmt: skip
    assert client.post(path, data=ONE_CLICK).status_code == 200  # idempotent
    assert client.post(path, files={"List-Unsubscribe": (None, "One-Click")}).status_code == 200
    assert len(suppressed(ws.operational(), "email")) == 1
    assert len(engagements(ws, "unsubscribe")) == 1
    again = client.get(path)
    assert "You are unsubscribed" in again.text
    assert "cannot be undone from this page" in again.text
    assert campaign_results(ws.operational(), 1).arm("A").unsubscribes == 1


def test_a_post_without_one_click_changes_nothing(ws: Workspace, client: TestClient) -> None:
    path = f"/u/{tok(ws, 'unsubscribe')}"
    for kwargs in ({}, {"data": {"List-Unsubscribe": "Maybe"}}, {"content": b"\xff\xfe"},
                   {"content": b"--x\r\nbroken", "headers": {"Content-Type": "multipart/form-data;"
                                                             " boundary=x"}}):  # fmt: skip
        r = client.post(path, **kwargs)  # type: ignore[arg-type]
        assert r.status_code == 400
    assert suppressed(ws.operational(), "email").empty


def test_unsubscribe_refuses_bad_tokens(ws: Workspace, client: TestClient) -> None:
    bad = tampered(tok(ws, "unsubscribe"))
    bad["click token"] = tok(ws, "click")
    bad["open token"] = tok(ws, "open")
    for name, token in bad.items():
        assert client.get(f"/u/{token}").status_code == 400, name
        assert client.post(f"/u/{token}", data=ONE_CLICK).status_code == 400, name
    expired = tok(ws, "unsubscribe", issued_at=int(time.time()) - 100, ttl=10)
    r = client.post(f"/u/{expired}", data=ONE_CLICK)
    assert (r.status_code, "expired" in r.text) == (410, True)
    unknown = tok(ws, "unsubscribe", customer="nobody")
    assert client.get(f"/u/{unknown}").status_code == 404
    assert client.post(f"/u/{unknown}", data=ONE_CLICK).status_code == 404
    assert suppressed(ws.operational(), "email").empty
    assert engagements(ws) == []


# --- the API document -----------------------------------------------------------------------


def test_openapi_documents_the_tracking_routes(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    pixel = doc["paths"]["/o/{token}"]
    assert "image/gif" in pixel["get"]["responses"]["200"]["content"]
    assert set(doc["paths"]["/c/{token}"]["get"]["responses"]) >= {"302", "400", "410"}
    post = doc["paths"]["/u/{token}"]["post"]
    assert "application/x-www-form-urlencoded" in post["requestBody"]["content"]
    assert set(post["responses"]) >= {"200", "400", "404", "410"}
    for path in ("/o/{token}", "/c/{token}", "/u/{token}"):
        for op in doc["paths"][path].values():
            assert "security" not in op  # the signed token is the credential


def test_fuzzing_the_tracking_routes_finds_no_server_error(ws: Workspace) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(ws)).include(
        path_regex=r"^/[ocu]/"
    )
    cases = st.one_of(
        schema.as_strategy(GenerationMode.POSITIVE), schema.as_strategy(GenerationMode.NEGATIVE)
    )
    seen: set[tuple[str, int]] = set()

    @given(case=cases)
    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    def call(case) -> None:  # type: ignore[no-untyped-def]
        response = case.call()
        assert response.status_code < 500, (case.method, case.path, case.body, response.text)
        seen.add((case.method, response.status_code))
        if response.status_code != 405:
            case.validate_response(response, excluded_checks=[positive_data_acceptance])

    call()
    assert {m for m, _ in seen} >= {"GET", "HEAD", "POST"}


# --- end to end -----------------------------------------------------------------------------


class Recorder:
    """An SMTP server's handler keeping every accepted message."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.lock:
            self.messages.append(envelope.original_content or envelope.content)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Recorder]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, recorder
    controller.stop()


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from streamwise.cli.demo import run_demo

    out = run_demo(
        tmp_path_factory.mktemp("tracking") / "demo", customers=1_500, seed=42, mmm_draws=0
    )
    return Path(out["workspace"])


def campaign_settings(port: int) -> dict:
    return {
        "sender": {"address": "news@northwind.example", "name": "Northwind",
                   "domain": "northwind.example", "list_id": "Northwind <news.northwind.example>",
                   "postal_address": "1 Trail Road, Portland, OR 97201, USA",
                   "organisation": "Northwind Outfitters"},
        "variants": {"A": {"subject": "Hi {{ first_name }}",
                           "html": "<p>Hello {{ first_name }}!</p>"
                                   "<a href='https://shop.example/tents'>Tents</a>"
                                   "<p><a href='{{ unsubscribe_url }}'>Unsubscribe</a></p>"}},
        "holdout": 0.1,
        "tracking_base_url": "https://t.northwind.example",
        "channel": {"host": "127.0.0.1", "port": port, "pool_size": 2, "starttls": False},
        "batch_size": 50,
    }  # fmt: skip


@pytest.mark.slow
def test_unsubscribing_from_a_received_message_takes_effect_for_the_next_send(
    demo_dir: Path, tmp_path: Path, smtp: tuple[Controller, Recorder]
) -> None:
    from streamwise.downstream.campaigns.service import create_campaign, run_send

    controller, server = smtp
    shutil.copytree(demo_dir, tmp_path / "ws")
    audience = 'segment = "Alpine Pros"'
    with Workspace.open(tmp_path / "ws") as ws:
        first_id = create_campaign(ws, "tracked", audience=audience,
                                   settings=campaign_settings(controller.port))  # fmt: skip
        assert run_send(ws, "tracked").state == "done"
        received = [email.message_from_bytes(m, policy=policy.default) for m in server.messages]
        assert len(received) > 10
        message = received[0]
        recipient = str(message["To"]).lower()
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        one_click = re.search(r"<(https://[^>]+/u/[^>]+)>", str(message["List-Unsubscribe"]))
        assert one_click is not None
        html = message.get_body(("html",)).get_content()
        pixel = re.search(r'<img src="(https://t\.northwind\.example/o/[^"]+)"', html)
        link = re.search(r'href="(https://t\.northwind\.example/c/[^"]+)"', html)
        assert pixel is not None
        assert link is not None

        app = create_app(ws)
        app.state.bot_settings = BotSettings(too_fast_seconds=0)  # we read it at once
        with TestClient(app, headers={"User-Agent": CHROME}) as client:
            r = client.get(urlsplit(pixel.group(1)).path)
            assert (r.status_code, r.content) == (200, PIXEL)
            r = client.get(urlsplit(link.group(1)).path, follow_redirects=False)
            assert r.status_code == 302
            assert r.headers["location"].startswith("https://shop.example/tents")
            # the mailbox provider's one-click POST, as RFC 8058 has it
            r = client.post(
                urlsplit(one_click.group(1)).path, content=b"List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded",
                         "User-Agent": "Mozilla/5.0 (compatible; GoogleOneClick)"},
                follow_redirects=False,
            )  # fmt: skip
            assert r.status_code == 200
        results = campaign_results(ws.operational(), first_id)
        a = results.arm("A")
        assert (a.unique_opens, a.unique_clicks, a.unsubscribes) == (1, 1, 1)
        assert results.arm("holdout").held_out > 0
        assert recipient in set(suppressed(ws, "email")["address"])

        before = len(server.messages)
        second_id = create_campaign(ws, "tracked again", audience=audience,
                                    settings=campaign_settings(controller.port))  # fmt: skip
        report = run_send(ws, "tracked again")
        assert report.state == "done"
        again = [email.message_from_bytes(m, policy=policy.default)
                 for m in server.messages[before:]]  # fmt: skip
        to = {str(m["To"]).lower() for m in again}
        assert recipient not in to  # unsubscribed: not reached by the next send
        assert len(again) > 10
        first_to = {str(m["To"]).lower() for m in received}
        assert len(to & first_to) > 0.5 * len(first_to)  # the same audience otherwise
        with ws.operational().connect() as con:
            sends = CampaignSend.__table__
            ledger = {r.address.lower() for r in con.execute(
                select(sends.c.address).where(sends.c.campaign_id == second_id))}  # fmt: skip
        assert recipient not in ledger
