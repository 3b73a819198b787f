"""Pages: escaped text, inline SVG only from charts, no external references, the plan page."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from html.parser import HTMLParser

import altair as alt
import numpy as np
import pandas as pd
import pytest

from streamwise.plan.document import PlanDocument
from streamwise.reports.html import (
    Card,
    Cards,
    Fact,
    Figure,
    Items,
    Page,
    Paragraph,
    Section,
    Table,
    format_cell,
    render_page,
)
from streamwise.reports.plan import attractiveness_frame, format_evidence, plan_html

TARGETED = ("Trail Enthusiasts", "Alpine Pros")  # as in conftest.make_plan
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
#: Attributes by which a page can make the browser fetch something.
FETCHING = {"src", "href", "xlink:href", "srcset", "action", "formaction", "poster", "data"}


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.tags: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in FETCHING and value and not value.startswith(("#", "data:")):
                self.refs.append(f"<{tag} {name}={value!r}>")
            if name == "style" and value:
                self.styles.append(value)

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def external_refs(html: str) -> list[str]:
    """Every reference the browser would fetch: src/href (and the like) of real elements that is
    not a page anchor or a data: URL, ``url(...)`` and ``@import`` in CSS, and script tags."""
    parser = _Refs()
    parser.feed(html)
    refs = list(parser.refs)
    for css in parser.styles:
        refs += re.findall(r"url\(\s*['\"]?(?!#|data:)[^)]*\)", css)
        refs += re.findall(r"@import[^;]*", css)
    refs += [f"<{t}>" for t in parser.tags if t in {"script", "iframe", "link", "object"}]
    return refs


def assert_self_contained(html: str) -> None:
    assert not external_refs(html), external_refs(html)[:5]
    # the only URLs are the SVG and XLink namespace names, which are never fetched
    urls = set(re.findall(r"https?://[^\s\"'<>]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls


def hostile_page() -> str:
    chart = (
        alt.Chart(pd.DataFrame({"segment": [HOSTILE], "n": [3]}))
        .mark_bar()
        .encode(x="n:Q", y="segment:N")
        .properties(title=HOSTILE)
    )
    frame = pd.DataFrame({"segment": [HOSTILE, "ok"], "n": [1, 2]})
    return render_page(
        HOSTILE,
        [
            Section(
                HOSTILE,
                lead=f"run `{HOSTILE}` and **{HOSTILE}**",
                blocks=[
                    Paragraph(HOSTILE, "hint"),
                    Items((HOSTILE,)),
                    Table(frame, caption=HOSTILE),
                    Figure(chart, caption=HOSTILE),
                    Cards((Card(HOSTILE, badge=HOSTILE, facts=(Fact(HOSTILE, (HOSTILE,)),)),)),
                ],
            ),
            Section("Second"),
        ],
        subtitle=HOSTILE,
    )


def test_every_text_is_escaped() -> None:
    html = hostile_page()
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "onerror=alert(1)>" not in html
    assert external_refs(hostile_page().replace("&lt;img", "<img")), "the checker finds a real img"
    assert "&lt;script&gt;" in html
    assert "<code>&lt;script&gt;" in html  # backticks still make code, of the escaped text
    assert_self_contained(html)


def test_page_structure_toc_and_anchors() -> None:
    sections = [Section("Who & why", lead="The answer."), Section("Who & why"), Section("Data")]
    html = Page("Report", sections, subtitle="sub").render()
    assert html.startswith("<!DOCTYPE html>")
    assert 'id="who-why"' in html
    assert 'id="who-why-2"' in html
    assert '<a href="#who-why-2">' in html
    assert "What this means" in html
    assert "default-src 'none'" in html  # the browser refuses any request
    assert_self_contained(html)


def test_tables_format_numbers_and_cap_rows() -> None:
    frame = pd.DataFrame({"name": list("abcdef"), "value": np.arange(6) * 1234.5})
    html = render_page("T", [Section("S", blocks=[Table(frame, max_rows=4)])])
    assert "2,469" in html
    assert "2 more row(s) not shown." in html
    assert '<td class="num">' in html


@pytest.mark.parametrize(
    ("value", "spec", "text"),
    [
        (None, None, "–"),
        (float("nan"), None, "–"),
        (1234567, None, "1,234,567"),
        (np.int64(42), None, "42"),
        (0.123456, None, "0.123"),
        (3.14159, None, "3.14"),
        (1234.5, None, "1,234"),
        (0.256, "{:.0%}", "26%"),
        (True, None, "yes"),
        (date(2026, 1, 2), None, "2026-01-02"),
        (pd.Timestamp("2026-01-02"), None, "2026-01-02"),
        (("a", "b"), None, "a, b"),
    ],
)
def test_format_cell(value, spec, text) -> None:
    assert format_cell(value, spec) == text


def test_plan_page_has_every_part(plan_doc: PlanDocument) -> None:
    doc = plan_doc
    html = plan_html(doc, version=3)
    for heading in ("Summary", "Who to target and why", "Positioning", "Personas",
                    "Goals and KPIs", "Timeline"):  # fmt: skip
        assert f">{heading}</h2>" in html
    assert "version 3" in html
    for seg in TARGETED:
        assert f"<strong>{seg}</strong>" in html  # named in the lead, the answer first
    assert (
        "source: customer_clv · clv · segment = Trail Enthusiasts · value = 500 · n = 500" in html
    )
    assert "31.0% → 36.0%" in html  # KPI baseline → target
    assert "Thin evidence" in html  # the persona without enough evidence says so
    assert html.count("<svg") == 2  # attractiveness and timeline
    assert_self_contained(html)


def test_plan_page_escapes_hostile_segment_names(plan_factory: Callable[..., PlanDocument]) -> None:
    doc = plan_factory(segments=(HOSTILE, "Fine"), targeted=(HOSTILE,))
    html = plan_html(doc)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html
    assert_self_contained(html)


def test_attractiveness_frame_is_weight_times_score(plan_doc: PlanDocument) -> None:
    doc = plan_doc
    frame = attractiveness_frame(doc)
    assert len(frame) == len(doc.strategy.scores) * len(doc.strategy.weights)
    assert np.allclose(frame["contribution"], frame["weight"] * frame["score"])
    totals = frame.groupby("segment")["contribution"].sum()
    for s in doc.strategy.scores:
        assert totals[s.segment] == pytest.approx(s.total)


def test_format_evidence_reads_as_a_footnote(plan_doc: PlanDocument) -> None:
    ev = plan_doc.personas[0].claims[0].evidence[0]
    assert format_evidence(ev) == (
        "research_nps · score · group = Trail Enthusiasts · value = 30 · n = 200"
    )
