"""Survey answers checked against their questionnaire, and typed views of them.

Answers arrive in the long form of the ``survey_responses`` contract: one row per respondent and
question, the answer as text. :meth:`Survey.from_answers` checks every answer against its
question's type (a number in the scale, one of the options, a positive price...) and refuses the
first wrong one with the question and respondent named; analyses then take typed columns from
:meth:`Survey.values` and :meth:`Survey.wide`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from streamwise.errors import DataError
from streamwise.upstream.research.questionnaire import Question, Questionnaire

__all__ = ["Survey", "respondent_groups", "stack_groups"]

_NEEDED = ("respondent_id", "question_id", "answer")
_INTEGER_TYPES = ("nps", "rating", "cbc")


def _typed(question: Question, answers: pd.Series) -> tuple[pd.Series, pd.Series, str]:
    """Typed answers, a mask of the invalid ones, and what a valid answer is."""
    text = answers.astype("string").str.strip()
    if question.type in _INTEGER_TYPES:
        numbers = _numbers(text)
        whole = numbers.notna() & (numbers == np.floor(numbers))
        if question.type == "cbc" and question.options is not None:
            allowed = {int(k) for k in question.option_keys}
            low, high = min(allowed), max(allowed)
        else:
            low, high = question.scale or (0, 10)
        ok = whole & numbers.between(low, high)
        return numbers, ~ok, f"a whole number {low} to {high}"
    if question.type == "price_vw":
        numbers = _numbers(text)
        return numbers, ~(numbers > 0), "a positive price"
    if question.type == "multi":
        sep = str(question.field("separator", ";"))
        allowed = set(question.option_keys)
        parts = text.str.split(sep, regex=False)
        ok = parts.map(lambda xs: all(x.strip() in allowed for x in xs), na_action="ignore")
        valid = ok.fillna(False).astype(bool)
        return parts, ~valid, f"options from {sorted(allowed)} joined by {sep!r}"
    if question.type == "text" or not question.option_keys:
        return text, text.isna().astype(bool), "text"
    allowed = question.option_keys
    return text, ~text.isin(allowed).fillna(False).astype(bool), f"one of {allowed}"


def _numbers(text: pd.Series) -> pd.Series:
    """Text to float (NaN where it is no number)."""
    return pd.to_numeric(text.astype(object), errors="coerce").astype(float)


@dataclass(frozen=True)
class Survey:
    """A questionnaire and its checked answers (long form).

    Attributes
    ----------
    questionnaire
        The questions.
    answers
        ``respondent_id, question_id, answer`` and any of ``customer_id``, ``answered_at``,
        ``duration_seconds`` (one row per respondent and question; text answers).
    """

    questionnaire: Questionnaire
    answers: pd.DataFrame

    @classmethod
    def from_answers(cls, questionnaire: Questionnaire, answers: Any) -> Survey:
        """Check ``answers`` (a pandas frame or anything with ``to_pandas``) and wrap them.

        Raises
        ------
        DataError
            A column is missing, an answer names no question of the questionnaire, a respondent
            answered a question twice, or an answer does not fit its question (the message names
            the respondent, the question and what a valid answer is).
        """
        frame = answers.to_pandas() if hasattr(answers, "to_pandas") else pd.DataFrame(answers)
        missing = [c for c in _NEEDED if c not in frame.columns]
        if missing:
            raise DataError(
                f"the answers have no column {missing[0]!r}; they need {', '.join(_NEEDED)}",
                column=missing[0],
            )
        sid = questionnaire.survey_id
        if "survey_id" in frame.columns and (frame["survey_id"] == sid).any():
            frame = frame[frame["survey_id"] == sid]
        frame = frame.reset_index(drop=True)
        known = {q.id for q in questionnaire.questions}
        unknown = sorted(set(frame["question_id"].astype(str)) - known)
        if unknown:
            raise DataError(
                f"answers to questions the questionnaire does not have: {', '.join(unknown[:5])}"
                f"{' ...' if len(unknown) > 5 else ''}; add them to the questionnaire or drop them"
            )
        twice = frame.duplicated(["respondent_id", "question_id"], keep="first")
        if twice.any():
            row = frame[twice].iloc[0]
            raise DataError(
                f"respondent {row['respondent_id']} answered question {row['question_id']!r} "
                "twice; keep one answer per respondent and question"
            )
        for qid, rows in frame.groupby("question_id", sort=False):
            question = questionnaire.question(str(qid))
            _values, bad, expected = _typed(question, rows["answer"])
            if bad.any():
                first = rows[bad.to_numpy()].iloc[0]
                raise DataError(
                    f"respondent {first['respondent_id']} answered {first['answer']!r} to "
                    f"question {qid!r} ({question.type}); expected {expected} "
                    f"({int(bad.sum())} such answers in all)",
                    column="answer",
                )
        return cls(questionnaire, frame)

    @property
    def respondents(self) -> pd.Index:
        """Every respondent with at least one answer, in first-seen order."""
        return pd.Index(self.answers["respondent_id"].unique(), name="respondent_id")

    def values(self, question_id: str) -> pd.Series:
        """Typed answers to one question, indexed by respondent (only those who answered)."""
        question = self.questionnaire.question(question_id)
        rows = self.answers[self.answers["question_id"] == question_id]
        typed, _bad, _expected = _typed(question, rows["answer"])
        return pd.Series(
            typed.to_numpy(), index=pd.Index(rows["respondent_id"], name="respondent_id"),
            name=question_id,
        )  # fmt: skip

    def wide(self, question_ids: list[str] | None = None) -> pd.DataFrame:
        """One row per respondent, one typed column per question (missing: not answered)."""
        ids = question_ids or [q.id for q in self.questionnaire.questions]
        columns = {qid: self.values(qid) for qid in ids}
        return pd.DataFrame(columns).reindex(self.respondents)

    def respondent_field(self, column: str) -> pd.Series:
        """A per-respondent column of the answers (``customer_id``, ``duration_seconds``...)."""
        if column not in self.answers.columns:
            return pd.Series(np.nan, index=self.respondents, name=column)
        first = self.answers.groupby("respondent_id", sort=False)[column].first()
        return first.reindex(self.respondents)


def respondent_groups(frame: pd.DataFrame, by: pd.Series) -> list[tuple[Hashable, pd.DataFrame]]:
    """The rows of ``frame`` (with a ``respondent_id`` column) per group of ``by`` (a Series
    indexed by respondent), groups sorted, then ``("All", frame)``. Respondents without a group
    count only towards ``"All"``."""
    if not isinstance(by, pd.Series):
        raise TypeError("by must be a Series indexed by respondent_id (the group of each)")
    group = frame["respondent_id"].map(by.groupby(level=0).first())
    parts = [(key, frame[np.asarray(group == key)]) for key in sorted(group.dropna().unique())]
    return [*parts, ("All", frame)]


def stack_groups(rows: Sequence[tuple[Hashable, pd.DataFrame]], column: str) -> pd.DataFrame:
    """One frame of per-group results, the group in the first column ``column``."""
    out = [part.reset_index().assign(**{column: key}) for key, part in rows]
    frame = pd.concat(out, ignore_index=True)
    return frame[[column, *[c for c in frame.columns if c != column]]]
