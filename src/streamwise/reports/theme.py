"""The charts' look: a colour-blind-safe palette, readable fonts, one configuration."""

from __future__ import annotations

from typing import TypeVar

import altair as alt
import pandas as pd

__all__ = ["FONT", "GREY", "PALETTE", "SEQUENCE", "finish", "need_columns"]

#: Okabe–Ito colours (Okabe and Ito 2008) in the order charts use them: blue, orange, bluish
#: green, reddish purple, sky blue, vermillion, yellow, black. Yellow comes late: it is faint on
#: white.
SEQUENCE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
PALETTE = list(SEQUENCE)

#: Neutral marks (reference lines, competitors, annotations).
GREY = "#6b6b6b"

#: Fonts for chart text, also used to measure labels when the SVG is made.
FONT = "Liberation Sans, DejaVu Sans, Helvetica, Arial, sans-serif"

C = TypeVar("C", bound=alt.TopLevelMixin)


def finish(chart: C) -> C:
    """Apply the report theme: palette, fonts, sizes, no chart border."""
    return (
        chart.configure(font=FONT, background="white", padding=8)
        .configure_view(stroke=None)
        .configure_range(category=PALETTE)
        .configure_title(fontSize=16, subtitleFontSize=12, subtitleColor="#444", anchor="start")
        .configure_axis(
            labelFontSize=12, titleFontSize=13, labelColor="#222", titleColor="#222", grid=True,
            gridColor="#e6e6e6", labelLimit=260,
        )
        .configure_legend(
            labelFontSize=12, titleFontSize=12, orient="top", direction="horizontal",
            labelLimit=0, titleLimit=0,
        )
        .configure_header(labelFontSize=13, titleFontSize=13, labelFontWeight="bold")
    )  # fmt: skip


def need_columns(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    """Raise ``ValueError`` naming the columns ``what`` needs that ``frame`` lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} needs column(s) {', '.join(missing)}; got {list(frame.columns)}")
