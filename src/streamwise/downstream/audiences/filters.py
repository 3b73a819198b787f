"""The audience filter language: parsed with Lark into a typed tree, checked against the fields.

``segment in ("Weekend Campers", "Trail Enthusiasts") and clv >= 200 and not country = "GB"``

Every field is checked against :data:`~.fields.FIELDS` (unknown names get a "did you mean") and
every value against the field's type. Hostile input is refused before any work grows with it:
at most :data:`MAX_LENGTH` characters, :data:`MAX_DEPTH` levels of nesting, :data:`MAX_TERMS`
conditions and :data:`MAX_IN_VALUES` values in one ``in`` list. Values never become SQL text:
:mod:`.compiler` turns them into Ibis literals.
"""

from __future__ import annotations

import re

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from streamwise.downstream.audiences.builder import Builder
from streamwise.downstream.audiences.nodes import (
    FilterError,
    Node,
    Pos,
    position,
    quote,
    token_pos,
)

__all__ = [
    "GRAMMAR",
    "MAX_DEPTH",
    "MAX_IN_VALUES",
    "MAX_LENGTH",
    "MAX_TERMS",
    "FilterError",
    "parse_filter",
    "quote",
]

MAX_LENGTH = 10_000
MAX_DEPTH = 32
MAX_TERMS = 500
MAX_IN_VALUES = 1_000

GRAMMAR = r"""
start: or_expr
?or_expr: and_expr (_OR and_expr)+ -> or_
        | and_expr
?and_expr: not_expr (_AND not_expr)+ -> and_
         | not_expr
?not_expr: _NOT not_expr -> not_
         | "(" or_expr ")"
         | predicate
predicate: FIELD CMP value                          -> compare
         | FIELD _IN "(" value ("," value)* ")"     -> in_list
         | FIELD _NOT _IN "(" value ("," value)* ")" -> not_in_list
         | FIELD _WITHIN INT _DAYS                  -> within
         | FIELD BOUND DATE                         -> date_bound
         | FIELD TEXT_OP STRING                     -> text_match
         | FIELD _IS NULL                           -> is_null
         | FIELD _IS _NOT NULL                      -> is_not_null
         | FIELD                                    -> bare
?value: STRING | NUMBER | INT | DATE | TRUE | FALSE | NULL

_OR: "or"i
_AND: "and"i
_NOT: "not"i
_IN: "in"i
_IS: "is"i
_WITHIN: "within"i
_DAYS: "days"i | "day"i
NULL: "null"i
TRUE: "true"i
FALSE: "false"i
BOUND: "before"i | "after"i
TEXT_OP: "contains"i | "starts_with"i | "ends_with"i
CMP: "=" | "!=" | "<=" | ">=" | "<" | ">"
FIELD: /[a-z_][a-z0-9_]*/i
DATE.3: /\d{4}-\d{2}-\d{2}/
NUMBER.2: /-?\d+\.\d+([eE][+-]?\d+)?|-?\d+[eE][+-]?\d+|-\d+/
INT: /\d+/
STRING: /"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/
%ignore /[ \t\r\n]+/
"""

_PARSER = Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)
_TERMINALS = {
    "STRING": 'a "text"',
    "NUMBER": "a number",
    "INT": "a number",
    "DATE": "a date YYYY-MM-DD",
    "TRUE": "true",
    "FALSE": "false",
    "NULL": "null",
    "FIELD": "a field name",
    "LPAR": '"("',
    "RPAR": '")"',
    "COMMA": '","',
    "CMP": "a comparison (= != < <= > >=)",
    "BOUND": "before/after",
    "TEXT_OP": "contains/starts_with/ends_with",
    "_OR": "or",
    "_AND": "and",
    "_NOT": "not",
    "_IN": "in",
    "_IS": "is",
    "_WITHIN": "within",
    "_DAYS": "days",
    "$END": "the end of the filter",
}


def parse_filter(text: str) -> Node:
    """Parse and check a filter.

    Raises
    ------
    FilterError
        On a syntax error, an unknown field, a value of the wrong type, or input past the limits
        (length, nesting, number of conditions, ``in`` list size). The message gives the line,
        the column and a caret under the fault.
    """
    if not isinstance(text, str):
        raise FilterError(f"a filter is text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise FilterError(
            f"the filter is {len(text):,} characters long; the limit is {MAX_LENGTH:,} "
            "(split the audience, or use a segment instead of long lists)"
        )
    if not text.strip():
        raise FilterError('the filter is empty; write a condition such as segment = "X"')
    _check_nesting(text)
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text) from None
    _check_size(tree, text)
    return Builder(text).build(tree.children[0])


def _check_nesting(text: str) -> None:
    """Refuse deeply nested brackets before parsing (brackets inside strings do not count)."""
    depth = 0
    for match in _BRACKETS.finditer(text):
        bracket = match.group(0)
        depth += 1 if bracket == "(" else -1 if bracket == ")" else 0
        if depth > MAX_DEPTH:
            raise FilterError(
                f"the filter nests deeper than {MAX_DEPTH} levels; flatten it",
                text,
                position(text, match.start()),
            )


_BRACKETS = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|\(|\)")


def _check_size(tree: Tree[Token], text: str) -> None:
    """Depth (``not not not ...``) and number of conditions, counted without recursion."""
    terms = 0
    stack: list[tuple[Tree[Token] | Token, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, Tree):
            continue
        if depth > MAX_DEPTH * 3:
            raise FilterError(f"the filter nests deeper than {MAX_DEPTH} levels; flatten it", text)
        if node.data in _PREDICATES:
            terms += 1
            values = sum(1 for c in node.children if isinstance(c, Token)) - 1
            if values > MAX_IN_VALUES:
                raise FilterError(
                    f"the in list holds {values:,} values; the limit is {MAX_IN_VALUES:,} "
                    "(use a segment or another field instead of a long list)",
                    text,
                    token_pos(node.children[0]),
                )
        stack.extend((child, depth + 1) for child in node.children)
    if terms > MAX_TERMS:
        raise FilterError(
            f"the filter has {terms:,} conditions; the limit is {MAX_TERMS} (simplify it)", text
        )


_PREDICATES = {
    "compare", "in_list", "not_in_list", "within", "date_bound", "text_match", "is_null",
    "is_not_null", "bare",
}  # fmt: skip


def _syntax_error(exc: UnexpectedInput, text: str) -> FilterError:
    pos = Pos(int(getattr(exc, "line", 1) or 1), int(getattr(exc, "column", 1) or 1))
    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        hint = " (strings need matching quotes)" if char in "\"'" else ""
        return FilterError(f"unexpected character {char!r}{hint}", text, pos)
    expected: set[str] = set(getattr(exc, "expected", set()) or set())
    wanted = sorted({_TERMINALS.get(name, name.lower()) for name in expected})
    tail = f"; expected {', '.join(wanted)}" if wanted else ""
    if isinstance(exc, UnexpectedEOF) or (
        isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    ):
        end = position(text, len(text.rstrip()))
        return FilterError(f"the filter ends too early{tail}", text, end)
    token = exc.token if isinstance(exc, UnexpectedToken) else None
    got = f"unexpected {str(token)!r}" if token is not None else "unexpected input"
    return FilterError(f"{got}{tail}", text, pos)
