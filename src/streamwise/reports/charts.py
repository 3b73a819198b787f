"""Charts of the upstream picture as Vega-Lite specs (Altair), rendered to SVG offline.

Every function takes a plain pandas frame with the columns named in its docstring and returns an
Altair chart. :func:`to_svg` renders one with vl-convert (no browser, no network), so a report can
inline the picture. The theme (:data:`PALETTE`, :data:`FONT`) is colour-blind safe: the Okabe–Ito
palette (Okabe and Ito 2008), which stays distinguishable under the common colour-vision
deficiencies; marks also differ by shape or position, never by colour alone.

References
----------
Okabe, M. and Ito, K. (2008). Color Universal Design (CUD): how to make figures and presentations
that are friendly to colorblind people. https://jfly.uni-koeln.de/color/
"""

from __future__ import annotations

import re
from typing import Any

import altair as alt
import pandas as pd
import vl_convert as vlc

from streamwise.reports.competitor_charts import perceptual_map_chart, price_value_chart
from streamwise.reports.research_charts import nps_chart, price_curves_chart
from streamwise.reports.theme import FONT, PALETTE, SEQUENCE, finish, need_columns
from streamwise.reports.timeline import timeline_chart
from streamwise.reports.trend_charts import growth_chart, market_trends_chart

__all__ = [
    "FONT",
    "PALETTE",
    "attractiveness_chart",
    "clv_chart",
    "growth_chart",
    "market_trends_chart",
    "nps_chart",
    "perceptual_map_chart",
    "price_curves_chart",
    "price_value_chart",
    "timeline_chart",
    "to_svg",
]

_BLUE, _ORANGE = SEQUENCE[:2]


def to_svg(chart: alt.TopLevelMixin | dict[str, Any], *, id_prefix: str | None = None) -> str:
    """Render a chart to an SVG document with vl-convert, offline.

    Parameters
    ----------
    chart
        An Altair chart or a Vega-Lite spec (dict).
    id_prefix
        Prefix for the ``id`` attributes in the SVG (clip paths, gradients) and the references to
        them, so that several charts inlined in one page do not share ids.

    Returns
    -------
    str
        The ``<svg>`` element; text in it (labels, titles) is XML-escaped by the renderer.
    """
    spec = chart if isinstance(chart, dict) else chart.to_dict()
    svg = vlc.vegalite_to_svg(spec, allowed_base_urls=[])
    if id_prefix:
        ids = set(re.findall(r'\bid="([^"]+)"', svg))
        svg = re.sub(
            r'(\bid="|url\(#|href="#)([^")]+)',
            lambda m: m.group(1) + (f"{id_prefix}-" if m.group(2) in ids else "") + m.group(2),
            svg,
        )
    return svg


def attractiveness_chart(frame: pd.DataFrame, *, targets: tuple[str, ...] = ()) -> alt.LayerChart:
    """Segment attractiveness: one bar per segment, stacked by each criterion's contribution
    (weight times 0–1 score); the bar's length is the total score.

    ``frame``: ``segment``, ``criterion``, ``contribution``. Segments in ``targets`` are labelled
    "(target)".
    """
    need_columns(frame, ("segment", "criterion", "contribution"), "an attractiveness chart")
    data = frame.copy()
    data["label"] = [f"{s} (target)" if s in targets else str(s) for s in data["segment"]]
    totals = data.groupby("label", sort=False)["contribution"].sum().sort_values(ascending=False)
    order = list(totals.index)
    y = alt.Y("label:N", sort=order, title=None)
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("sum(contribution):Q", title="Attractiveness (weighted score, 0–1)"),
            y=y,
            color=alt.Color("criterion:N", title="Criterion", scale=alt.Scale(range=PALETTE)),
            order=alt.Order("criterion:N"),
            tooltip=["segment:N", "criterion:N", alt.Tooltip("contribution:Q", format=".3f")],
        )
    )
    tot = pd.DataFrame({"label": order, "total": totals.to_numpy()})
    text = (
        alt.Chart(tot)
        .mark_text(align="left", dx=4, fontSize=12)
        .encode(x="total:Q", y=alt.Y("label:N", sort=order), text=alt.Text("total:Q", format=".2f"))
    )
    title = "Segment attractiveness"
    chart = alt.layer(bars, text).properties(
        width=520,
        height=alt.Step(34),
        title=alt.Title(
            title,
            subtitle="Each colour is one criterion: its weight times the segment's 0–1 score",
        ),
        description="Attractiveness score per segment by criterion",
    )
    return finish(chart)


def clv_chart(
    frame: pd.DataFrame, *, currency: str = "", horizon: str = "52-week"
) -> alt.HConcatChart:
    """Customer lifetime value by segment: total (bars) and per customer (second panel).

    ``frame``: ``segment``, ``customers``, ``total_clv``, ``mean_clv``.
    """
    need_columns(frame, ("segment", "customers", "total_clv", "mean_clv"), "a CLV chart")
    unit = f" ({currency})" if currency else ""
    order = list(frame.sort_values("total_clv", ascending=False)["segment"])
    y = alt.Y("segment:N", sort=order, title=None)
    base = alt.Chart(frame).encode(y=y, tooltip=["segment:N", "customers:Q"])
    total = base.mark_bar(color=_BLUE).encode(
        x=alt.X("total_clv:Q", title=f"Total {horizon} CLV{unit}", axis=alt.Axis(format="~s"))
    )
    mean = base.mark_bar(color=_ORANGE).encode(
        x=alt.X("mean_clv:Q", title=f"Mean CLV per customer{unit}", axis=alt.Axis(format=",.0f")),
        y=alt.Y("segment:N", sort=order, title=None, axis=alt.Axis(labels=False)),
    )
    chart = alt.hconcat(
        total.properties(width=300, height=alt.Step(26), title="Total value"),
        mean.properties(width=220, height=alt.Step(26), title="Value per customer"),
    ).properties(
        title=alt.Title(f"Expected {horizon} customer lifetime value by segment"),
        description="Customer lifetime value by segment",
    )
    return finish(chart)
