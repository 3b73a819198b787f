"""The latest results and the whole report: every planted number shown as its table says, a
hint naming the command when a result is missing, one self-contained page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from streamwise.reports.full import full_report, is_hint, report_contents
from streamwise.reports.html import Figure, Section, Table, render_page
from streamwise.reports.results import (
    RESULT_HINTS,
    attribution_section,
    budget_section,
    media_mix_section,
    response_frame,
    results_sections,
)
from streamwise.reports.upstream import write_report
from streamwise.workspace import Workspace

MEDIA = {
    "search": (52_000.0, 2.437, 1.912, 3.004),
    "social": (31_000.0, 1.185, 0.731, 1.622),
    "tv": (88_000.0, 0.642, 0.388, 0.911),
}  # fmt: skip (as planted by conftest.py)


def assert_self_contained(html: str) -> None:
    """No scripts, no fetched resource, no URL but the SVG namespace names."""
    assert "<script" not in html.lower()
    assert not re.search(r"""\b(?:src|href)\s*=\s*(?!["']?(?:#|data:))""", html)
    assert not re.search(r"url\(\s*(?!['\"]?(?:#|data:))", html)
    urls = set(re.findall(r"https?://[^\s\"'<>]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls


def cells(html: str) -> list[str]:
    return re.findall(r"<td[^>]*>([^<]*)</td>", html)


def page(section: Section) -> str:
    return render_page("t", [section])


def test_bare_workspace_gives_hints_not_failures(workspace: Workspace) -> None:
    sections = results_sections(workspace)
    assert [s.id for s in sections] == list(RESULT_HINTS)
    assert all(is_hint(s) for s in sections)
    html = render_page("t", sections)
    for command in (
        "streamwise measure lift",
        "streamwise measure attribution",
        "streamwise measure mmm",
        "streamwise measure feedback -q QUESTIONNAIRE",
    ):
        assert command in html
    assert "<svg" not in html


def test_media_mix_shows_every_channel_with_its_roi(results_workspace: Any) -> None:
    section = media_mix_section(results_workspace)
    html = page(section)
    shown = cells(html)
    for channel, (_, roi, low, high) in MEDIA.items():
        i = shown.index(channel)
        assert shown[i + 3] == f"{roi:.2f}"  # channel, spend, contribution, ROI
        assert shown[i + 4] == f"{low:.2f} … {high:.2f}"
    assert "**search** returns the most per unit of spend (ROI 2.44)" in section.lead
    assert "tv do not earn back their spend" in section.lead  # interval below break-even
    figures = [b for b in section.blocks if isinstance(b, Figure)]
    assert len(figures) == 2  # ROI with intervals, response curves
    assert ">Response curves</h3>" in html
    assert html.count("<svg") == 2


def test_response_frame_marks_todays_spend(results_workspace: Any) -> None:
    frame = response_frame(results_workspace)
    assert frame is not None
    assert set(frame["channel"]) == set(MEDIA)
    now = frame[frame["current"]].set_index("channel")["spend"]
    for channel, (spend, *_) in MEDIA.items():
        assert now[channel] == pytest.approx(spend / 52)
    assert (frame["response_low"] <= frame["response_high"]).all()


def test_attribution_compares_the_models(results_workspace: Any) -> None:
    section = attribution_section(results_workspace)
    html = page(section)
    shown = cells(html)
    # columns: channel, last_touch, markov (models in order), channels by mean share
    assert shown[:3] == ["search", "62.0%", "50.0%"]
    assert "tv" in shown
    assert section.lead.startswith(
        "**search** gets the most credit: 50% to 62% of the conversions across 2 models."
    )
    assert ">What removing a channel would cost</h3>" in html
    assert "0.55" in shown  # the Markov removal effect of search
    assert html.count("<svg") == 1


def test_budget_comes_from_the_plans_measurement(results_workspace: Any) -> None:
    from streamwise.plan.store import load_plan

    section = budget_section(results_workspace, load_plan(results_workspace))
    assert "Same total of 3,300 per period" in section.lead
    assert "search 1,000 → 1,300; tv 1,700 → 1,400" in section.lead
    shown = cells(page(section))
    assert shown[:4] == ["search", "1,000", "1,300", "+300"]
    assert budget_section(results_workspace, None).id == "budget"
    assert is_hint(budget_section(results_workspace, None))


def test_a_results_table_with_unexpected_columns_does_not_stop_the_report(
    workspace: Workspace,
) -> None:
    workspace.duckdb().execute("CREATE TABLE media_roi AS SELECT 'x' AS channel, 1 AS spend")
    sections = results_sections(workspace)
    html = render_page("t", sections)
    assert "could not be made from the workspace&#39;s results" in html
    assert "roi" in html
    assert is_hint(sections[1])  # attribution still says what to run


def test_full_report_of_a_bare_workspace(workspace: Workspace) -> None:
    contents = report_contents(workspace)
    assert contents.plan_version is None
    assert all(is_hint(s) for s in contents.sections)
    html = contents.render()
    assert "streamwise plan build -q QUESTIONNAIRE" in html
    assert ">Contents</h2>" in html
    assert_self_contained(html)


def test_full_report_has_every_part(results_workspace: Any, tmp_path: Path) -> None:
    contents = report_contents(results_workspace)
    titles = [s.title for s in contents.sections]
    assert titles[:3] == ["Who to target and why", "Personas", "Positioning"]
    assert [s.title for s in contents.plan] == [
        "The plan", "Goals and KPIs", "Timeline", "Measurement: plan against actual",
    ]  # fmt: skip
    assert [s.id for s in contents.results] == ["lift", "attribution", "media-mix", "budget"]
    assert [is_hint(s) for s in contents.results] == [True, False, False, False]
    # the plan's measurement keeps its tables; its charts are drawn once, by the results
    measured = contents.plan[-1]
    assert not any(isinstance(b, Figure) for b in measured.blocks)
    assert any(isinstance(b, Table) for b in measured.blocks)
    assert contents.to_dict()["plan_version"] == 1
    html = full_report(results_workspace)
    for title in titles:
        assert f'">{title}</a></li>' in html.replace("&#39;", "'")  # in the contents
    assert "plan Northwind 2026 version 1" in html
    assert "measured on data through 2026-06-30" in html
    assert_self_contained(html)
    path = write_report(html, tmp_path / "report.html")
    assert path.read_text(encoding="utf-8") == html


@pytest.mark.slow
def test_demo_results(demo_workspace: Any) -> None:
    contents = report_contents(demo_workspace)
    results = {s.id: s for s in contents.results}
    assert not is_hint(results["lift"])
    assert not is_hint(results["attribution"])
    assert is_hint(results["media-mix"])  # the fixture leaves the media mix model out
    html = render_page("t", [results["lift"]])
    campaigns = [c for c in cells(html) if c.startswith("demo: ")]
    assert campaigns, "every demo campaign has a holdout"
    assert "Incremental effect against the holdout" in html
    attribution = render_page("t", [results["attribution"]])
    table = (
        demo_workspace.duckdb()
        .execute("SELECT DISTINCT channel FROM channel_attribution")
        .fetchall()
    )
    for (channel,) in table:
        assert f">{channel}</td>" in attribution
    assert contents.plan_version is not None
    assert contents.plan_version.version >= 2  # built, then measured
    assert_self_contained(contents.render())


@pytest.mark.browser
def test_full_report_in_chromium(browser_page: Any, results_workspace: Any, tmp_path: Path) -> None:
    path = write_report(full_report(results_workspace), tmp_path / "report.html")
    page = browser_page.open(path)
    headings = [h.strip() for h in page.locator("section.report > h2").all_inner_texts()]
    for title in ("Who to target and why", "The plan", "Goals and KPIs",
                  "Measurement: plan against actual", "Campaign lift", "Channel attribution",
                  "Media mix: return on spend", "Media budget"):  # fmt: skip
        assert title in headings, headings
    assert headings.index("The plan") < headings.index("Campaign lift")
    svgs = page.locator("figure .chart > svg")
    assert svgs.count() >= 5  # targets, timeline, attribution, ROI, curves, budget
    for i in range(svgs.count()):
        box = svgs.nth(i).bounding_box()
        assert box is not None, i
        assert box["width"] > 100, (i, box)
        assert box["height"] > 50, (i, box)
    for href in page.locator("nav.toc a").evaluate_all("els => els.map(e => e.hash)"):
        assert page.locator(f"section{href}").count() == 1, href
    assert page.locator("#lift p.hint").inner_text().endswith("run streamwise measure lift.")
    assert page.locator("script").count() == 0
    assert browser_page.errors == []
    assert browser_page.requests == [path.resolve().as_uri()]
