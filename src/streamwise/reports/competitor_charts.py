"""Charts of the competitive picture: the perceptual map and price vs perceived value."""

from __future__ import annotations

import altair as alt
import pandas as pd

from streamwise.reports.theme import GREY, SEQUENCE, finish, need_columns

__all__ = ["perceptual_map_chart", "price_value_chart"]

_BLUE, _GREEN, _VERMILLION = SEQUENCE[0], SEQUENCE[2], SEQUENCE[5]
_GREY = GREY


def perceptual_map_chart(
    points: pd.DataFrame,
    *,
    brand: str | None = None,
    white_space: pd.DataFrame | None = None,
    explained: dict[str, float] | None = None,
) -> alt.LayerChart:
    """Perceptual map: brands and segment ideal points on the first two dimensions, attribute
    directions as grey arrows from the centre.

    Parameters
    ----------
    points
        ``kind`` (brand/attribute/ideal), ``name``, ``dim1``, ``dim2`` (the ``competitor_map``
        table, :meth:`PerceptualMap.to_frame`).
    brand
        Our brand, drawn in its own colour.
    white_space
        ``segment``, ``white_space`` (the ``competitor_white_space`` table): those segments'
        labels say so.
    explained
        Share of variance per dimension (``dim1`` → 0.54), shown in the axis titles.
    """
    need_columns(points, ("kind", "name", "dim1", "dim2"), "a perceptual map")
    pts = points[points["kind"].isin(["brand", "ideal"])].copy()
    gaps = set()
    if white_space is not None and {"segment", "white_space"} <= set(white_space.columns):
        gaps = set(white_space.loc[white_space["white_space"].astype(bool), "segment"])
    pts["type"] = [
        "segment ideal" if k == "ideal" else "our brand" if n == brand else "competitor"
        for k, n in zip(pts["kind"], pts["name"], strict=True)
    ]
    pts["label"] = [
        f"{n} (white space)" if k == "ideal" and n in gaps else str(n)
        for k, n in zip(pts["kind"], pts["name"], strict=True)
    ]
    attrs = points[points["kind"] == "attribute"].copy()
    reach = float(pts[["dim1", "dim2"]].abs().to_numpy().max()) if len(pts) else 1.0
    length = float(((attrs["dim1"] ** 2 + attrs["dim2"] ** 2) ** 0.5).max()) if len(attrs) else 0
    scale = 0.8 * reach / length if length > 0 else 1.0
    attrs["x"], attrs["y"] = attrs["dim1"] * scale, attrs["dim2"] * scale
    attrs["x0"] = attrs["y0"] = 0.0
    share = explained or {}

    def axis(dim: str, n: int) -> str:
        extra = f", {share[dim]:.0%} of the variance" if dim in share else ""
        return f"Dimension {n} (map units{extra})"

    x = alt.X(
        "dim1:Q", title=axis("dim1", 1), axis=alt.Axis(grid=False), scale=alt.Scale(padding=40)
    )
    y = alt.Y(
        "dim2:Q", title=axis("dim2", 2), axis=alt.Axis(grid=False), scale=alt.Scale(padding=20)
    )
    domain = ["our brand", "competitor", "segment ideal"]
    arrows = (
        alt.Chart(attrs)
        .mark_rule(color=_GREY, strokeDash=[3, 3])
        .encode(x=alt.X("x0:Q"), y=alt.Y("y0:Q"), x2="x:Q", y2="y:Q")
    )
    arrow_labels = (
        alt.Chart(attrs)
        .mark_text(color=_GREY, fontStyle="italic", fontSize=11, dy=-6)
        .encode(x="x:Q", y="y:Q", text="name:N")
    )
    marks = (
        alt.Chart(pts)
        .mark_point(filled=True, size=160, opacity=0.95)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "type:N",
                title="Point",
                scale=alt.Scale(domain=domain, range=[_BLUE, _GREY, _VERMILLION]),
            ),
            shape=alt.Shape(
                "type:N",
                title="Point",
                scale=alt.Scale(domain=domain, range=["circle", "square", "diamond"]),
            ),
            tooltip=["label:N", "type:N"],
        )
    )
    labels = marks.mark_text(dy=-13, fontSize=12).encode(
        text="label:N", color=alt.value("#222"), shape=alt.Shape()
    )
    chart = alt.layer(arrows, arrow_labels, marks, labels).properties(
        width=560,
        height=420,
        title=alt.Title(
            "Perceptual map: where brands sit and what each segment wants",
            subtitle="Close to a segment's ideal = that segment's natural choice; arrows: "
            "the direction in which each attribute rating grows",
        ),
        description="Perceptual map of brands and segment ideal points",
    )
    return finish(chart)


def price_value_chart(
    frame: pd.DataFrame, *, currency: str = "", brand: str | None = None
) -> alt.LayerChart:
    """Price vs perceived value: one point per brand and the least-squares line.

    ``frame``: ``brand``, ``price``, ``value``, ``fitted``, ``residual`` (the
    ``competitor_price_value`` table). Above the line = more perceived value than the price
    predicts.
    """
    need_columns(frame, ("brand", "price", "value", "fitted", "residual"), "a price vs value chart")
    data = frame.assign(
        position=lambda f: f["residual"].map(
            lambda r: "better value than price predicts" if r >= 0 else "worse value"
        ),
        label=lambda f: [f"{b} (us)" if b == brand else str(b) for b in f["brand"]],
    )
    unit = f" ({currency})" if currency else ""
    x = alt.X("price:Q", title=f"Price{unit}", scale=alt.Scale(zero=False, padding=40))
    line = alt.Chart(data).mark_line(color=_GREY, strokeDash=[5, 3]).encode(x=x, y="fitted:Q")
    points = (
        alt.Chart(data)
        .mark_point(filled=True, size=150)
        .encode(
            x=x,
            y=alt.Y(
                "value:Q",
                title="Perceived value (rating)",
                scale=alt.Scale(zero=False, padding=20),
            ),
            color=alt.Color(
                "position:N",
                title="Against the line",
                scale=alt.Scale(
                    domain=["better value than price predicts", "worse value"],
                    range=[_GREEN, _VERMILLION],
                ),
            ),
            shape=alt.Shape(
                "position:N",
                title="Against the line",
                scale=alt.Scale(
                    domain=["better value than price predicts", "worse value"],
                    range=["triangle-up", "triangle-down"],
                ),
            ),
            tooltip=["brand:N", "price:Q", "value:Q", "residual:Q"],
        )
    )
    labels = alt.Chart(data).mark_text(dy=-13, fontSize=12).encode(x=x, y="value:Q", text="label:N")
    chart = alt.layer(line, points, labels).properties(
        width=560,
        height=340,
        title=alt.Title(
            "Price vs perceived value",
            subtitle="Dashed line: the value the market's prices predict",
        ),
        description="Price against perceived value per brand",
    )
    return finish(chart)
