"""The upstream report: who to target and why, then the evidence: personas, competitors, market
trends, customers and research, from the workspace's result tables.

A table that is missing or empty does not stop the report: its section says which command makes
it. The answer comes first (the plan's targeting decision), the evidence after it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from streamwise.plan.document import PlanDocument
from streamwise.reports.charts import (
    clv_chart,
    growth_chart,
    market_trends_chart,
    nps_chart,
    perceptual_map_chart,
    price_curves_chart,
    price_value_chart,
)
from streamwise.reports.html import Figure, Heading, Paragraph, Section, Table, render_page
from streamwise.reports.plan import personas_section, positioning_section, targets_section
from streamwise.reports.tables import clv_by_segment, read_table

__all__ = [
    "HINTS",
    "LABELS",
    "UPSTREAM_PARTS",
    "upstream_report",
    "upstream_section",
    "upstream_sections",
    "write_report",
]

#: Per section: what is missing, and what to run to make it.
HINTS = {
    "plan": (
        "No plan was given, so this report cannot yet say whom to target.",
        "Build one with `streamwise plan build -q QUESTIONNAIRE --report FILE`.",
    ),
    "personas": (
        "No personas yet: they come with the plan.",
        "Make the report with a plan to see one card per segment.",
    ),
    "competitors": (
        "The workspace has no competitor analysis yet.",
        "Import competitor data (`streamwise import competitors FILE`) and run "
        "`streamwise competitors --brand OUR_BRAND`.",
    ),
    "trends": (
        "The workspace has no market trends yet.",
        "Import market series (`streamwise import market_series FILE`) and run "
        "`streamwise trends`.",
    ),
    "customers": (
        "The workspace has no customer value yet.",
        "Import orders and run `streamwise customers rfm` and `streamwise customers clv`.",
    ),
    "research": (
        "The workspace has no survey results yet.",
        "Import survey responses and run `streamwise research run -q QUESTIONNAIRE`.",
    ),
}

#: Column names as a reader would say them.
LABELS = {
    "nearest_brand": "nearest brand", "distance": "distance on the map",
    "brands_within": "brands within reach", "white_space": "white space",
    "competitors_with": "competitors with it", "share_with": "share of competitors",
    "ours": "we have it", "gap": "gap", "customers": "customers", "total_clv": "total CLV",
    "mean_clv": "CLV per customer", "probability_alive": "P(still active)",
    "share_of_value": "share of value", "point": "price point", "definition": "definition",
    "n": "respondents", "label": "theme", "share": "share of answers",
    "annual_growth": "growth per year", "growth_lo": "from", "growth_hi": "to",
    "seasonal_amplitude": "seasonal swing", "peak_week": "peak week",
    "best_model": "forecast model", "growth_next_year": "growth next year",
}  # fmt: skip


def _shown(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns=LABELS)


def _hint(title: str, key: str, *, id: str = "") -> Section:
    missing, todo = HINTS[key]
    return Section(title, lead=missing, blocks=[Paragraph(todo, "hint")], id=id)


def _targets(ws: Any, plan: PlanDocument | None) -> Section:
    if plan is None:
        return _hint("Who to target and why", "plan", id="targets")
    return targets_section(plan)


def _competitors(ws: Any, plan: PlanDocument | None) -> Section:
    points = read_table(ws, "competitor_map")
    if points is None:
        return _hint("Competitors", "competitors")
    brand, currency = ws.settings.brand, ws.settings.currency
    space = read_table(ws, "competitor_white_space")
    blocks: list = [
        Figure(
            perceptual_map_chart(points, brand=brand, white_space=space),
            caption="Brands (squares, ours a circle) and what each segment wants (diamonds). "
            "Brands close together compete for the same buyers.",
        )
    ]
    lead = "Where we stand against the competition."
    if space is not None:
        gaps = list(space.loc[space["white_space"].astype(bool), "segment"])
        ours = list(space.loc[space["nearest_brand"] == brand, "segment"])
        lead = (
            f"{brand} is the brand closest to what {', '.join(ours)} want. " if ours else ""
        ) + (
            f"No brand serves {', '.join(gaps)}: white space we could take."
            if gaps
            else "Every segment has a brand close to what it wants: no white space."
        )
        table = space[["segment", "nearest_brand", "distance", "brands_within", "white_space"]]
        blocks.append(
            Table(
                _shown(table),
                caption="Nearest brand to each segment's ideal",
                formats={"distance on the map": "{:.2f}"},
            )
        )
    value = read_table(ws, "competitor_price_value")
    if value is not None:
        blocks += [
            Figure(
                price_value_chart(value, currency=currency, brand=brand),
                caption="Above the dashed line: more perceived value than the price predicts.",
            ),
        ]
    features = read_table(ws, "competitor_features")
    if features is not None:
        blocks += [
            Heading("Features"),
            Table(
                _shown(features.assign(ours=features["ours"].astype(bool))),
                caption="Features we lack (gap = yes)",
                formats={"share of competitors": "{:.0%}"},
            ),
        ]
    return Section("Competitors", lead=lead, blocks=blocks)


def _trends(ws: Any, plan: PlanDocument | None) -> Section:
    trends = read_table(ws, "market_trends")
    components = read_table(ws, "market_components")
    if trends is None and components is None:
        return _hint("Market trends", "trends")
    blocks: list = []
    lead = "How demand moves in each category."
    if trends is not None and {"category", "annual_growth", "status"} <= set(trends.columns):
        lead = _trends_lead(trends)
        blocks.append(
            Figure(
                growth_chart(trends),
                caption="Emerging: growing fast with the whole interval above zero; declining: "
                "shrinking beyond the threshold.",
            )
        )
        blocks.append(
            Table(
                _shown(
                    trends.sort_values("annual_growth", ascending=False)[
                        [c for c in TREND_SHOWN if _worth_showing(trends, c)]
                    ]
                ),
                caption="Trend per category",
                formats=TREND_FORMATS,
            )
        )
    if components is not None:
        forecast = read_table(ws, "market_forecast")
        blocks.append(
            Figure(
                market_trends_chart(components, forecast),
                caption="Observed demand, its trend (seasonality removed) and the forecast.",
            )
        )
    return Section("Market trends", lead=lead, blocks=blocks)


#: The ``market_trends`` columns shown, in order.
TREND_SHOWN = ("category", "metric", "status", "annual_growth", "growth_lo", "growth_hi",
               "seasonal_amplitude", "peak_week", "best_model", "growth_next_year")  # fmt: skip
TREND_FORMATS = {
    "growth per year": "{:+.1%}", "from": "{:+.1%}", "to": "{:+.1%}", "seasonal swing": "{:.0%}",
    "growth next year": "{:+.1%}",
}  # fmt: skip


def _worth_showing(frame: pd.DataFrame, column: str) -> bool:
    """A column that exists and, for ``metric``, tells the rows apart."""
    return column in frame.columns and (column != "metric" or frame[column].nunique() > 1)


def _trends_lead(trends: pd.DataFrame) -> str:
    """Emerging and declining categories first (by status), with their growth."""

    def named(rows: pd.DataFrame) -> str:
        rows = rows.sort_values("annual_growth", ascending=False)
        return ", ".join(
            f"{c} ({g:+.1%} a year)"
            for c, g in zip(rows["category"], rows["annual_growth"], strict=True)
        )

    status = trends["status"].astype(str)
    parts = []
    if (status == "emerging").any():
        parts.append(f"Emerging: {named(trends[status == 'emerging'])}.")
    if (status == "declining").any():
        parts.append(f"Declining: {named(trends[status == 'declining'])}.")
    if not parts:
        up = trends[trends["annual_growth"] > 0]
        parts.append(f"Growing: {named(up.head(3))}." if len(up) else "No category grows.")
    rest = (~status.isin(["emerging", "declining"])).sum()
    if rest and len(parts) and (status != "stable").any():
        parts.append(f"The other {rest} are stable.")
    return " ".join(parts)


def _customers(ws: Any, plan: PlanDocument | None) -> Section:
    by_segment = clv_by_segment(ws)
    if by_segment is None:
        return _hint("Customers", "customers")
    total = float(by_segment["total_clv"].sum())
    top = by_segment.iloc[0]
    share = float(top["total_clv"]) / total if total else 0.0
    lead = (
        f"{top['segment']} ({int(top['customers']):,} customers) hold {share:.0%} of the expected "
        f"52-week customer value of {total:,.0f} {ws.settings.currency}."
    )
    shown = by_segment.assign(share_of_value=by_segment["total_clv"] / total if total else 0.0)
    blocks = [
        Figure(
            clv_chart(by_segment, currency=ws.settings.currency),
            caption="Expected value of each RFM segment's customers over the next 52 weeks "
            "(BG/NBD purchases × Gamma-Gamma spend).",
        ),
        Table(
            _shown(shown),
            caption="Customer value by RFM segment",
            formats={"share of value": "{:.1%}", "P(still active)": "{:.2f}"},
        ),
    ]
    return Section("Customers", lead=lead, blocks=blocks)


def _research(ws: Any, plan: PlanDocument | None) -> Section:
    nps = read_table(ws, "research_nps")
    curves = read_table(ws, "research_price_curves")
    points = read_table(ws, "research_price_points")
    themes = read_table(ws, "research_themes")
    if nps is None and curves is None and themes is None:
        return _hint("Research", "research")
    blocks: list = []
    leads = []
    if nps is not None:
        groups = nps[nps["group"] != "All"].sort_values("score", ascending=False)
        overall = nps[nps["group"] == "All"]
        if len(overall):
            leads.append(f"NPS is {float(overall['score'].iloc[0]):+.0f} overall")
        if len(groups) > 1:
            best, worst = groups.iloc[0], groups.iloc[-1]
            leads.append(
                f"{best['group']} recommend us most ({best['score']:+.0f}), {worst['group']} "
                f"least ({worst['score']:+.0f})"
            )
        blocks.append(
            Figure(
                nps_chart(nps),
                caption="Promoters (9–10) minus detractors (0–6), in points, per group of "
                "respondents.",
            )
        )
    if curves is not None:
        blocks.append(
            Figure(
                price_curves_chart(curves, points, currency=ws.settings.currency),
                caption="Share of respondents who call each price too cheap, a bargain, "
                "expensive or too expensive.",
            )
        )
        if points is not None:
            p = dict(zip(points["point"], points["price"], strict=True))
            if {"pmc", "pme", "opp"} <= set(p):
                leads.append(
                    f"buyers accept prices from {p['pmc']:,.0f} to {p['pme']:,.0f} "
                    f"{ws.settings.currency}, optimal near {p['opp']:,.0f}"
                )
            cols = [c for c in ("point", "price", "definition", "n") if c in points.columns]
            blocks.append(Table(_shown(points[cols]), caption="Price points"))
    if themes is not None and {"label", "share"} <= set(themes.columns):
        top = themes.sort_values("share", ascending=False).iloc[0]
        leads.append(
            f"the most talked-about theme is “{top['label']}” ({top['share']:.0%} of answers)"
        )
    if themes is not None:
        cols = [c for c in ("label", "share", "sentiment", "terms", "quote") if c in themes]
        blocks += [
            Heading("What customers talk about"),
            Table(
                _shown(themes[cols]),
                caption="Themes in open answers",
                formats={"share of answers": "{:.0%}", "sentiment": "{:+.2f}"},
            ),
        ]
    lead = ("; ".join(leads) + ".") if leads else "What the survey says."
    return Section("Research", lead=lead[0].upper() + lead[1:], blocks=blocks)


_SECTIONS: tuple[Callable[[Any, PlanDocument | None], Section], ...] = (
    _targets, _competitors, _trends, _customers, _research,
)  # fmt: skip


def _safe(build: Callable[[Any, PlanDocument | None], Section], ws: Any, plan: Any) -> Section:
    """A section, or one that says why it could not be made (a table with unexpected columns)."""
    try:
        return build(ws, plan)
    except (KeyError, ValueError, TypeError) as exc:
        name = build.__name__.strip("_").replace("_", " ").capitalize()
        return Section(
            name,
            lead="This section could not be made from the workspace's tables.",
            blocks=[Paragraph(f"{type(exc).__name__}: {exc}", "caveat")],
        )


#: The parts of the upstream picture that stand on their own (a dashboard page each).
UPSTREAM_PARTS = ("competitors", "trends", "customers", "research")


def upstream_section(workspace: Any, part: str, *, plan: PlanDocument | None = None) -> Section:
    """One part of the upstream picture (one of :data:`UPSTREAM_PARTS`) as a section."""
    builders = {"competitors": _competitors, "trends": _trends, "customers": _customers,
                "research": _research}  # fmt: skip
    if part not in builders:
        raise ValueError(f"unknown part {part!r}; use one of {', '.join(UPSTREAM_PARTS)}")
    return _safe(builders[part], workspace, plan)


def upstream_sections(workspace: Any, *, plan: PlanDocument | None = None) -> list[Section]:
    """The sections of the upstream report, in reading order: whom to target (from ``plan``),
    personas, positioning, competitors, market trends, customers and research.

    Parameters
    ----------
    workspace
        A :class:`streamwise.workspace.Workspace`; its result tables are read when present.
    plan
        The plan whose targeting decision, positioning and personas open the sections.

    Returns
    -------
    list of Section
        A missing table gives a section that says which command makes it.
    """
    sections = [_safe(_targets, workspace, plan)]
    if plan is not None:
        sections += [personas_section(plan), positioning_section(plan)]
    else:
        sections.append(_hint("Personas", "personas"))
    sections += [_safe(build, workspace, plan) for build in _SECTIONS[1:]]
    return sections


def upstream_report(workspace: Any, *, plan: PlanDocument | None = None) -> str:
    """The upstream picture as one self-contained HTML page.

    Parameters
    ----------
    workspace
        A :class:`streamwise.workspace.Workspace`; its result tables are read when present.
    plan
        The plan whose targeting decision, positioning and personas open the report.

    Returns
    -------
    str
        HTML with inline CSS and charts; no scripts, no network.
    """
    sections = upstream_sections(workspace, plan=plan)
    s = workspace.settings
    subtitle = f"{s.company} · {s.brand}"
    if plan is not None:
        subtitle += f" · plan {plan.name}, {plan.start.isoformat()} to {plan.end.isoformat()}"
    return render_page(f"Upstream report: {s.company}", sections, subtitle=subtitle)


def write_report(html: str, path: str | Path) -> Path:
    """Write a report to ``path`` (folders created) and return its absolute path."""
    out = Path(path).expanduser().resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out
