"""The questionnaire: what each survey question is, read from YAML and checked.

A questionnaire names its questions and their types (``nps``, ``price_vw``, ``price_gg``, ``cbc``,
``maxdiff``, ``kano``, ``rating``, ``text``, ``single``, ``multi``); the answers themselves are
``survey_responses`` rows (one per respondent and question). Each type says what an answer must
look like; :mod:`streamwise.upstream.research.responses` holds answers to that.

Example (YAML)::

    survey_id: brand-2025
    questions:
      - {id: nps, type: nps, text: How likely are you to recommend us?}
      - {id: vw_cheap, type: price_vw, point: cheap, text: At what price is it a bargain?}
      - {id: gg_price_99, type: price_gg, price: 99, options: ["yes", "no"]}
      - {id: rate_fit, type: rating, scale: [1, 5]}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from streamwise.errors import DataError

__all__ = ["QUESTION_TYPES", "VW_POINTS", "Question", "Questionnaire", "load_questionnaire"]

QuestionType = Literal[
    "nps", "price_vw", "price_gg", "cbc", "maxdiff", "kano", "rating", "text", "single", "multi"
]
QUESTION_TYPES: tuple[str, ...] = QuestionType.__args__  # type: ignore[attr-defined]
#: The four Van Westendorp questions, from lowest to highest price.
VW_POINTS = ("too_cheap", "cheap", "expensive", "too_expensive")
_ROLES = {"cbc": ("version", "task"), "maxdiff": ("version", "best", "worst")}


class Question(BaseModel):
    """One question. Fields beyond these (``product``, ``role``, ``task``, ``feature``...) are
    kept as they are; the ones a type needs are checked."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    type: QuestionType
    text: str = ""
    options: list[Any] | dict[str, Any] | None = None
    scale: tuple[int, int] | None = None
    optional: bool = False

    def field(self, name: str, default: Any = None) -> Any:
        """A field outside the common ones (``point``, ``price``, ``role``...)."""
        return (self.model_extra or {}).get(name, default)

    @property
    def option_keys(self) -> list[str]:
        """The allowed answers of a choice question, as text."""
        if self.options is None:
            return []
        keys = self.options.keys() if isinstance(self.options, dict) else self.options
        return [str(k) for k in keys]

    @model_validator(mode="after")
    def _type_fields(self) -> Question:
        need: str | None = None
        if self.type == "nps" and self.scale not in (None, (0, 10)):
            need = "an nps question's scale is [0, 10]"
        elif self.type == "rating" and (self.scale is None or self.scale[0] >= self.scale[1]):
            need = "a rating question needs scale: [lowest, highest], e.g. [1, 5]"
        elif self.type == "price_vw" and self.field("point") not in VW_POINTS:
            need = f"a price_vw question needs point: one of {', '.join(VW_POINTS)}"
        elif self.type == "price_gg" and not _positive_number(self.field("price")):
            need = "a price_gg question needs price: the price asked about (a positive number)"
        elif self.type in ("single", "multi") and not self.option_keys:
            need = f"a {self.type} question needs options"
        elif self.type == "kano" and self.field("side") not in ("functional", "dysfunctional"):
            need = "a kano question needs side: functional or dysfunctional, and feature"
        elif self.type in _ROLES and self.field("role") not in _ROLES[self.type]:
            need = f"a {self.type} question needs role: one of {', '.join(_ROLES[self.type])}"
        if need:
            raise ValueError(need)
        return self


def _positive_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


class Questionnaire(BaseModel):
    """A survey's questions (ids unique) and its choice designs (``designs``)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    survey_id: str = "default"
    title: str = ""
    questions: list[Question] = Field(min_length=1)
    designs: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Questionnaire:
        seen: set[str] = set()
        for q in self.questions:
            if q.id in seen:
                raise ValueError(f"question id {q.id!r} is used twice")
            seen.add(q.id)
        for q in self.questions:
            at = q.field("at")
            if at is not None and at not in seen:
                raise ValueError(f"question {q.id!r} refers to {at!r} (at:), which is no question")
            design = q.field("design")
            if design is not None and design not in self.designs:
                raise ValueError(f"question {q.id!r} uses design {design!r}, not under designs:")
        points = [q.field("point") for q in self.questions if q.type == "price_vw"]
        if points and sorted(points) != sorted(VW_POINTS):
            raise ValueError(
                "Van Westendorp needs exactly one price_vw question per point "
                f"({', '.join(VW_POINTS)}); found {', '.join(map(str, points))}"
            )
        return self

    def question(self, question_id: str) -> Question:
        """The question with this id."""
        for q in self.questions:
            if q.id == question_id:
                return q
        raise DataError(f"the questionnaire has no question {question_id!r}")

    def of_type(self, kind: str) -> list[Question]:
        """The questions of one type, in questionnaire order."""
        return [q for q in self.questions if q.type == kind]


def load_questionnaire(source: str | Path | dict[str, Any]) -> Questionnaire:
    """Read a questionnaire from a YAML file, YAML text or a dictionary, and check it.

    Raises
    ------
    DataError
        The YAML cannot be read, or a question is malformed: the message names the question
        (by id, or by position when it has none) and what to write instead.
    """
    where = "questionnaire"
    if isinstance(source, dict):
        raw: Any = source
    else:
        text = str(source)
        if isinstance(source, Path) or (len(text) < 4096 and "\n" not in text):
            path = Path(text)
            if not path.exists():
                raise DataError(f"no questionnaire file at {path}; give the path of its YAML")
            where, text = str(path), path.read_text(encoding="utf-8")
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise DataError(f"{where}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise DataError(f"{where}: expected a mapping with survey_id and questions")
    try:
        return Questionnaire.model_validate(raw)
    except ValidationError as exc:
        raise DataError(f"{where}: {_describe(exc, raw)}") from None


def _describe(exc: ValidationError, raw: dict[str, Any]) -> str:
    """The first problem, with the question it is in."""
    err = exc.errors()[0]
    loc = list(err["loc"])
    message = str(err["msg"]).removeprefix("Value error, ")
    if len(loc) >= 2 and loc[0] == "questions" and isinstance(loc[1], int):
        entry = (raw.get("questions") or [None])[loc[1]] if loc[1] < len(raw["questions"]) else None
        qid = entry.get("id") if isinstance(entry, dict) else None
        name = f"question {qid!r}" if qid else f"question #{loc[1] + 1}"
        field = ".".join(str(p) for p in loc[2:])
        return f"{name}{' field ' + field if field else ''}: {message}"
    field = ".".join(str(p) for p in loc)
    return f"{field + ': ' if field else ''}{message}"
