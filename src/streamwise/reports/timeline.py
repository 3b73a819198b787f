"""A Gantt-like chart of the plan's milestones."""

from __future__ import annotations

import altair as alt
import pandas as pd

from streamwise.reports.theme import SEQUENCE, finish

__all__ = ["timeline_chart"]

#: One colour per team, the same on every chart.
TEAM_COLOURS = {"product": SEQUENCE[0], "sales": SEQUENCE[1], "marketing": SEQUENCE[2]}


def timeline_chart(frame: pd.DataFrame) -> alt.LayerChart:
    """Milestones as bars from start to end, one row each, coloured by the owning team.

    ``frame``: ``title``, ``start``, ``end``, ``owner`` (dates or ISO strings).
    """
    missing = [c for c in ("title", "start", "end", "owner") if c not in frame.columns]
    if missing:
        raise ValueError(f"a timeline needs column(s) {', '.join(missing)}")
    data = frame.assign(
        start=pd.to_datetime(frame["start"]),
        # the end day is part of the milestone: the bar runs to the end of that day
        end=pd.to_datetime(frame["end"]) + pd.Timedelta(days=1),
    )
    order = list(data.sort_values(["start", "end"])["title"])
    owners = [t for t in TEAM_COLOURS if t in set(data["owner"])] + sorted(
        set(data["owner"]) - set(TEAM_COLOURS)
    )
    colours = [TEAM_COLOURS.get(o, SEQUENCE[3 + i % 4]) for i, o in enumerate(owners)]
    y = alt.Y("title:N", sort=order, title=None)
    bars = (
        alt.Chart(data)
        .mark_bar(cornerRadius=3, height={"band": 0.7})
        .encode(
            x=alt.X("start:T", title="Date", axis=alt.Axis(format="%b %Y", tickCount="month")),
            x2="end:T",
            y=y,
            color=alt.Color(
                "owner:N", title="Owner", scale=alt.Scale(domain=owners, range=colours)
            ),
            tooltip=["title:N", "owner:N", "start:T", "end:T"],
        )
    )
    chart = bars.properties(
        width=560,
        height=alt.Step(28),
        title=alt.Title("Timeline", subtitle="Each bar runs from a milestone's start to its end"),
        description="Plan milestones over time by owning team",
    )
    return finish(chart)
