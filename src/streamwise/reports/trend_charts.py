"""Charts of market trends: demand per category with its trend and forecast, growth per category."""

from __future__ import annotations

import altair as alt
import pandas as pd

from streamwise.reports.theme import PALETTE, SEQUENCE, finish

__all__ = ["growth_chart", "market_trends_chart", "trend_frame"]

_SERIES = {"observed": "observed", "trend": "trend", "forecast": "forecast"}
#: Status words get fixed colours (others take the next palette colours).
_STATUS_COLOURS = {
    "emerging": SEQUENCE[2],
    "growing": SEQUENCE[2],
    "stable": SEQUENCE[4],
    "flat": SEQUENCE[4],
    "declining": SEQUENCE[5],
}


def trend_frame(
    components: pd.DataFrame, forecast: pd.DataFrame | None = None, *, model: str | None = None
) -> pd.DataFrame:
    """Observed values, trend and forecast of each category in one long frame.

    Parameters
    ----------
    components
        ``category``, ``metric``, ``period``, ``observed``, ``trend`` (the
        ``market_components`` table).
    forecast
        ``category``, ``metric``, ``period``, ``model``, ``forecast``, ``lo_80``, ``hi_80`` (the
        ``market_forecast`` table), or None.
    model
        The forecast model to show; default, per series, the first model listed for it (the
        table may hold only each series' chosen model).

    Returns
    -------
    pandas.DataFrame
        ``panel`` (the category, with the metric when there are several), ``period``,
        ``series`` (observed/trend/forecast), ``value``, ``lo_80``, ``hi_80``.
    """
    need = ("category", "metric", "period", "observed", "trend")
    missing = [c for c in need if c not in components.columns]
    if missing:
        raise ValueError(f"market components need column(s) {', '.join(missing)}")
    several = components["metric"].nunique() > 1

    def panel(f: pd.DataFrame) -> pd.Series:
        if several:
            return f["category"].astype(str) + " · " + f["metric"].astype(str)
        return f["category"].astype(str)

    comp = components.assign(panel=panel, period=pd.to_datetime(components["period"]))
    parts = [
        comp[["panel", "period", col]].rename(columns={col: "value"}).assign(series=name)
        for col, name in (("observed", "observed"), ("trend", "trend"))
    ]
    if forecast is not None and len(forecast):
        fc = forecast
        if "model" in fc.columns:
            if model is not None:
                fc = fc[fc["model"] == model]
            else:  # one model per series: the first listed for it
                first = fc.groupby(["category", "metric"], sort=False)["model"].transform("first")
                fc = fc[fc["model"] == first]
        fc = fc.assign(panel=panel, period=pd.to_datetime(fc["period"]))
        keep = ["panel", "period", "forecast"] + [c for c in ("lo_80", "hi_80") if c in fc]
        parts.append(fc[keep].rename(columns={"forecast": "value"}).assign(series="forecast"))
    out = pd.concat(parts, ignore_index=True)
    for col in ("lo_80", "hi_80"):
        if col not in out:
            out[col] = float("nan")
    return out[["panel", "period", "series", "value", "lo_80", "hi_80"]]


def market_trends_chart(
    components: pd.DataFrame,
    forecast: pd.DataFrame | None = None,
    *,
    model: str | None = None,
    unit: str = "",
    columns: int = 2,
) -> alt.FacetChart:
    """Small multiples, one per category: observed demand, its trend, the forecast and the 80 %
    prediction band.

    Parameters
    ----------
    components, forecast, model
        As for :func:`trend_frame`.
    unit
        Unit of the metric for the y axis title (e.g. ``units per week``).
    columns
        Panels per row.
    """
    data = trend_frame(components, forecast, model=model)
    metrics = ", ".join(sorted(map(str, components["metric"].unique())))
    y_title = f"{metrics} ({unit})" if unit else metrics
    domain = list(_SERIES)
    colour = alt.Color(
        "series:N",
        title="Series",
        scale=alt.Scale(domain=domain, range=[SEQUENCE[4], SEQUENCE[0], SEQUENCE[5]]),
    )
    x = alt.X("period:T", title="Period", axis=alt.Axis(format="%Y", tickCount="year"))
    band = (
        alt.Chart()
        .transform_filter(alt.datum.series == "forecast")
        .mark_area(opacity=0.3, color=SEQUENCE[5])
        .encode(x=x, y=alt.Y("lo_80:Q", title=y_title), y2="hi_80:Q")
    )
    lines = (
        alt.Chart()
        .mark_line(strokeWidth=1.6)
        .encode(
            x=x,
            y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format="~s")),
            color=colour,
            strokeDash=alt.StrokeDash(
                "series:N",
                title="Series",
                scale=alt.Scale(domain=domain, range=[[1, 0], [1, 0], [5, 3]]),
            ),
            strokeWidth=alt.StrokeWidth(
                "series:N", title="Series", scale=alt.Scale(domain=domain, range=[1, 2.5, 2.5])
            ),
        )
    )
    chart = (
        alt.layer(band, lines, data=data)
        .properties(width=280, height=150)
        .facet(facet=alt.Facet("panel:N", title=None), columns=columns)
        .resolve_scale(y="independent")
        .properties(
            title=alt.Title(
                "Market demand by category: history, trend and forecast",
                subtitle="Shaded: 80 % prediction interval of the forecast",
            ),
            description="Market demand per category with trend and forecast",
        )
    )
    return finish(chart)


def growth_chart(trends: pd.DataFrame) -> alt.LayerChart:
    """Annual growth of each category's trend, coloured by its status.

    ``trends``: ``category``, ``annual_growth`` (a fraction: 0.05 is 5 % a year), ``status``
    (the ``market_trends`` table); with ``growth_lo`` and ``growth_hi`` the interval is drawn,
    and with several ``metric`` values each bar is one category and metric.
    """
    missing = [c for c in ("category", "annual_growth", "status") if c not in trends.columns]
    if missing:
        raise ValueError(f"a growth chart needs column(s) {', '.join(missing)}")
    data = trends.copy()
    data["status"] = data["status"].astype(str)
    if "metric" in data and data["metric"].nunique() > 1:
        data["category"] = data["category"].astype(str) + " · " + data["metric"].astype(str)
    interval = {"growth_lo", "growth_hi"} <= set(data.columns)
    if interval:  # labels sit beyond the interval's end
        data["label_at"] = data["growth_hi"].where(data["annual_growth"] >= 0, data["growth_lo"])
    else:
        data["label_at"] = data["annual_growth"]
    order = list(data.sort_values("annual_growth", ascending=False)["category"])
    known = [s for s in _STATUS_COLOURS if s in set(data["status"])]
    others = sorted(set(data["status"]) - set(_STATUS_COLOURS))
    colours = [_STATUS_COLOURS[s] for s in known] + [
        PALETTE[(3 + i) % len(PALETTE)] for i in range(len(others))
    ]
    y = alt.Y("category:N", sort=order, title=None)
    bars = (
        alt.Chart(data)
        .mark_bar(opacity=0.9)
        .encode(
            x=alt.X(
                "annual_growth:Q",
                title="Trend growth per year (%)",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(padding=56),
            ),
            y=y,
            color=alt.Color(
                "status:N", title="Status", scale=alt.Scale(domain=known + others, range=colours)
            ),
            tooltip=["category:N", alt.Tooltip("annual_growth:Q", format="+.1%"), "status:N"],
        )
    )
    layers: list = [bars, alt.Chart(data).mark_rule(color="#222").encode(x=alt.datum(0))]
    if interval:
        layers.append(
            alt.Chart(data)
            .mark_rule(color="#222", strokeWidth=2)
            .encode(x="growth_lo:Q", x2="growth_hi:Q", y=y)
        )
    label = alt.Text("annual_growth:Q", format="+.1%")
    for keep, align, dx in (
        (alt.datum.annual_growth >= 0, "left", 5),
        (alt.datum.annual_growth < 0, "right", -5),
    ):
        layers.append(
            alt.Chart(data)
            .transform_filter(keep)
            .mark_text(fontSize=12, dx=dx, align=align)
            .encode(x="label_at:Q", y=y, text=label)
        )
    subtitle = "Annual growth rate of each category's trend, seasonality removed"
    if interval:
        subtitle += "; black line: its confidence interval"
    chart = alt.layer(*layers).properties(
        width=480,
        height=alt.Step(28),
        title=alt.Title("Which categories grow", subtitle=subtitle),
        description="Annual trend growth per category",
    )
    return finish(chart)
