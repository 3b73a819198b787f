"""Segments' ideal points from the survey: the mean of the ``role: ideal`` rating questions per
segment, on the same scale as the brands' perceived ratings (for :func:`perceptual_map`)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from streamwise.errors import DataError
from streamwise.upstream.research.questionnaire import Questionnaire, load_questionnaire

__all__ = ["ideal_points"]


def ideal_points(
    survey_responses: pd.DataFrame,
    questionnaire: Questionnaire | str | dict[str, Any],
    *,
    segment_question: str = "segment_self",
) -> pd.DataFrame:
    """Each segment's mean ideal rating per attribute, from the ``role: ideal`` questions.

    Parameters
    ----------
    survey_responses
        Long answers ``respondent_id, question_id, answer``.
    questionnaire
        The questionnaire (or what :func:`load_questionnaire` reads): rating questions with
        ``role: ideal`` and an ``attribute`` field.
    segment_question
        The question whose answer is the respondent's segment.

    Returns
    -------
    pandas.DataFrame
        Segments × attributes mean ideal ratings (index ``segment``); the
        respondent counts are in ``attrs["n"]``.
    """
    if not isinstance(questionnaire, Questionnaire):
        questionnaire = load_questionnaire(questionnaire)
    attr = {
        q.id: q.field("attribute")
        for q in questionnaire.of_type("rating")
        if q.field("role") == "ideal" and q.field("attribute")
    }
    if not attr:
        raise DataError("the questionnaire has no rating question with role: ideal")
    need = ("respondent_id", "question_id", "answer")
    for col in need:
        if col not in survey_responses.columns:
            raise DataError(f"missing column {col!r}", source="survey_responses", column=col)
    sr = survey_responses.loc[:, list(need)]
    seg = sr.loc[sr["question_id"] == segment_question].set_index("respondent_id")["answer"]
    if seg.empty:
        raise DataError(f"no answers to {segment_question!r}", source="survey_responses")
    ans = sr.loc[sr["question_id"].isin(list(attr))].copy()
    ans["attribute"] = ans["question_id"].map(attr)
    ans["value"] = pd.to_numeric(ans["answer"], errors="coerce")
    ans["segment"] = ans["respondent_id"].map(seg)
    ans = ans.dropna(subset=["value", "segment"])
    out = ans.pivot_table(index="segment", columns="attribute", values="value", aggfunc="mean")
    out = out.loc[list(dict.fromkeys(seg.dropna())), list(dict.fromkeys(attr.values()))]
    out.columns.name = None
    out.attrs["n"] = ans.groupby("segment")["respondent_id"].nunique().to_dict()
    return out
