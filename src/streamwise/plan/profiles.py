"""Segment profiles: every number the personas, the strategy and the plan use, one row each, in
the workspace table ``segment_profiles`` so that each claim can point at its row.

Segments are the ones people name in the survey (the questionnaire's segment question); customers
join them through their behavioural cluster
(:func:`~streamwise.plan.customer_profile.cluster_names`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from streamwise.data.tables import replace_table, table_names
from streamwise.errors import DataError
from streamwise.plan.customer_profile import cluster_names, customer_metrics
from streamwise.plan.document import Evidence
from streamwise.plan.survey_profile import map_metrics, survey_metrics
from streamwise.upstream.research import screen
from streamwise.upstream.research.workspace import load_survey

__all__ = ["RESULT_TABLES", "SegmentProfiles", "build_profiles"]

#: The tables :func:`build_profiles` writes.
RESULT_TABLES = ("segment_profiles", "segment_clusters")


@dataclass(frozen=True)
class SegmentProfiles:
    """The long table of segment metrics and how clusters were named.

    Attributes
    ----------
    segments
        Segment names, largest (by respondents) first.
    table
        ``segment, metric, item, value, label, n, source`` (the ``segment_profiles`` table).
    clusters
        ``cluster, segment, surveyed, agreeing, purity`` (the ``segment_clusters`` table).
    """

    segments: tuple[str, ...]
    table: pd.DataFrame = field(repr=False)
    clusters: pd.DataFrame = field(repr=False)

    def _rows(self, segment: str, metric: str) -> pd.DataFrame:
        t = self.table
        return t[(t["segment"] == segment) & (t["metric"] == metric)]

    def value(self, segment: str, metric: str, item: str | None = None) -> float | None:
        """The value of one metric (None when the data to compute it is missing)."""
        rows = self._rows(segment, metric)
        if item is not None:
            rows = rows[rows["item"] == item]
        if rows.empty or pd.isna(rows["value"].iloc[0]):
            return None
        return float(rows["value"].iloc[0])

    def label(self, segment: str, metric: str) -> str | None:
        """The text label of a metric (the nearest brand, ...)."""
        rows = self._rows(segment, metric)
        return None if rows.empty or pd.isna(rows["label"].iloc[0]) else str(rows["label"].iloc[0])

    def items(self, segment: str, metric: str) -> pd.Series:
        """Item → value of a metric with items (categories, channels, hours, themes), largest
        first."""
        rows = self._rows(segment, metric)
        return rows.set_index("item")["value"].astype(float).sort_values(ascending=False)

    def evidence(self, segment: str, metric: str, item: str | None = None) -> Evidence:
        """Where the value came from: its row of ``segment_profiles``."""
        rows = self._rows(segment, metric)
        key: dict[str, str | int | float] = {"segment": segment, "metric": metric}
        if item is not None:
            rows = rows[rows["item"] == item]
            key["item"] = item
        if rows.empty:
            raise KeyError(f"no {metric} for {segment}")
        n = rows["n"].iloc[0]
        value = rows["value"].iloc[0]
        return Evidence(
            table="segment_profiles", column="value", key=key,
            value=None if pd.isna(value) else float(value),
            n=None if pd.isna(n) else int(n),
        )  # fmt: skip


def _growth(con: Any, table: pd.DataFrame) -> pd.DataFrame:
    """Each segment's market growth: its category mix times each category's annual growth."""
    if "market_trends" not in table_names(con):
        return table.iloc[0:0]
    trends = con.execute("SELECT category, annual_growth FROM market_trends").df()
    growth = trends.groupby("category")["annual_growth"].mean()
    mix = table[table["metric"] == "category_share"].sort_values(["segment", "item"])
    rows = []
    for seg, part in mix.groupby("segment"):
        known = part[part["item"].isin(growth.index)]
        if known.empty:
            continue
        w = known["value"].to_numpy(float)
        g = growth.reindex(known["item"]).to_numpy(float)
        rows.append({"segment": seg, "metric": "market_growth", "item": None,
                     "value": float(np.sum(w * g) / np.sum(w)), "label": None,
                     "n": len(known), "source": "market_trends"})  # fmt: skip
    return pd.DataFrame(rows, columns=table.columns)


def build_profiles(
    workspace: Any,
    questionnaire: str | Path,
    *,
    brand: str,
    segment_question: str = "segment_self",
) -> SegmentProfiles:
    """Profile every segment named in the survey and save ``segment_profiles``.

    Parameters
    ----------
    workspace
        An open workspace with the survey imported; customer analytics (``customer_segments``,
        ``customer_clv``), competitor analysis and market trends add to the profile when present.
    questionnaire
        The survey's questionnaire (YAML).
    brand
        Our brand, as in the competitors data.
    segment_question
        The question in which respondents name their segment.
    """
    survey = load_survey(workspace, questionnaire)
    if segment_question not in {q.id for q in survey.questionnaire.questions}:
        raise DataError(
            f"the questionnaire has no question {segment_question!r}; pass the id of the "
            "question in which respondents name their segment (--segment-question)"
        )
    kept = screen(survey).kept
    segment_of = survey.values(segment_question).astype(str)
    con = workspace.duckdb()
    parts = [survey_metrics(survey, kept, segment_of)]
    segments = list(parts[0].query("metric == 'respondents'").sort_values("value")["segment"])[::-1]
    parts.append(map_metrics(con, brand, segments))
    clusters = pd.DataFrame(columns=["cluster", "segment", "surveyed", "agreeing", "purity"])
    have = table_names(con)
    if {"customer_segments", "customer_clv"} <= have:
        customers = survey.respondent_field("customer_id")
        respondents = pd.DataFrame(
            {"customer_id": customers.to_numpy(), "segment": segment_of.reindex(customers.index)}
        )
        engine = workspace.analytics()  # the same DuckDB database as ``con``, through Ibis
        clusters = cluster_names(engine, respondents)
        if len(clusters):
            parts.append(customer_metrics(engine, clusters))
    table = pd.concat([p for p in parts if len(p)], ignore_index=True)
    table = pd.concat([table, _growth(con, table)], ignore_index=True)
    table["n"] = table["n"].astype("Int64")
    # Threads add floating-point sums in varying order, which moves the last bits; 12 significant
    # digits keep the same data giving the same plan, byte for byte.
    table["value"] = [float(f"{v:.12g}") for v in table["value"].astype(float)]
    table = table.sort_values(["segment", "metric", "item"], na_position="first", kind="stable")
    table = table.reset_index(drop=True)
    replace_table(con, "segment_profiles", table, RESULT_TABLES)
    replace_table(con, "segment_clusters", clusters, RESULT_TABLES)
    return SegmentProfiles(tuple(segments), table, clusters)
