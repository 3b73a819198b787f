"""Self-contained HTML pages: sections of text, tables, charts and cards in one template.

Everything passed in is text and is escaped (the Jinja2 environment is sandboxed and autoescapes).
The only markup that is not escaped is a chart's SVG, and only because :func:`render_page` makes
it itself from an Altair chart with vl-convert; no block accepts SVG or HTML from its caller. In
text, ``code`` in backticks and ``**bold**`` are the only formatting, applied after escaping.

The page loads nothing: CSS is inline, there are no scripts, and a Content-Security-Policy
(``default-src 'none'``) tells the browser to refuse any request a future change might add.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import altair as alt
import numpy as np
import pandas as pd
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from streamwise import __version__
from streamwise.reports.charts import to_svg
from streamwise.reports.template import CSS, SECTIONS, TEMPLATE

__all__ = [
    "Block",
    "Card",
    "Cards",
    "Fact",
    "Figure",
    "Heading",
    "Items",
    "Page",
    "Paragraph",
    "Section",
    "Table",
    "format_cell",
    "render_page",
    "render_sections",
    "slug",
]


@dataclass(frozen=True)
class Heading:
    """A sub-heading inside a section."""

    text: str
    kind: str = field(default="heading", init=False)


@dataclass(frozen=True)
class Paragraph:
    """A paragraph; ``style`` ``hint`` (what to run to get it) or ``caveat`` (read with care)."""

    text: str
    style: Literal["text", "hint", "caveat"] = "text"
    kind: str = field(default="paragraph", init=False)


@dataclass(frozen=True)
class Items:
    """A bulleted list."""

    items: tuple[str, ...]
    kind: str = field(default="items", init=False)


@dataclass(frozen=True, eq=False)
class Figure:
    """A chart (Altair), rendered to inline SVG when the page is rendered."""

    chart: alt.TopLevelMixin
    caption: str = ""
    kind: str = field(default="figure", init=False)


@dataclass(frozen=True, eq=False)
class Table:
    """A table from a data frame (the index is dropped; name it a column to keep it).

    ``formats`` maps a column to a format spec (``"{:.0%}"``); ``max_rows`` rows are shown and
    the rest counted.
    """

    frame: pd.DataFrame
    caption: str = ""
    formats: Mapping[str, str] = field(default_factory=dict)
    max_rows: int = 40
    kind: str = field(default="table", init=False)


@dataclass(frozen=True)
class Fact:
    """One statement on a card with where its numbers came from (shown as small print)."""

    text: str
    sources: tuple[str, ...] = ()
    kind: str = ""


@dataclass(frozen=True)
class Card:
    """A card: persona, positioning statement, the case for a target."""

    title: str
    subtitle: str = ""
    body: str = ""
    facts: tuple[Fact, ...] = ()
    badge: str = ""
    caveat: str = ""


@dataclass(frozen=True)
class Cards:
    """Cards in a responsive grid."""

    cards: tuple[Card, ...]
    kind: str = field(default="cards", init=False)


Block = Heading | Paragraph | Items | Figure | Table | Cards


@dataclass(frozen=True, eq=False)
class Section:
    """A section: a title, the "what this means" lead (the answer first), then blocks."""

    title: str
    lead: str = ""
    blocks: Sequence[Block] = ()
    id: str = ""


@dataclass(frozen=True, eq=False)
class Page:
    """A whole page; :meth:`render` is :func:`render_page`."""

    title: str
    sections: Sequence[Section]
    subtitle: str | None = None

    def render(self) -> str:
        """The page as one self-contained HTML document."""
        return render_page(self.title, self.sections, subtitle=self.subtitle)


def slug(text: str) -> str:
    """An anchor id from a title: lower case letters, digits and hyphens."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s or "section"


_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def _inline(text: Any) -> Markup:
    """Escape, then turn `code` and **bold** into markup (they cannot carry tags: escaped)."""
    out = str(escape("" if text is None else str(text)))
    out = _CODE.sub(r"<code>\1</code>", out)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    return Markup(out)  # noqa: S704 - built from escaped text and two fixed tags


def format_cell(value: Any, spec: str | None = None) -> str:
    """Text for a table cell: thousands separators, a few significant digits, dates as ISO.

    Parameters
    ----------
    value
        Any cell value; missing values become an en dash.
    spec
        A format string such as ``"{:.1%}"`` applied to non-missing values.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return "–"
    if spec:
        try:
            return spec.format(value)
        except (ValueError, TypeError):
            pass
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        v = float(value)
        if abs(v) >= 100 or (v.is_integer() and v != 0):
            return f"{v:,.0f}"
        if abs(v) >= 1:
            return f"{v:,.2f}"
        return f"{v:.3g}"
    if isinstance(value, pd.Timestamp | datetime):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(format_cell(v) for v in value)
    return str(value)


def _align(column: pd.Series) -> str:
    """``num`` (right-aligned), ``date`` (kept on one line) or ``text``."""
    if pd.api.types.is_bool_dtype(column):
        return "text"
    if pd.api.types.is_numeric_dtype(column):
        return "num"
    if pd.api.types.is_datetime64_any_dtype(column):
        return "date"
    values = column.dropna()
    if len(values) and all(isinstance(v, date) for v in values):
        return "date"
    return "text"


def _table(block: Table) -> dict[str, Any]:
    frame = block.frame
    shown = frame.head(block.max_rows)
    columns = [{"name": str(c), "align": _align(frame[c])} for c in frame.columns]
    rows = [
        [format_cell(v, block.formats.get(str(c))) for c, v in zip(frame.columns, row, strict=True)]
        for row in shown.itertuples(index=False, name=None)
    ]
    return {
        "kind": "table",
        "caption": block.caption,
        "columns": columns,
        "rows": rows,
        "hidden": max(0, len(frame) - len(shown)),
    }


def _figure(block: Figure, n: int) -> dict[str, Any]:
    # The one place markup passes unescaped: SVG that vl-convert made from the chart spec here;
    # text inside it (titles, labels, data) is XML-escaped by the renderer.
    svg = Markup(to_svg(block.chart, id_prefix=f"chart{n}"))  # noqa: S704
    spec = block.chart.to_dict()
    title = spec.get("title")
    label = title.get("text") if isinstance(title, dict) else title
    label = str(label or spec.get("description") or "chart")
    return {"kind": "figure", "svg": svg, "caption": block.caption, "label": label}


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["inline"] = _inline
    return env


_TEMPLATE = _environment().from_string(TEMPLATE)
_SECTIONS = _environment().from_string(SECTIONS)


def _prepare(sections: Sequence[Section]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out_sections = []
    n_fig = 0
    for section in sections:
        base = slug(section.id or section.title)
        anchor, i = base, 2
        while anchor in seen:
            anchor, i = f"{base}-{i}", i + 1
        seen.add(anchor)
        blocks = []
        for block in section.blocks:
            if isinstance(block, Figure):
                n_fig += 1
                blocks.append(_figure(block, n_fig))
            elif isinstance(block, Table):
                blocks.append(_table(block))
            else:
                blocks.append(block)
        out_sections.append(
            {"id": anchor, "title": section.title, "lead": section.lead, "blocks": blocks}
        )
    return out_sections


def render_sections(sections: Sequence[Section]) -> Markup:
    """The sections alone, as an HTML fragment (for a page that has its own layout)."""
    return Markup(_SECTIONS.render(sections=_prepare(sections)))  # noqa: S704 - escaped by Jinja


def render_page(title: str, sections: Sequence[Section], *, subtitle: str | None = None) -> str:
    """Render sections into one self-contained HTML document.

    Parameters
    ----------
    title
        The page title (``<title>`` and the top heading).
    sections
        In order; each gets an anchor and an entry in the table of contents.
    subtitle
        A line under the title (who, when, which data).

    Returns
    -------
    str
        HTML with inline CSS and inline SVG charts; no scripts and no external references.
    """
    out_sections = _prepare(sections)
    return _TEMPLATE.render(
        title=title,
        subtitle=subtitle,
        sections=out_sections,
        body=Markup(_SECTIONS.render(sections=out_sections)),  # noqa: S704 - escaped by Jinja
        css=Markup(CSS),  # noqa: S704 - a constant of this package
        version=__version__,
        footer=f"Made by Streamwise {__version__}. This page is self-contained: it runs no "
        "scripts and loads nothing from the network, so it can be mailed, archived or printed.",
    )
