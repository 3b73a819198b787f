"""The dashboard in a real browser (Debian's Chromium through Playwright): each role signs in
and sees the overview; a sales user is refused the users page; a comment is added with the
keyboard only; every form field has a label and every page one h1. Screenshots of the main
pages are saved under ``test-artifacts/dashboard/``."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser


def _helpers() -> Any:
    path = Path(__file__).with_name("conftest.py")
    spec = importlib.util.spec_from_file_location("_pages_conftest_b", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


H = _helpers()


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
