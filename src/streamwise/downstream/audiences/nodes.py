"""The typed syntax tree of an audience filter, positions in its text, and its error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, TypeAlias

from streamwise.errors import ConfigError

__all__ = [
    "And",
    "BareField",
    "Compare",
    "DateBound",
    "FilterError",
    "InList",
    "IsNull",
    "Node",
    "Not",
    "Or",
    "Pos",
    "TextMatch",
    "Value",
    "Within",
    "position",
    "quote",
    "token_pos",
]

#: A literal value: text, a number, a day or a truth value (``None`` only to report misuse).
Value: TypeAlias = str | int | float | bool | date | None


@dataclass(frozen=True)
class Pos:
    """Line and column (both 1-based) of a node in the filter text."""

    line: int
    column: int


@dataclass(frozen=True)
class Compare:
    """``field OP value`` with OP one of ``= != < <= > >=``."""

    field: str
    op: Literal["=", "!=", "<", "<=", ">", ">="]
    value: Value
    pos: Pos


@dataclass(frozen=True)
class InList:
    """``field in (v1, v2, ...)`` or ``field not in (...)``."""

    field: str
    values: tuple[Value, ...]
    negated: bool
    pos: Pos


@dataclass(frozen=True)
class Within:
    """``field within N days``: the day lies in the N days up to the resolve time."""

    field: str
    days: int
    pos: Pos


@dataclass(frozen=True)
class DateBound:
    """``field before DAY`` or ``field after DAY`` (both strict)."""

    field: str
    op: Literal["before", "after"]
    value: date
    pos: Pos


@dataclass(frozen=True)
class TextMatch:
    """``field contains|starts_with|ends_with "text"`` (case-insensitive)."""

    field: str
    op: Literal["contains", "starts_with", "ends_with"]
    value: str
    pos: Pos


@dataclass(frozen=True)
class IsNull:
    """``field is null`` or ``field is not null``."""

    field: str
    negated: bool
    pos: Pos


@dataclass(frozen=True)
class BareField:
    """A boolean field on its own: ``email_consent``."""

    field: str
    pos: Pos


@dataclass(frozen=True)
class Not:
    """``not operand``."""

    operand: Node


@dataclass(frozen=True)
class And:
    """``a and b and ...``."""

    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """``a or b or ...``."""

    operands: tuple[Node, ...]


Node: TypeAlias = (
    Compare | InList | Within | DateBound | TextMatch | IsNull | BareField | Not | And | Or
)


class FilterError(ConfigError):
    """An audience filter is malformed, names an unknown field or mismatches a type.

    Attributes
    ----------
    text, line, column
        The filter and the 1-based position of the fault (``None`` when it has none).
    reason
        The message without the position and the caret.
    """

    def __init__(self, reason: str, text: str = "", pos: Pos | None = None) -> None:
        self.text, self.reason = text, reason
        self.line = pos.line if pos else None
        self.column = pos.column if pos else None
        message = f"audience filter: {reason}"
        if pos is not None and text:
            shown = text.splitlines()[pos.line - 1] if text.splitlines() else ""
            start = max(0, pos.column - 60)
            message = (
                f"audience filter, line {pos.line}, column {pos.column}: {reason}\n"
                f"  {shown[start : start + 120]}\n  {' ' * (pos.column - 1 - start)}^"
            )
        super().__init__(message)


def quote(text: str) -> str:
    """``text`` as a filter string literal (quotes and backslashes escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def position(text: str, offset: int) -> Pos:
    line = text.count("\n", 0, offset) + 1
    return Pos(line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def token_pos(token: Any) -> Pos:
    return Pos(int(token.line or 1), int(token.column or 1))
