"""Charts render to SVG offline with the expected marks and labels, and data text stays text."""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

import altair as alt
import numpy as np
import pandas as pd
import pytest

from streamwise.reports import charts
from streamwise.reports.trend_charts import trend_frame

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert(1)</script>"


def marks(svg: str) -> dict[str, int]:
    """Items per mark type (``symbol``, ``rect``, ``line``, ...), summed over layers."""
    root = ET.fromstring(svg)
    out: dict[str, int] = {}
    for g in root.iter(f"{SVG}g"):
        cls = g.get("class", "")
        m = re.match(r"mark-(\w+) role-mark", cls)
        if m:
            out[m.group(1)] = out.get(m.group(1), 0) + len(list(g))
    return out


def texts(svg: str) -> list[str]:
    return ["".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG}text")]


@pytest.fixture
def competitor_map() -> pd.DataFrame:
    rows = [
        ("brand", "Northwind", 1.2, 0.4), ("brand", "Summit Co", 1.1, -1.8),
        ("brand", "TrailMark", -0.5, -1.9), ("brand", "Ridgeline", -1.8, -0.4),
        ("attribute", "durability", 0.4, -0.4), ("attribute", "style", 0.55, 0.07),
        ("ideal", "Trail Enthusiasts", 1.2, -0.2), ("ideal", "Weekend Campers", 0.6, 3.5),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["kind", "name", "dim1", "dim2"])


def test_perceptual_map_draws_brands_ideals_and_attribute_arrows(competitor_map) -> None:
    space = pd.DataFrame(
        {"segment": ["Trail Enthusiasts", "Weekend Campers"], "white_space": [False, True]}
    )
    chart = charts.perceptual_map_chart(
        competitor_map, brand="Northwind", white_space=space, explained={"dim1": 0.6}
    )
    svg = charts.to_svg(chart)
    assert svg.startswith("<svg")
    assert marks(svg)["symbol"] == 6  # 4 brands + 2 ideal points
    assert marks(svg)["rule"] == 2  # one arrow per attribute
    words = texts(svg)
    assert "Weekend Campers (white space)" in words
    assert "Trail Enthusiasts" in words
    assert "durability" in words
    assert any("60% of the variance" in t for t in words)
    assert any(t.startswith("Perceptual map") for t in words)


def test_price_value_chart_marks_each_brand_and_the_line() -> None:
    frame = pd.DataFrame(
        {"brand": ["A", "B", "C"], "price": [100.0, 200.0, 300.0], "value": [5.0, 3.0, 2.5]}
    ).assign(fitted=[4.8, 3.6, 2.3], residual=lambda f: f["value"] - f["fitted"])
    svg = charts.to_svg(charts.price_value_chart(frame, currency="EUR", brand="B"))
    assert marks(svg)["symbol"] == 3
    assert marks(svg)["line"] == 1
    assert "B (us)" in texts(svg)
    assert "Price (EUR)" in texts(svg)


def test_attractiveness_stacks_contributions_and_marks_targets() -> None:
    frame = pd.DataFrame(
        [(s, c, v) for s in ("Alpha", "Beta", "Gamma") for c, v in (("size", 0.2), ("fit", 0.1))],
        columns=["segment", "criterion", "contribution"],
    )
    svg = charts.to_svg(charts.attractiveness_chart(frame, targets=("Beta",)))
    assert marks(svg)["rect"] == 6  # 3 segments x 2 criteria
    words = texts(svg)
    assert "Beta (target)" in words
    assert "0.30" in words  # the total at the end of each bar
    assert "Attractiveness (weighted score, 0–1)" in words


def test_clv_nps_price_curves_and_growth_charts() -> None:
    clv = pd.DataFrame(
        {"segment": ["Champions", "Lost"], "customers": [10, 20], "total_clv": [9e3, 1e2]}
    ).assign(mean_clv=lambda f: f["total_clv"] / f["customers"])
    svg = charts.to_svg(charts.clv_chart(clv, currency="EUR"))
    assert marks(svg)["rect"] == 4
    assert "Total 52-week CLV (EUR)" in texts(svg)

    nps = pd.DataFrame(
        {"group": ["Pros", "Hunters", "All"], "score": [40.0, -30.0, 10.0],
         "lower": [30.0, -40.0, 5.0], "upper": [50.0, -20.0, 15.0], "n": [200, 300, 500]}
    )  # fmt: skip
    svg = charts.to_svg(charts.nps_chart(nps))
    assert marks(svg)["rect"] == 2  # "All" is the reference line, not a bar
    assert "Pros (n = 200)" in texts(svg)
    assert "overall +10" in texts(svg)

    price = np.arange(50.0, 500.0, 10.0)
    curves = pd.DataFrame(
        {"price": price, "too_cheap": np.clip(1 - price / 200, 0, 1),
         "cheap": np.clip(1 - price / 300, 0, 1), "expensive": np.clip(price / 300, 0, 1),
         "too_expensive": np.clip(price / 450, 0, 1)}
    )  # fmt: skip
    points = pd.DataFrame({"point": ["pmc", "opp", "pme"], "price": [120.0, 150.0, 260.0]})
    svg = charts.to_svg(charts.price_curves_chart(curves, points, currency="EUR"))
    assert marks(svg)["line"] == 4
    assert "optimal price 150" in texts(svg)

    growth = pd.DataFrame(
        {"category": ["tents", "apparel"], "annual_growth": [0.12, -0.05],
         "status": ["growing", "declining"]}
    )  # fmt: skip
    svg = charts.to_svg(charts.growth_chart(growth))
    assert marks(svg)["rect"] == 2
    words = texts(svg)
    assert "+12.0%" in words
    assert "−5.0%" in words  # d3-format writes a true minus sign


def test_market_trends_small_multiples_with_forecast_band() -> None:
    periods = pd.date_range("2024-01-01", periods=60, freq="W-MON")
    comp = pd.concat(
        pd.DataFrame(
            {"category": cat, "metric": "demand", "period": periods,
             "observed": 100 + np.arange(60.0), "trend": 100 + np.arange(60.0)}
        )
        for cat in ("tents", "apparel")
    )  # fmt: skip
    future = pd.date_range(periods[-1] + pd.Timedelta(weeks=1), periods=8, freq="W-MON")
    fc = pd.concat(
        pd.DataFrame(
            {"category": cat, "metric": "demand", "period": future, "model": model,
             "forecast": 160.0, "lo_80": 150.0, "hi_80": 170.0}
        )
        for cat in ("tents", "apparel")
        for model in ("ets", "naive")
    )  # fmt: skip
    data = trend_frame(comp, fc)
    assert set(data["series"]) == {"observed", "trend", "forecast"}
    assert (data["series"] == "forecast").sum() == 16  # the first model of each series only
    svg = charts.to_svg(charts.market_trends_chart(comp, fc, unit="units per week"))
    assert marks(svg)["area"] == 2  # one 80 % band per panel
    words = texts(svg)
    assert {"tents", "apparel", "forecast", "trend"} <= set(words)
    assert "demand (units per week)" in words


def test_timeline_one_bar_per_milestone() -> None:
    frame = pd.DataFrame(
        {"title": ["Research", "Launch"], "start": ["2026-01-05", "2026-03-01"],
         "end": ["2026-02-13", "2026-05-31"], "owner": ["marketing", "product"]}
    )  # fmt: skip
    svg = charts.to_svg(charts.timeline_chart(frame))
    assert marks(svg)["rect"] == 2
    assert {"Research", "Launch", "marketing", "product"} <= set(texts(svg))


def test_hostile_text_in_data_stays_text() -> None:
    frame = pd.DataFrame({"segment": [HOSTILE], "criterion": ["size"], "contribution": [0.5]})
    svg = charts.to_svg(charts.attractiveness_chart(frame))
    assert "<script" not in svg.lower()
    assert "&lt;script&gt;" in svg
    assert HOSTILE in texts(svg)  # shown as the text it is


def test_to_svg_prefixes_ids_and_their_references() -> None:
    chart = (
        alt.Chart(pd.DataFrame({"x": [1, 2], "y": [3, 4]}))
        .mark_bar(clip=True)
        .encode(x="x:Q", y="y:Q")
    )
    plain = charts.to_svg(chart)
    ids = re.findall(r'\bid="([^"]+)"', plain)
    assert ids, "a clipped mark has a clip path with an id"
    svg = charts.to_svg(chart, id_prefix="c7")
    assert all(i.startswith("c7-") for i in re.findall(r'\bid="([^"]+)"', svg))
    assert all(r.startswith("c7-") for r in re.findall(r"url\(#([^)]+)\)", svg))


def test_chart_names_the_missing_columns() -> None:
    with pytest.raises(ValueError, match="contribution"):
        charts.attractiveness_chart(pd.DataFrame({"segment": ["a"], "criterion": ["b"]}))
