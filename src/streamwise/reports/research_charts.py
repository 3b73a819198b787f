"""Charts of market research: NPS by group and Van Westendorp price sensitivity."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from streamwise.reports.theme import GREY, SEQUENCE, finish, need_columns

__all__ = ["nps_chart", "price_curves_chart"]

_BLUE, _VERMILLION = SEQUENCE[0], SEQUENCE[5]
_GREY = GREY


def nps_chart(frame: pd.DataFrame) -> alt.LayerChart:
    """Net Promoter Score by group with its confidence interval.

    ``frame``: ``group``, ``score``, ``lower``, ``upper``, ``n`` (the ``research_nps`` table; a
    group ``All`` is drawn as the dashed overall line, not a bar).
    """
    need_columns(frame, ("group", "score", "lower", "upper", "n"), "an NPS chart")
    groups = frame[frame["group"] != "All"].copy()
    groups["sign"] = groups["score"].map(lambda s: "positive" if s >= 0 else "negative")
    groups["label"] = [
        f"{g} (n = {int(n):,})" for g, n in zip(groups["group"], groups["n"], strict=True)
    ]
    order = list(groups.sort_values("score", ascending=False)["label"])
    y = alt.Y("label:N", sort=order, title=None)
    x = alt.X("score:Q", title="NPS (−100 to +100)", scale=alt.Scale(domain=[-100, 100]))
    bars = (
        alt.Chart(groups)
        .mark_bar(opacity=0.85)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "sign:N",
                legend=None,
                scale=alt.Scale(domain=["positive", "negative"], range=[_BLUE, _VERMILLION]),
            ),
            tooltip=["group:N", "score:Q", "lower:Q", "upper:Q", "n:Q"],
        )
    )
    ci = (
        alt.Chart(groups)
        .mark_rule(color="#222", strokeWidth=2)
        .encode(x="lower:Q", x2="upper:Q", y=y)
    )
    layers: list[Any] = [bars, ci]
    overall = frame[frame["group"] == "All"]
    if len(overall):
        ref = overall.assign(label=lambda f: [f"overall {s:+.0f}" for s in f["score"]])
        layers.append(alt.Chart(ref).mark_rule(color=_GREY, strokeDash=[5, 3]).encode(x="score:Q"))
        layers.append(
            alt.Chart(ref)
            .mark_text(align="left", dx=4, dy=-4, color=_GREY, baseline="bottom", y=0)
            .encode(x="score:Q", text="label:N")
        )
    chart = alt.layer(*layers).properties(
        width=520,
        height=alt.Step(30),
        title=alt.Title(
            "Net Promoter Score by group",
            subtitle="Black line: 95 % confidence interval; dashed: all respondents",
        ),
        description="Net Promoter Score by group with confidence intervals",
    )
    return finish(chart)


_VW_CURVES = {
    "too_cheap": "too cheap",
    "cheap": "cheap (a bargain)",
    "expensive": "expensive",
    "too_expensive": "too expensive",
}


def _informative(curves: pd.DataFrame) -> pd.DataFrame:
    """The price range where the curves move: from the last price nearly everyone finds too
    cheap to the first price nearly everyone finds too expensive, with a margin."""
    rows = curves.sort_values("price")
    low = rows.loc[rows["too_cheap"] >= 0.98, "price"]
    high = rows.loc[rows["too_expensive"] >= 0.98, "price"]
    lo = float(low.max()) if len(low) else float(rows["price"].min())
    hi = float(high.min()) if len(high) else float(rows["price"].max())
    margin = 0.1 * (hi - lo)
    return rows[(rows["price"] >= lo - margin) & (rows["price"] <= hi + margin)]


_VW_POINTS = {
    "pmc": "marginal cheapness",
    "opp": "optimal price",
    "ipp": "indifference",
    "pme": "marginal expensiveness",
}


def price_curves_chart(
    curves: pd.DataFrame, points: pd.DataFrame | None = None, *, currency: str = ""
) -> alt.LayerChart:
    """Van Westendorp price-sensitivity curves with the price points as vertical lines.

    ``curves``: ``price`` and the shares ``too_cheap``, ``cheap``, ``expensive``,
    ``too_expensive`` (the ``research_price_curves`` table). ``points``: ``point``, ``price``
    (``research_price_points``; ``pmc``, ``opp``, ``ipp``, ``pme`` are drawn).
    """
    need_columns(curves, ("price", *_VW_CURVES), "a price-sensitivity chart")
    long = _informative(curves).melt(id_vars="price", value_vars=list(_VW_CURVES), var_name="curve")
    long["curve"] = long["curve"].map(_VW_CURVES)
    long = long.dropna(subset=["value"])
    unit = f" ({currency})" if currency else ""
    x = alt.X("price:Q", title=f"Price{unit}")
    lines = (
        alt.Chart(long)
        .mark_line(strokeWidth=2.5)
        .encode(
            x=x,
            y=alt.Y("value:Q", title="Share of respondents", axis=alt.Axis(format=".0%")),
            color=alt.Color(
                "curve:N",
                title="Price seen as",
                scale=alt.Scale(domain=list(_VW_CURVES.values()), range=list(SEQUENCE[:4])),
            ),
            strokeDash=alt.StrokeDash(
                "curve:N",
                scale=alt.Scale(
                    domain=list(_VW_CURVES.values()), range=[[1, 0], [6, 3], [2, 2], [8, 2, 2, 2]]
                ),
                title="Price seen as",
            ),
        )
    )
    layers: list[Any] = [lines]
    if points is not None and {"point", "price"} <= set(points.columns):
        pts = points[points["point"].isin(list(_VW_POINTS))].copy()
        pts["label"] = [
            f"{_VW_POINTS[p]} {v:,.0f}" for p, v in zip(pts["point"], pts["price"], strict=True)
        ]
        pts["row"] = range(len(pts))
        rule = alt.Chart(pts).mark_rule(color=_GREY).encode(x="price:Q")
        text = (
            alt.Chart(pts)
            .mark_text(align="left", dx=3, fontSize=11, color="#222", baseline="middle")
            .encode(
                x="price:Q",
                y=alt.Y("row:Q", axis=None, scale=alt.Scale(domain=[-0.5, 12], reverse=True)),
                text="label:N",
            )
        )
        layers += [rule, text]
    chart = (
        alt.layer(*layers)
        .resolve_scale(y="independent")
        .properties(
            width=560,
            height=320,
            title=alt.Title(
                "Price sensitivity (Van Westendorp)",
                subtitle="The acceptable range runs from marginal cheapness to marginal "
                "expensiveness",
            ),
            description="Van Westendorp price-sensitivity curves",
        )
    )
    return finish(chart)
