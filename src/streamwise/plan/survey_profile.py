"""What the research says about each named segment: how many answered, NPS, the price range they
accept (Van Westendorp), what matters most to them (MaxDiff), what they talk about (themes) and
where their ideal sits on the competitor map."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from streamwise.data.tables import table_names
from streamwise.errors import DataError, ModelError
from streamwise.upstream.research import maxdiff_counts, nps_by, van_westendorp
from streamwise.upstream.research.conjoint import MultinomialLogit, choice_frame
from streamwise.upstream.research.maxdiff import maxdiff_counts_by
from streamwise.upstream.research.questionnaire import VW_POINTS
from streamwise.upstream.research.responses import Survey

__all__ = ["map_metrics", "survey_metrics"]

_COLUMNS = ["segment", "metric", "item", "value", "label", "n", "source"]


def _row(segment: str, metric: str, value: Any, n: int | None, source: str, **kw: Any) -> dict:
    return {"segment": segment, "metric": metric, "item": kw.get("item"), "value": value,
            "label": kw.get("label"), "n": n, "source": source}  # fmt: skip


def survey_metrics(survey: Survey, kept: pd.Index, segment_of: pd.Series) -> pd.DataFrame:
    """Per segment of respondents (``segment_of``: respondent → segment, kept respondents only).

    Returns
    -------
    pandas.DataFrame
        Long rows ``segment, metric, item, value, label, n, source``: ``respondents``,
        ``respondent_share``, ``nps`` (with ``nps_lower``, ``nps_upper``), ``price_opp``,
        ``price_pmc``, ``price_pme`` (Van Westendorp points), ``maxdiff`` per item (standardised
        best–worst score, Louviere, Flynn & Marley 2015), ``conjoint_importance`` per attribute
        and ``conjoint_wtp`` per ``attribute=level`` (a multinomial logit per segment).
    """
    q = survey.questionnaire
    segment_of = segment_of[segment_of.index.isin(kept)].dropna().astype(str)
    rows: list[dict] = []
    sizes = segment_of.value_counts()
    for seg, n in sizes.items():
        rows.append(_row(seg, "respondents", float(n), int(n), "survey_responses"))
        rows.append(_row(seg, "respondent_share", n / sizes.sum(), int(n), "survey_responses"))
    nps_questions = q.of_type("nps")
    if nps_questions:
        scores = survey.values(nps_questions[0].id)
        frame = pd.DataFrame({"score": scores[scores.index.isin(segment_of.index)]})
        frame["segment"] = segment_of.reindex(frame.index)
        for r in nps_by(frame.dropna(), "score", "segment").itertuples():
            if r.segment == "All":
                continue
            for metric, value in (("nps", r.score), ("nps_lower", r.lower), ("nps_upper", r.upper)):
                rows.append(_row(r.segment, metric, value, int(r.n), "survey_responses"))
    by_point = {qq.field("point"): qq.id for qq in q.of_type("price_vw")}
    if len(by_point) == len(VW_POINTS):
        prices = survey.wide([by_point[p] for p in VW_POINTS]).dropna()
        prices.columns = list(VW_POINTS)
        for seg in sizes.index:
            part = prices[prices.index.isin(segment_of.index[segment_of == seg])]
            try:
                points = van_westendorp(part).to_dict()
            except (DataError, ModelError, ValueError):
                continue  # too few answers in this segment for the curves to cross
            for point in ("opp", "pmc", "pme"):
                rows.append(
                    _row(seg, f"price_{point}", points[point], len(part), "survey_responses")
                )
    if any(qq.field("role") == "best" for qq in q.of_type("maxdiff")):
        maxdiff_counts(survey)  # validates the tasks once, with its clear errors
        counts = maxdiff_counts_by(survey, segment_of, name="segment")
        for r in counts[counts["segment"] != "All"].itertuples():
            rows.append(
                _row(r.segment, "maxdiff", r.standardised, int(r.shown), "survey_responses",
                     item=str(r.item))
            )  # fmt: skip
    if q.designs.get("cbc") and any(qq.field("role") == "task" for qq in q.of_type("cbc")):
        rows += _conjoint_rows(choice_frame(survey), segment_of)
    return pd.DataFrame(rows, columns=_COLUMNS)


def _conjoint_rows(choices: pd.DataFrame, segment_of: pd.Series) -> list[dict]:
    """Per segment, a multinomial logit of its respondents' choices: each attribute's importance
    and, where a price attribute makes it possible, the willingness to pay for each level."""
    rows: list[dict] = []
    for seg in sorted(segment_of.unique()):
        part = choices[choices["respondent_id"].isin(segment_of.index[segment_of == seg])]
        n = int(part["respondent_id"].nunique())
        try:
            model = MultinomialLogit().fit(part)
        except (DataError, ModelError, ValueError, np.linalg.LinAlgError):
            continue  # too few choices in this segment to estimate
        for attr, imp in model.importances()["importance"].items():
            rows.append(_row(seg, "conjoint_importance", float(imp), n, "survey_responses",
                             item=str(attr)))  # fmt: skip
        try:
            wtp = model.willingness_to_pay()
        except (ModelError, ValueError, KeyError):
            continue  # no price attribute
        for r in wtp.itertuples():
            rows.append(_row(seg, "conjoint_wtp", float(r.wtp), n, "survey_responses",
                             item=f"{r.attribute}={r.level}"))  # fmt: skip
    return rows


def map_metrics(con: Any, brand: str, segments: list[str]) -> pd.DataFrame:
    """From the competitor analysis's tables: each segment's nearest brand, the distance from its
    ideal point to us and to the nearest competitor, brands within reach, white space, and the
    share of its comments per theme (``theme`` rows, item = theme label)."""
    rows: list[dict] = []
    tables = table_names(con)
    if {"competitor_map", "competitor_white_space"} <= tables:
        points = con.execute("SELECT kind, name, dim1, dim2 FROM competitor_map").df()
        space = con.execute("SELECT * FROM competitor_white_space").df().set_index("segment")
        brands = points[points["kind"] == "brand"].set_index("name")[["dim1", "dim2"]]
        ideals = points[points["kind"] == "ideal"].set_index("name")[["dim1", "dim2"]]
        for seg in segments:
            if seg not in ideals.index or seg not in space.index:
                continue
            dist = np.hypot(*(brands - ideals.loc[seg]).to_numpy().T)
            d = pd.Series(dist, index=brands.index)
            others = d.drop(brand, errors="ignore")
            s = space.loc[seg]
            rows += [
                _row(seg, "distance_to_us", float(d.get(brand, np.nan)), None, "competitor_map",
                     label=brand),
                _row(seg, "distance_to_competitor", float(others.min()), None, "competitor_map",
                     label=str(others.idxmin())),
                _row(seg, "brands_within", float(s["brands_within"]), None,
                     "competitor_white_space", label=str(s["nearest_brand"])),
                _row(seg, "white_space", float(bool(s["white_space"])), None,
                     "competitor_white_space", label=str(s["nearest_brand"])),
                _row(seg, "map_radius", float(s["radius"]), None, "competitor_white_space"),
            ]  # fmt: skip
    if "research_themes" in tables:
        themes = con.execute("SELECT * FROM research_themes").df()
        for seg in segments:
            col = f"share_{seg}"
            if col not in themes:
                continue
            for label, share, size, sentiment in zip(
                themes["label"], themes[col], themes["size"], themes["sentiment"], strict=True
            ):
                rows.append(
                    _row(seg, "theme", float(share), int(size), "research_themes",
                         item=str(label), label=f"{float(sentiment):+.2f}")
                )  # fmt: skip
    return pd.DataFrame(rows, columns=_COLUMNS)
