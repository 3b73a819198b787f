"""The dashboard in a real browser (Debian's Chromium through Playwright): each role signs in
and sees the overview; a sales user is refused the users page; a comment is added with the
keyboard only; every form field has a label and every page one h1. Screenshots of the main
pages are saved under ``test-artifacts/dashboard/``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.web.pages import conftest as H  # noqa: N812 (importlib mode: by dotted path)

pytestmark = pytest.mark.browser


@pytest.fixture
def tab(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.errors = errors
    yield page
    context.close()


def _sign_in(page: Any, base: str, user: str, path: str = "/app") -> None:
    page.goto(f"{base}{path}")
    assert "/login" in page.url
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(H.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}{path}")


def _accessible_basics(page: Any) -> None:
    assert page.locator("h1").count() == 1
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
              .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
              .map(el => el.name)"""
    )
    assert unlabelled == []
    assert page.locator("main#main").count() == 1
    assert page.get_attribute("html", "lang") == "en"


@pytest.mark.parametrize("role", ["product", "sales", "marketing", "admin"])
def test_each_role_signs_in_and_sees_the_overview(live_server: str, tab: Any, role: str) -> None:
    _sign_in(tab, live_server, role)
    assert tab.get_by_role("heading", name="Overview", level=1).is_visible()
    assert tab.get_by_role("heading", name="Plan against actual").is_visible()
    assert tab.get_by_text(f"{role.title()} Person").is_visible()
    _accessible_basics(tab)
    H.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(H.ARTIFACTS / f"overview-{role}.png"), full_page=True)
    users = tab.goto(f"{live_server}/app/users")
    assert users is not None
    if role == "admin":
        assert users.status == 200
        _accessible_basics(tab)
        tab.screenshot(path=str(H.ARTIFACTS / "users.png"), full_page=True)
    else:
        assert users.status == 403
        assert tab.get_by_role("alert").inner_text().startswith(f"your role ({role})")
    # the refused page's own 403 is the only thing the browser may complain about
    assert [e for e in tab.errors if "status of 403" not in e] == []


def test_comment_with_the_keyboard_only(live_server: str, tab: Any) -> None:
    _sign_in(tab, live_server, "sales", "/app/plan")
    _accessible_basics(tab)
    field = tab.get_by_label("Comment on The plan as a whole")
    field.focus()
    tab.keyboard.type("Sales hears customers ask for repairs.")
    tab.keyboard.press("Tab")  # to the form's button
    assert tab.evaluate("document.activeElement.textContent") == "Add comment"
    tab.keyboard.press("Enter")
    tab.wait_for_url("**/app/plan?message=*")
    assert tab.get_by_role("status").inner_text() == "Comment added."
    assert tab.get_by_text("Sales hears customers ask for repairs.").is_visible()
    tab.screenshot(path=str(H.ARTIFACTS / "plan.png"), full_page=True)
    # the main navigation is reachable by keyboard: Tab from the top reaches the skip link first
    tab.goto(f"{live_server}/app")
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.textContent") == "Skip to the content"
    assert tab.errors == []


def test_open_a_persona_and_follow_its_evidence(live_server: str, tab: Any) -> None:
    _sign_in(tab, live_server, "product")
    tab.get_by_role("link", name="Personas").click()
    tab.wait_for_url("**/app/personas")
    _accessible_basics(tab)
    tab.screenshot(path=str(H.ARTIFACTS / "personas.png"), full_page=True)
    first = tab.locator("article.card h2 a").first
    name = first.inner_text()
    first.click()
    assert tab.get_by_role("heading", name=name, level=1).is_visible()
    tab.locator("ol.claims a").first.click()
    assert tab.get_by_text("Recorded in the plan").is_visible()
    assert tab.get_by_role("status").is_visible()  # holds, moved, or why it cannot be read
    _accessible_basics(tab)
    tab.get_by_role("link", name=f"Back to {name}").click()
    assert tab.get_by_role("heading", name=name, level=1).is_visible()
    assert tab.errors == []


def test_create_preview_send_and_watch_a_campaign_to_done(live_demo: Any, chromium: Any) -> None:
    """Marketing: persona → new campaign → preview → send to the test SMTP server → progress to
    done. Sales: sees it, has no send button, and a send posted anyway is refused."""
    from sqlalchemy import select

    from streamwise.downstream.campaigns.demo import LocalSmtp
    from streamwise.downstream.campaigns.ledger import counts
    from streamwise.store.db import session_factory
    from streamwise.store.models import Campaign

    base, ws = live_demo
    H.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    with LocalSmtp() as smtp:
        _sign_in(tab, base, "marketing", "/app/personas/0")
        persona = tab.locator("h1").inner_text()
        tab.get_by_role("link", name=f"Create a campaign for {persona}").click()
        tab.wait_for_url(f"{base}/app/campaigns/new?persona=0")
        _accessible_basics(tab)
        tab.get_by_label("Name", exact=True).fill("Browser spring")
        tab.get_by_label("SMTP server").fill("127.0.0.1")
        tab.get_by_label("Port").fill(str(smtp.port))
        tab.get_by_label("Use STARTTLS").uncheck()
        tab.screenshot(path=str(H.ARTIFACTS / "campaign-new.png"), full_page=True)
        tab.get_by_role("button", name="Save as a draft").click()
        tab.wait_for_url("**/app/campaigns/*?message=*")
        assert tab.locator("[data-state]").inner_text() == "draft"
        _accessible_basics(tab)
        campaign_url = tab.url.split("?")[0]

        tab.get_by_role("link", name="Preview the e-mail").click()
        tab.wait_for_url("**/preview")
        subject = tab.locator("[data-subject]").inner_text()
        assert "made for" in subject
        assert "{{" not in subject  # rendered for a real recipient
        assert tab.frame_locator("iframe.email").locator("p").first.is_visible()
        tab.screenshot(path=str(H.ARTIFACTS / "campaign-preview.png"), full_page=True)
        assert smtp.received == []

        tab.goto(campaign_url)
        tab.get_by_role("button", name="Send now").click()
        tab.wait_for_url("**/app/campaigns/*?message=Sending*")
        # the job's progress shows while it runs; the page reloads itself when it is done
        tab.locator("[data-state]", has_text="done").wait_for(timeout=120_000)
        assert tab.get_by_role("status").first.is_visible()
        assert "done" in tab.locator("main").inner_text()
        tab.screenshot(path=str(H.ARTIFACTS / "campaign-sent.png"), full_page=True)
    cid = int(campaign_url.rsplit("/", 1)[1])
    ledger = counts(ws.operational(), cid)
    assert ledger["sent"] == len(smtp.received) > 0
    assert f"{ledger['sent']:,} sent of" in tab.locator("main").inner_text()
    assert errors == []
    context.close()

    sales = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = sales.new_page()
    _sign_in(page, base, "sales", f"/app/campaigns/{cid}")
    assert page.get_by_role("button", name="Send now").count() == 0
    assert page.get_by_text("Only marketing and admin send").is_visible()
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    status = page.evaluate(
        """async ([url, token]) => (await fetch(url, {method: "POST",
              headers: {"Content-Type": "application/x-www-form-urlencoded"},
              body: "csrf_token=" + encodeURIComponent(token)})).status""",
        [f"{base}/app/campaigns/{cid}/send", token],
    )
    assert status == 403
    with session_factory(ws.operational())() as session:
        assert session.scalar(select(Campaign.state).where(Campaign.id == cid)) == "done"
    sales.close()


@pytest.mark.parametrize(
    ("path", "heading", "shot"),
    [
        ("/app/results", "Experiments", "results"),
        ("/app/results/budget", "Budget", "budget"),
        ("/app/data", "Quarantine", "data"),
        ("/app/campaigns", "Campaigns, newest first", "campaigns"),
        ("/app/research/simulator", "", "simulator"),
        ("/app/plan/versions", "Version 1", "plan-versions"),
    ],
)
def test_results_data_and_campaign_pages_in_the_browser(
    live_demo: Any, tab: Any, path: str, heading: str, shot: str
) -> None:
    base, _ = live_demo
    _sign_in(tab, base, "product", path)
    if heading:
        assert tab.get_by_text(heading).first.is_visible()
    _accessible_basics(tab)
    assert tab.errors == []
    H.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(H.ARTIFACTS / f"{shot}.png"), full_page=True)
