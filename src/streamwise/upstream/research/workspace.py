"""Market research on a workspace's ``survey_responses``, with results written back as tables.

One run reads the questionnaire and the answers, screens the respondents, and analyses the
respondents kept: NPS (overall and by the answer to a grouping question), Van Westendorp with
the Newton–Miller–Smith extension, and Gabor–Granger. Every result table carries the screening
line (how many respondents were analysed and who was left out for what).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from streamwise.data.tables import replace_table
from streamwise.errors import DataError
from streamwise.upstream.research.conjoint import MultinomialLogit, choice_frame
from streamwise.upstream.research.kano import KanoResult, kano
from streamwise.upstream.research.maxdiff import MaxDiffLogit, maxdiff_counts, maxdiff_logit
from streamwise.upstream.research.nps import nps_by
from streamwise.upstream.research.pricing import (
    GaborGrangerResult,
    NmsResult,
    VanWestendorpResult,
    gabor_granger,
    newton_miller_smith,
    van_westendorp,
)
from streamwise.upstream.research.quality import Screening, screen
from streamwise.upstream.research.questionnaire import VW_POINTS, load_questionnaire
from streamwise.upstream.research.responses import Survey
from streamwise.upstream.research.themes import ThemeFinder, Themes

__all__ = ["RESULT_TABLES", "ResearchRun", "load_survey", "research_summary", "run_research"]

#: The tables :func:`run_research` writes (names fixed here, never taken from input).
RESULT_TABLES = (
    "research_screening",
    "research_nps",
    "research_price_points",
    "research_price_curves",
    "research_gabor_granger",
    "research_maxdiff",
    "research_kano",
    "research_conjoint",
    "research_themes",
)


@dataclass(frozen=True)
class ResearchRun:
    """What one run found; a part is None when the questionnaire has no such questions."""

    survey: Survey
    screening: Screening
    nps: pd.DataFrame | None
    van_westendorp: VanWestendorpResult | None
    nms: NmsResult | None
    gabor_granger: GaborGrangerResult | None
    maxdiff: MaxDiffLogit | None = None
    kano: KanoResult | None = None
    conjoint: MultinomialLogit | None = None
    themes: Themes | None = None


def _save(workspace: Any, name: str, frame: pd.DataFrame) -> None:
    replace_table(workspace.duckdb(), name, frame, RESULT_TABLES)


def load_survey(workspace: Any, questionnaire: str | Path) -> Survey:
    """The workspace's ``survey_responses`` of the questionnaire's survey, checked."""
    q = load_questionnaire(questionnaire)
    con = workspace.duckdb()
    answers = con.execute(
        "SELECT * FROM survey_responses WHERE survey_id = $sid", {"sid": q.survey_id}
    ).df()
    if answers.empty:
        raise DataError(
            f"the workspace has no survey_responses for survey {q.survey_id!r}; import them with "
            "`streamwise import survey_responses FILE`"
        )
    return Survey.from_answers(q, answers)


def run_research(
    workspace: Any, questionnaire: str | Path, *, nps_by_question: str | None = None
) -> ResearchRun:
    """Screen the survey's respondents, analyse those kept, and save the result tables."""
    survey = load_survey(workspace, questionnaire)
    screening = screen(survey)
    kept = screening.kept
    q = survey.questionnaire
    note = screening.summary()
    kept_survey = _only(survey, kept)  # the answers analysed
    _save(workspace, "research_screening", screening.flags.assign(summary=note))

    nps_table = None
    nps_questions = q.of_type("nps")
    if nps_questions:
        scores = survey.values(nps_questions[0].id)
        frame = pd.DataFrame({"score": scores[scores.index.isin(kept)]})
        by = nps_by_question or "_all"
        if nps_by_question:
            frame[by] = survey.values(nps_by_question).reindex(frame.index).astype("string")
        else:
            frame[by] = "All"
        nps_table = nps_by(frame, "score", by).rename(columns={by: "group"})
        if not nps_by_question:
            nps_table = nps_table.tail(1)
        _save(workspace, "research_nps", nps_table.assign(screening=note))

    vw = nms = None
    by_point = {qq.field("point"): qq.id for qq in q.of_type("price_vw")}
    if len(by_point) == len(VW_POINTS):
        prices = survey.wide([by_point[p] for p in VW_POINTS]).loc[kept].dropna()
        prices.columns = list(VW_POINTS)
        vw = van_westendorp(prices)
        points = vw.to_dict()
        nms_ids = {qq.field("at"): qq.id for qq in q.of_type("rating") if qq.field("role") == "nms"}
        rows = [{"point": k, "price": points[k]} for k in ("pmc", "opp", "ipp", "pme")]
        curves = vw.curves
        if by_point["cheap"] in nms_ids and by_point["expensive"] in nms_ids:
            likely = survey.wide([nms_ids[by_point["cheap"]], nms_ids[by_point["expensive"]]])
            likely.columns = ["nms_cheap", "nms_expensive"]
            both = prices.join(likely, how="inner").dropna()
            nms = newton_miller_smith(both)
            rows += [
                {"point": "nms_trial", "price": nms.trial_price},
                {"point": "nms_revenue", "price": nms.revenue_price},
            ]
            curves = curves.join(nms.curves, how="outer")
        table = pd.DataFrame(rows).assign(n=vw.n, screening=note)
        table["definition"] = table["point"].map(lambda p: vw.definitions.get(p, ""))
        _save(workspace, "research_price_points", table)
        _save(workspace, "research_price_curves", curves.rename_axis("price").reset_index())

    gg = None
    gg_questions = q.of_type("price_gg")
    if gg_questions:
        wide = survey.wide([qq.id for qq in gg_questions]).loc[kept]
        gg = gabor_granger(wide, prices={qq.id: float(qq.field("price")) for qq in gg_questions})
        demand = gg.demand.rename_axis("price").reset_index()
        _save(workspace, "research_gabor_granger", demand.assign(screening=note))
    md = None
    if any(qq.field("role") == "best" for qq in q.of_type("maxdiff")):
        md = maxdiff_logit(kept_survey)
        counts = maxdiff_counts(kept_survey).to_frame()
        table = md.to_frame().join(counts, rsuffix="_count")
        table = table.rename_axis("item").reset_index()
        _save(workspace, "research_maxdiff", table.assign(screening=note))
    kano_result = None
    if q.of_type("kano"):
        kano_result = kano(kept_survey)
        _save(
            workspace, "research_kano", kano_result.to_frame().reset_index().assign(screening=note)
        )
    cbc = None
    if q.designs.get("cbc") and any(qq.field("role") == "task" for qq in q.of_type("cbc")):
        cbc = MultinomialLogit().fit(choice_frame(kept_survey))
        worths = cbc.part_worths()
        wtp = cbc.willingness_to_pay()[["attribute", "level", "wtp"]].rename(
            columns={"wtp": "willingness_to_pay"}
        )
        table = worths.merge(wtp, on=["attribute", "level"], how="left").merge(
            cbc.importances()["importance"].reset_index(), on="attribute", how="left"
        )
        _save(workspace, "research_conjoint", table.assign(screening=note))
    themes = None
    text_questions = q.of_type("text")
    if text_questions:
        texts = survey.values(text_questions[0].id)
        texts = texts[texts.index.isin(kept)]
        groups = (
            survey.values(nps_by_question).reindex(texts.index).astype("string")
            if nps_by_question
            else None
        )
        if texts.str.strip().str.len().gt(0).sum() >= 20:
            themes = ThemeFinder().fit(texts, segments=groups).themes_
            table = themes.to_frame().reset_index()
            if themes.by_segment is not None:
                shares = themes.by_segment.T.add_prefix("share_").rename_axis("id").reset_index()
                table = table.merge(shares, on="id", how="left")
            _save(workspace, "research_themes", table.assign(screening=note))
    return ResearchRun(survey, screening, nps_table, vw, nms, gg, md, kano_result, cbc, themes)


def _only(survey: Survey, respondents: pd.Index) -> Survey:
    """The survey with only these respondents' answers."""
    answers = survey.answers[survey.answers["respondent_id"].isin(respondents)]
    return Survey(survey.questionnaire, answers.reset_index(drop=True))


def research_summary(run: ResearchRun) -> dict[str, Any]:
    """Plain numbers of a run, for reports and the demo (JSON-ready)."""
    out: dict[str, Any] = {"screening": run.screening.summary()}
    if run.nps is not None:
        out["nps"] = json.loads(run.nps.to_json(orient="records"))
    if run.van_westendorp is not None:
        out["van_westendorp"] = run.van_westendorp.to_dict()
    if run.nms is not None:
        out["nms"] = run.nms.to_dict()
    if run.gabor_granger is not None:
        out["gabor_granger"] = run.gabor_granger.to_dict()
    if run.maxdiff is not None:
        out["maxdiff"] = run.maxdiff.to_dict()
    if run.kano is not None:
        out["kano"] = run.kano.to_dict()
    if run.themes is not None:
        out["themes"] = run.themes.to_dict()
    if run.conjoint is not None:
        out["conjoint_importances"] = run.conjoint.importances()["importance"].to_dict()
    return out
