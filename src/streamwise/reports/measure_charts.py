"""Charts of the measurement run: campaign lift with its interval, and the media budget now
against the optimiser's recommendation (Vega-Lite via Altair, rendered offline)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from streamwise.reports.theme import SEQUENCE, finish, need_columns

__all__ = ["budget_chart", "lift_chart"]

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
