"""Competitor analysis on a workspace's ``competitors`` (and, for ideal points, its survey), with
results written back as tables for the plan and the report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from streamwise.data.tables import replace_table
from streamwise.errors import DataError
from streamwise.upstream.competitors.gaps import FeatureGaps, feature_gaps
from streamwise.upstream.competitors.ideals import ideal_points
from streamwise.upstream.competitors.maps import PerceptualMap, perceptual_map, white_space
from streamwise.upstream.competitors.value import PriceValueMap, price_value_map
from streamwise.upstream.research.questionnaire import load_questionnaire

__all__ = ["RESULT_TABLES", "CompetitorRun", "run_competitors"]

#: The tables :func:`run_competitors` writes (names fixed here, never taken from input).
RESULT_TABLES = (
    "competitor_map",
    "competitor_white_space",
    "competitor_features",
    "competitor_ratings",
    "competitor_price_value",
)


@dataclass(frozen=True)
class CompetitorRun:
    """What one run found (``white_space`` is None without a survey of ideal points)."""

    brand: str
    map: PerceptualMap
    white_space: pd.DataFrame | None
    gaps: FeatureGaps
    price_value: PriceValueMap | None


def run_competitors(
    workspace: Any,
    brand: str,
    *,
    questionnaire: str | Path | None = None,
    price_attribute: str | None = None,
    method: str = "pca",
) -> CompetitorRun:
    """Map the market (with each segment's ideal point when a questionnaire with ``role: ideal``
    questions is given), find white space, our feature and rating gaps and the price vs value
    line, and save the tables."""
    con = workspace.duckdb()
    competitors = con.execute("SELECT * FROM competitors").df()
    if competitors.empty:
        raise DataError(
            "the workspace has no competitors data; import it with "
            "`streamwise import competitors FILE`"
        )
    ideals = None
    if questionnaire is not None:
        q = load_questionnaire(questionnaire)
        answers = con.execute(
            "SELECT * FROM survey_responses WHERE survey_id = $sid", {"sid": q.survey_id}
        ).df()
        ideals = ideal_points(answers, q)
    pmap = perceptual_map(competitors, method=method, ideals=ideals)  # type: ignore[arg-type]
    replace_table(con, "competitor_map", pmap.to_frame(), RESULT_TABLES)
    space = None
    if ideals is not None:
        space = white_space(pmap)
        replace_table(con, "competitor_white_space", space, RESULT_TABLES)
    gaps = feature_gaps(competitors, brand)
    replace_table(
        con, "competitor_features", gaps.features.rename_axis("feature").reset_index(),
        RESULT_TABLES,
    )  # fmt: skip
    replace_table(
        con, "competitor_ratings", gaps.ratings.rename_axis("attribute").reset_index(),
        RESULT_TABLES,
    )  # fmt: skip
    value = None
    prices = competitors[competitors["kind"] == "price"]["attribute"].unique()
    chosen = price_attribute or (sorted(prices)[0] if len(prices) else None)
    if chosen is not None:
        value = price_value_map(competitors, chosen)
        replace_table(
            con, "competitor_price_value", value.table.rename_axis("brand").reset_index(),
            RESULT_TABLES,
        )  # fmt: skip
    return CompetitorRun(brand, pmap, space, gaps, value)
