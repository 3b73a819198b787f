"""The reports as a person sees them: rendered by headless Chromium from a file:// path, with
every chart drawn, the targets named, no console error and no request but the file itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from streamwise.plan.document import PlanDocument
from streamwise.reports.plan import plan_html
from streamwise.reports.upstream import upstream_report, write_report

pytestmark = pytest.mark.browser


def check_page(watch: Any, path: Path, headings: list[str], shot: Path) -> Any:
    """Open ``path`` and check what every report must satisfy; returns the page."""
    page = watch.open(path)
    found = [h.strip() for h in page.locator("h2").all_inner_texts()]
    assert [h for h in found if h in headings] == headings, found
    svgs = page.locator("figure .chart > svg")
    assert svgs.count() > 0
    for i in range(svgs.count()):
        box = svgs.nth(i).bounding_box()
        assert box is not None, f"chart {i} is not rendered"
        assert box["width"] > 100, box
        assert box["height"] > 50, box
    assert page.locator("script").count() == 0
    assert watch.errors == []
    assert watch.requests == [path.resolve().as_uri()]  # nothing but the file itself
    # every table of contents entry leads to a section
    for href in page.locator("nav.toc a").evaluate_all("els => els.map(e => e.hash)"):
        assert page.locator(f"section{href}").count() == 1, href
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    return page


def targeted_rows(page: Any) -> list[str]:
    """Segments whose decision is ``target`` in the targets table."""
    rows = page.locator("#targets table").first.locator("tbody tr")
    out = []
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td").all_inner_texts()
        if "target" in cells:
            out.append(cells[1])
    return out


def test_plan_page_in_chromium(browser_page: Any, plan_doc: PlanDocument, tmp_path: Path) -> None:
    path = write_report(plan_html(plan_doc, version=2), tmp_path / "plan.html")
    headings = ["Summary", "Who to target and why", "Positioning", "Personas",
                "Goals and KPIs", "Timeline"]  # fmt: skip
    page = check_page(browser_page, path, headings, tmp_path / "plan.png")
    assert page.locator("h1").inner_text() == "Marketing plan: Northwind 2026"
    assert targeted_rows(page) == ["Trail Enthusiasts", "Alpine Pros"]
    lead = page.locator("#targets p.lead").inner_text()
    assert "Target Trail Enthusiasts" in lead
    sources = page.locator("#personas .source").all_inner_texts()
    assert "source: research_nps · score · group = Alpine Pros · value = 20 · n = 200" in sources


def test_plan_page_fits_a_phone(browser_page: Any, plan_doc: PlanDocument, tmp_path: Path) -> None:
    path = write_report(plan_html(plan_doc), tmp_path / "plan.html")
    page = browser_page.page
    page.set_viewport_size({"width": 390, "height": 844})
    browser_page.open(path)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page scrolls sideways on a phone"
    for i in range(page.locator("figure .chart > svg").count()):
        box = page.locator("figure .chart > svg").nth(i).bounding_box()
        assert box is not None
        assert box["width"] <= 390


@pytest.mark.slow
def test_upstream_report_in_chromium(
    browser_page: Any, demo_workspace: Any, plan_doc: PlanDocument, tmp_path: Path
) -> None:
    html = upstream_report(demo_workspace, plan=plan_doc)
    path = write_report(html, tmp_path / "upstream.html")
    headings = ["Who to target and why", "Personas", "Positioning", "Competitors",
                "Market trends", "Customers", "Research"]  # fmt: skip
    page = check_page(browser_page, path, headings, tmp_path / "upstream.png")
    assert targeted_rows(page) == ["Trail Enthusiasts", "Alpine Pros"]
    # at least the map, price vs value, CLV, NPS and price curves, each with visible text
    assert page.locator("figure .chart > svg").count() >= 6
    for title in ("Perceptual map", "Net Promoter Score by group", "Price sensitivity"):
        assert page.get_by_text(title, exact=False).first.is_visible()
    trends = page.locator("#market-trends")
    assert trends.locator("figure").count() > 0 or "streamwise trends" in trends.inner_text()
