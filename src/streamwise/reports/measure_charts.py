"""Charts of the measurement run: campaign lift with its interval, the media budget now against
the optimiser's recommendation, channel attribution by model, media ROI with its interval and
the response curves (Vega-Lite via Altair, rendered offline)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from streamwise.reports.theme import GREY, PALETTE, SEQUENCE, finish, need_columns

__all__ = ["attribution_chart", "budget_chart", "lift_chart", "response_chart", "roi_chart"]

_BLUE, _ORANGE = SEQUENCE[:2]


def lift_chart(frame: pd.DataFrame) -> alt.LayerChart:
    """Conversion lift per send with its 95% interval, one row per campaign and group; a rule
    at zero shows which intervals exclude "no effect".

    ``frame``: ``label``, ``lift``, ``low``, ``high`` (rates, e.g. 0.012 for +1.2 points).
    """
    need_columns(frame, ("label", "lift", "low", "high"), "a lift chart")
    y = alt.Y("label:N", sort=None, title=None)
    base = alt.Chart(frame)
    rules = base.mark_rule(strokeWidth=2, color=_BLUE).encode(
        x=alt.X(
            "low:Q", title="Conversion lift per send (95% interval)", axis=alt.Axis(format="+%")
        ),
        x2="high:Q",
        y=y,
    )
    points = base.mark_point(filled=True, size=80, color=_BLUE, shape="diamond").encode(
        x="lift:Q",
        y=y,
        tooltip=[
            "label:N",
            alt.Tooltip("lift:Q", format="+.2%"),
            alt.Tooltip("low:Q", format="+.2%"),
            alt.Tooltip("high:Q", format="+.2%"),
        ],
    )
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(strokeDash=[4, 3]).encode(x="x:Q")
    chart = alt.layer(rules, points, zero).properties(
        width=520,
        height=alt.Step(30),
        title=alt.Title(
            "What the campaigns caused",
            subtitle="Treated minus held-out conversion rate; left of the dashed "
            "line: the campaign lowered conversions",
        ),
        description="Campaign lift against the holdout with 95% intervals",
    )
    return finish(chart)


def budget_chart(frame: pd.DataFrame) -> alt.Chart:
    """Media spend per period by channel: today's split beside the recommended one.

    ``frame``: ``channel``, ``current``, ``recommended``.
    """
    need_columns(frame, ("channel", "current", "recommended"), "a budget chart")
    long = frame.melt(
        id_vars="channel",
        value_vars=["current", "recommended"],
        var_name="split",
        value_name="spend",
    )
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("spend:Q", title="Spend per period"),
            y=alt.Y("split:N", title=None),
            row=alt.Row(
                "channel:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")
            ),
            color=alt.Color(
                "split:N",
                title=None,
                scale=alt.Scale(domain=["current", "recommended"], range=[_BLUE, _ORANGE]),
            ),
            tooltip=["channel:N", "split:N", alt.Tooltip("spend:Q", format=",.0f")],
        )
        .properties(
            width=420,
            height=alt.Step(14),
            title=alt.Title(
                "Media budget: today and recommended",
                subtitle="Same total, re-allocated by the response curves",
            ),
        )
    )
    return finish(chart)


def attribution_chart(frame: pd.DataFrame) -> alt.Chart:
    """Share of conversions credited to each channel, one bar per attribution model.

    ``frame``: ``model``, ``channel``, ``share`` (0–1; the ``channel_attribution`` table).
    """
    need_columns(frame, ("model", "channel", "share"), "an attribution chart")
    order = list(frame.groupby("channel")["share"].mean().sort_values(ascending=False).index)
    models = sorted(frame["model"].astype(str).unique())
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("share:Q", title="Share of conversions credited", axis=alt.Axis(format="%")),
            y=alt.Y("channel:N", sort=order, title=None),
            yOffset=alt.YOffset("model:N", sort=models),
            color=alt.Color("model:N", title="Model", sort=models, scale=alt.Scale(range=PALETTE)),
            tooltip=["channel:N", "model:N", alt.Tooltip("share:Q", format=".1%")],
        )
        .properties(
            width=520,
            height=alt.Step(12 if len(models) > 3 else 16, **{"for": "position"}),
            title=alt.Title(
                "Which channels get the credit",
                subtitle="Each bar: one attribution model's share of the conversions",
            ),
            description="Share of conversions per channel by attribution model",
        )
    )
    return finish(chart)


def roi_chart(frame: pd.DataFrame, *, level: str = "90%") -> alt.LayerChart:
    """Return on media spend per channel with its interval; a rule at 1 marks break-even.

    ``frame``: ``channel``, ``roi``, ``roi_low``, ``roi_high`` (the ``media_roi`` table).
    """
    need_columns(frame, ("channel", "roi", "roi_low", "roi_high"), "an ROI chart")
    order = list(frame.sort_values("roi", ascending=False)["channel"])
    y = alt.Y("channel:N", sort=order, title=None)
    base = alt.Chart(frame)
    rules = base.mark_rule(strokeWidth=2, color=_BLUE).encode(
        x=alt.X("roi_low:Q", title=f"Revenue per unit of spend ({level} interval)"),
        x2="roi_high:Q",
        y=y,
    )
    points = base.mark_point(filled=True, size=80, color=_BLUE, shape="diamond").encode(
        x="roi:Q",
        y=y,
        tooltip=[
            "channel:N",
            alt.Tooltip("roi:Q", format=".2f"),
            alt.Tooltip("roi_low:Q", format=".2f"),
            alt.Tooltip("roi_high:Q", format=".2f"),
        ],
    )
    even = (
        alt.Chart(pd.DataFrame({"x": [1.0]}))
        .mark_rule(strokeDash=[4, 3], color=GREY)
        .encode(x="x:Q")
    )
    chart = alt.layer(rules, points, even).properties(
        width=520,
        height=alt.Step(30),
        title=alt.Title(
            "Return on media spend",
            subtitle="Media mix model; right of the dashed line a channel earns back its spend",
        ),
        description="ROI per channel with intervals",
    )
    return finish(chart)


def response_chart(frame: pd.DataFrame) -> alt.FacetChart:
    """Response curves: outcome per period against steady spend per period, one panel per
    channel, with the curve's interval as a band and today's spend as a point.

    ``frame``: ``channel``, ``spend``, ``response``, ``response_low``, ``response_high``,
    ``current`` (True on the row at today's spend).
    """
    need_columns(
        frame,
        ("channel", "spend", "response", "response_low", "response_high", "current"),
        "a response chart",
    )
    x = alt.X("spend:Q", title="Spend per period", axis=alt.Axis(format="~s"))
    band = (
        alt.Chart()
        .mark_area(opacity=0.25, color=_BLUE)
        .encode(x=x, y=alt.Y("response_low:Q", title="Outcome per period"), y2="response_high:Q")
    )
    line = alt.Chart().mark_line(color=_BLUE).encode(x=x, y="response:Q")
    now = (
        alt.Chart()
        .mark_point(filled=True, size=70, color=_ORANGE, shape="diamond")
        .encode(
            x=x,
            y="response:Q",
            tooltip=[
                "channel:N",
                alt.Tooltip("spend:Q", format=",.0f"),
                alt.Tooltip("response:Q", format=",.1f"),
            ],
        )
        .transform_filter(alt.datum.current)
    )
    chart = (
        alt.layer(band, line, now, data=frame)
        .properties(width=240, height=160)
        .facet(facet=alt.Facet("channel:N", title=None), columns=2)
        .resolve_scale(x="independent", y="independent")
        .properties(
            title=alt.Title(
                "Response curves",
                subtitle="What each channel returns for a steady spend; band: the interval, "
                "diamond: today's spend",
            ),
            description="Response curve per channel",
        )
    )
    return finish(chart)
