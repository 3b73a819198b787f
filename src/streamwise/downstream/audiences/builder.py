"""Build the typed tree from Lark's parse tree, checking every field and value type."""

from __future__ import annotations

import difflib
import math
import re
from datetime import date

from lark import Token, Tree

from streamwise.downstream.audiences.fields import FIELDS, FieldSpec
from streamwise.downstream.audiences.nodes import (
    And,
    BareField,
    Compare,
    DateBound,
    FilterError,
    InList,
    IsNull,
    Node,
    Not,
    Or,
    Pos,
    TextMatch,
    Value,
    Within,
    quote,
    token_pos,
)

__all__ = ["MAX_DAYS", "Builder"]

MAX_DAYS = 36_600
_FIELDS: dict[str, FieldSpec] = {f.name: f for f in FIELDS}
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r"}


class Builder:
    """Lark tree → typed nodes, checking fields and value types (iteratively for and/or/not)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def build(self, tree: Tree[Token]) -> Node:
        if tree.data in ("or_", "and_"):
            parts = tuple(self.build(child) for child in tree.children)  # depth is bounded
            return Or(parts) if tree.data == "or_" else And(parts)
        if tree.data == "not_":
            return Not(self.build(tree.children[0]))
        return self.predicate(tree)

    def fail(self, reason: str, pos: Pos) -> FilterError:
        return FilterError(reason, self.text, pos)

    def field(self, token: Token) -> FieldSpec:
        name = str(token)
        spec = _FIELDS.get(name) or _FIELDS.get(name.lower())
        if spec is None:
            close = difflib.get_close_matches(name.lower(), list(_FIELDS), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise self.fail(
                f"unknown field {name!r}; {hint}the fields are: {', '.join(_FIELDS)}",
                token_pos(token),
            )
        return spec

    def value(self, token: Token) -> Value:
        kind, raw = token.type, str(token)
        if kind == "STRING":
            return self.unescape(token)
        if kind == "DATE":
            try:
                return date.fromisoformat(raw)
            except ValueError:
                raise self.fail(f"{raw} is not a calendar date", token_pos(token)) from None
        if kind in ("TRUE", "FALSE"):
            return kind == "TRUE"
        if kind == "NULL":
            return None
        number = float(raw) if any(c in raw for c in ".eE") else int(raw)
        if isinstance(number, float) and not math.isfinite(number):
            raise self.fail(f"{raw} is not a finite number", token_pos(token))
        return number

    def unescape(self, token: Token) -> str:
        body, out, i = str(token)[1:-1], [], 0
        while i < len(body):
            char = body[i]
            if char != "\\":
                out.append(char)
                i += 1
                continue
            nxt = body[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
            elif nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
            else:
                pos = token_pos(token)
                raise self.fail(
                    f"unknown escape \\{nxt} in a string; use \\\\ \\\" \\' \\n \\t or \\uXXXX",
                    Pos(pos.line, pos.column + 1 + i),
                )
        return "".join(out)

    def predicate(self, tree: Tree[Token]) -> Node:
        head = tree.children[0]
        assert isinstance(head, Token)
        spec, pos, kind = self.field(head), token_pos(head), tree.data
        rest = [c for c in tree.children[1:] if isinstance(c, Token)]
        if kind == "bare":
            if spec.type != "boolean":
                raise self.fail(
                    f"{spec.name} is {spec.type}, not true/false; compare it, e.g. "
                    f"{spec.name} {_example(spec)}",
                    pos,
                )
            return BareField(spec.name, pos)
        if kind in ("is_null", "is_not_null"):
            return IsNull(spec.name, kind == "is_not_null", pos)
        if kind == "compare":
            op, value = str(rest[0]), self.value(rest[1])
            self.check(spec, value, token_pos(rest[1]))
            if op not in ("=", "!=") and spec.type in ("text", "boolean"):
                raise self.fail(
                    f"{spec.name} is {spec.type}; it takes = or != (and in, contains, "
                    "starts_with, ends_with for text), not " + op,
                    token_pos(rest[0]),
                )
            return Compare(spec.name, op, value, pos)  # type: ignore[arg-type]
        if kind in ("in_list", "not_in_list"):
            values = tuple(self.value(t) for t in rest)
            for token, value in zip(rest, values, strict=True):
                self.check(spec, value, token_pos(token))
            return InList(spec.name, values, kind == "not_in_list", pos)
        if kind == "within":
            self.need(spec, "date", "within N days", pos)
            days = int(str(rest[0]))
            if days > MAX_DAYS:
                raise self.fail(f"{days} days is too far; at most {MAX_DAYS}", token_pos(rest[0]))
            return Within(spec.name, days, pos)
        if kind == "date_bound":
            self.need(spec, "date", str(rest[0]).lower(), pos)
            value = self.value(rest[1])
            assert isinstance(value, date)
            return DateBound(spec.name, str(rest[0]).lower(), value, pos)  # type: ignore[arg-type]
        op = str(rest[0]).lower()
        self.need(spec, "text", op, pos)
        return TextMatch(spec.name, op, self.unescape(rest[1]), pos)  # type: ignore[arg-type]

    def need(self, spec: FieldSpec, kind: str, op: str, pos: Pos) -> None:
        if spec.type != kind:
            raise self.fail(f"{op} works on {kind} fields; {spec.name} is {spec.type}", pos)

    def check(self, spec: FieldSpec, value: Value, pos: Pos) -> None:
        if value is None:
            raise self.fail(f"compare with null as `{spec.name} is null` or `is not null`", pos)
        ok = {
            "text": isinstance(value, str),
            "integer": isinstance(value, int | float) and not isinstance(value, bool),
            "number": isinstance(value, int | float) and not isinstance(value, bool),
            "date": isinstance(value, date),
            "boolean": isinstance(value, bool),
        }[spec.type]
        if not ok:
            raise self.fail(
                f"{spec.name} is {spec.type} but {_describe(value)} is {_kind(value)}; "
                f"write e.g. {spec.name} {_example(spec)}",
                pos,
            )


def _kind(value: Value) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, date):
        return "a date"
    return "text"


def _describe(value: Value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return quote(value) if isinstance(value, str) else str(value)


def _example(spec: FieldSpec) -> str:
    return {
        "text": '= "..."',
        "integer": ">= 3",
        "number": ">= 200",
        "date": "before 2024-01-01 (dates are unquoted)",
        "boolean": "= true",
    }[spec.type]
