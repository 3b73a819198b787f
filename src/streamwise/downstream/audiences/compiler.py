"""Compile a checked filter tree into an Ibis boolean expression over the field table.

Values become Ibis literals, which the backend renders as escaped constants; nothing from the
filter text is ever pasted into SQL. Each condition is false where its field is null (missing),
and ``not`` turns true into false and back, so ``not country = "GB"`` keeps customers whose
country is unknown while ``country != "GB"`` does not.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from streamwise.downstream.audiences.fields import FieldTable
from streamwise.downstream.audiences.filters import FilterError, parse_filter, quote
from streamwise.downstream.audiences.nodes import (
    And,
    BareField,
    Compare,
    DateBound,
    InList,
    IsNull,
    Node,
    Not,
    Or,
    Pos,
    TextMatch,
    Value,
    Within,
)

__all__ = ["compile_filter", "filter_fields", "resolve_day"]

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_TYPES = {"text": "string", "integer": "float64", "number": "float64", "date": "date"}


def resolve_day(at: datetime) -> date:
    """The day (UTC) that ``within N days`` counts back from; naive times are taken as UTC."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).date()


def filter_fields(node: Node) -> list[str]:
    """The fields a filter tree uses, in order of first use."""
    seen: dict[str, None] = {}
    stack: list[Node] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, And | Or):
            stack.extend(reversed(item.operands))
        elif isinstance(item, Not):
            stack.append(item.operand)
        else:
            seen.setdefault(item.field, None)
    return list(seen)


def compile_filter(text: str, fields: FieldTable, *, at: datetime) -> ir.BooleanValue:
    """The filter ``text`` as a boolean Ibis expression over ``fields.table``.

    Parameters
    ----------
    text
        The filter (see ``docs/audiences.md``).
    fields
        The workspace's field table (:func:`~.fields.field_table`).
    at
        The resolve time; ``within N days`` counts back from its day.

    Raises
    ------
    FilterError
        When the filter is malformed (see :func:`~.filters.parse_filter`), uses a field this
        workspace cannot provide yet (the message names the command to run) or names a persona
        the plan does not have.
    """
    return _Compiler(text, fields, resolve_day(at)).compile(parse_filter(text))


class _Compiler:
    def __init__(self, text: str, fields: FieldTable, day: date) -> None:
        self.text, self.fields, self.day = text, fields, day

    def compile(self, node: Node) -> ir.BooleanValue:
        if isinstance(node, And | Or):
            return _balanced([self.compile(n) for n in node.operands], isinstance(node, And))
        if isinstance(node, Not):
            return ~self.compile(node.operand)
        return self.predicate(node)

    def column(self, name: str, pos: Pos) -> ir.Value:
        if name not in self.fields.available:
            raise FilterError(self.fields.missing[name], self.text, pos)
        return self.fields.table[name]

    def literal(self, name: str, value: Value, pos: Pos) -> ir.Value:
        spec = self.fields.available[name]
        if name == "persona" and isinstance(value, str):
            full = self.fields.personas.get(value)
            if full is None:
                known = ", ".join(quote(p) for p in dict.fromkeys(self.fields.personas.values()))
                raise FilterError(
                    f"the plan has no persona {quote(value)}; its personas are: {known}",
                    self.text,
                    pos,
                )
            value = full
        if spec.type == "boolean":
            return ibis.literal(bool(value), type="boolean")
        if spec.type == "integer" and isinstance(value, int):
            return ibis.literal(value, type="int64")
        return ibis.literal(value, type=_TYPES[spec.type])

    def predicate(self, node: Node) -> ir.BooleanValue:
        assert not isinstance(node, And | Or | Not)
        col: Any = self.column(node.field, node.pos)
        if isinstance(node, IsNull):
            return col.notnull() if node.negated else col.isnull()
        if isinstance(node, BareField):
            return col.fill_null(False)
        if isinstance(node, Compare):
            expr = _OPS[node.op](col, self.literal(node.field, node.value, node.pos))
        elif isinstance(node, InList):
            expr = col.isin([self.literal(node.field, v, node.pos) for v in node.values])
            expr = ~expr if node.negated else expr
        elif isinstance(node, Within):
            start = ibis.literal(self.day - timedelta(days=node.days), type="date")
            expr = (col >= start) & (col <= ibis.literal(self.day, type="date"))
        elif isinstance(node, DateBound):
            bound = ibis.literal(node.value, type="date")
            expr = col < bound if node.op == "before" else col > bound
        else:
            assert isinstance(node, TextMatch)
            needle = ibis.literal(node.value.lower(), type="string")
            lowered = col.lower()
            expr = {
                "contains": lambda: lowered.contains(needle),
                "starts_with": lambda: lowered.startswith(needle),
                "ends_with": lambda: lowered.endswith(needle),
            }[node.op]()
        return expr.fill_null(False)  # type: ignore[no-any-return]


def _balanced(parts: Sequence[ir.BooleanValue], conjunction: bool) -> ir.BooleanValue:
    """``a & b & c ...`` as a balanced tree, so long chains compile without deep recursion."""
    if len(parts) == 1:
        return parts[0]
    middle = len(parts) // 2
    left, right = _balanced(parts[:middle], conjunction), _balanced(parts[middle:], conjunction)
    return (left & right) if conjunction else (left | right)
