"""The filter language: valid forms, precedence, every kind of error with its position, and
hostile input refused quickly."""

from __future__ import annotations

import time
from datetime import date

import pytest

from streamwise.downstream.audiences import FilterError, parse_filter, quote
from streamwise.downstream.audiences.filters import MAX_DEPTH, MAX_IN_VALUES, MAX_LENGTH
from streamwise.downstream.audiences.nodes import (
    And,
    BareField,
    Compare,
    DateBound,
    InList,
    IsNull,
    Not,
    Or,
    Pos,
    TextMatch,
    Within,
)


def test_the_examples_of_the_issue_parse() -> None:
    tree = parse_filter(
        'segment in ("Weekend Campers", "Trail Enthusiasts") and clv >= 200 and not country = "GB"'
    )
    assert tree == And(
        (
            InList("segment", ("Weekend Campers", "Trail Enthusiasts"), False, Pos(1, 1)),
            Compare("clv", ">=", 200, Pos(1, 57)),
            Not(Compare("country", "=", "GB", Pos(1, 76))),
        )
    )
    assert parse_filter("last_order within 90 days") == Within("last_order", 90, Pos(1, 1))
    assert parse_filter("email_consent") == BareField("email_consent", Pos(1, 1))
    assert parse_filter('persona = "Wendy"') == Compare("persona", "=", "Wendy", Pos(1, 1))
    assert parse_filter("signup_date before 2024-01-01") == DateBound(
        "signup_date", "before", date(2024, 1, 1), Pos(1, 1)
    )
    assert parse_filter('email ends_with "@example.com"') == TextMatch(
        "email", "ends_with", "@example.com", Pos(1, 1)
    )
    assert parse_filter("country is null") == IsNull("country", False, Pos(1, 1))
    assert parse_filter("country is not null") == IsNull("country", True, Pos(1, 1))
    assert parse_filter('segment not in ("A", "B")') == InList(
        "segment", ("A", "B"), True, Pos(1, 1)
    )


def test_and_binds_tighter_than_or_and_brackets_override() -> None:
    a, b, c = "orders >= 3", 'country = "GB"', "email_consent"
    loose = parse_filter(f"{a} or {b} and {c}")
    assert isinstance(loose, Or)
    assert isinstance(loose.operands[1], And)
    tight = parse_filter(f"({a} or {b}) and {c}")
    assert isinstance(tight, And)
    assert isinstance(tight.operands[0], Or)
    negated = parse_filter(f"not {a} and {c}")  # not binds tightest
    assert isinstance(negated, And)
    assert isinstance(negated.operands[0], Not)
    assert isinstance(parse_filter(f"{a} AND {b} Or {c}"), Or)  # keywords ignore case


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('first_name = "O\\"Brien"', 'O"Brien'),
        ("first_name = 'O\\'Brien'", "O'Brien"),
        ("first_name = 'a\\\\b'", "a\\b"),
        ('first_name = "\\u00e9"', "é"),
        ("first_name = 'say \"hi\"'", 'say "hi"'),
        ("clv > -1.5e2", -150.0),
        ("clv > 0.5", 0.5),
        ("orders = 3", 3),
        ("signup_date = 2024-02-29", date(2024, 2, 29)),
        ("email_consent = false", False),
        ("email_consent != TRUE", True),
    ],
)
def test_literals(text: str, value: object) -> None:
    tree = parse_filter(text)
    assert isinstance(tree, Compare)
    assert tree.value == value
    assert type(tree.value) is type(value)


def test_quote_round_trips_any_text() -> None:
    for text in ['Weekend "Campers"', "O'Brien", "back\\slash", "two\nlines", "x'); DROP --"]:
        tree = parse_filter(f"segment = {quote(text)}")
        assert isinstance(tree, Compare)
        assert tree.value == text


@pytest.mark.parametrize(
    ("text", "match", "line", "column"),
    [
        ('segmnt = "x"', "unknown field 'segmnt'; did you mean 'segment'\\?", 1, 1),
        ('clv = "x"', 'clv is number but "x" is text', 1, 7),
        ('country > "A"', "country is text; it takes = or !=", 1, 9),
        ("country", "country is text, not true/false", 1, 1),
        ("segment in (", "the filter ends too early; expected", 1, 13),
        ("orders >= 3 and\n  clv >", "ends too early", 2, 8),
        ('country = "GB', "unexpected character", 1, 11),
        ("country = null", "country is null", 1, 11),
        ("signup_date before 2024-02-30", "not a calendar date", 1, 20),
        ("clv within 3 days", "within N days works on date fields", 1, 1),
        ("email contains 3", "unexpected '3'", 1, 16),
        ('signup_date = "2024-01-01"', "dates are unquoted", 1, 15),
        ('country = "\\q"', "unknown escape", 1, 12),
        ('"GB" = country', "unexpected", 1, 1),
        ("orders >= 3 3", "unexpected '3'", 1, 13),
        ("email_consent = 1", "email_consent is boolean", 1, 17),
        ("last_order within 99999 days", "too far", 1, 19),
        ("orders ~ 3", "unexpected character '~'", 1, 8),
    ],
)
def test_errors_say_what_and_where(text: str, match: str, line: int, column: int) -> None:
    with pytest.raises(FilterError, match=match) as err:
        parse_filter(text)
    assert (err.value.line, err.value.column) == (line, column)
    message = str(err.value)
    assert f"line {line}, column {column}" in message
    shown, caret = message.splitlines()[-2:]
    assert shown == "  " + text.splitlines()[line - 1]
    assert caret == " " * (2 + column - 1) + "^"


def test_unknown_field_lists_the_known_ones() -> None:
    with pytest.raises(FilterError) as err:
        parse_filter('nmae = "x"')
    assert "customer_id, email, first_name" in str(err.value)
    assert "last_order" in str(err.value)


def test_empty_filter_is_refused() -> None:
    with pytest.raises(FilterError, match="empty"):
        parse_filter("   ")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("x" * (MAX_LENGTH + 1), "characters long; the limit is 10,000"),
        ("(" * 4000 + "email_consent" + ")" * 4000, f"deeper than {MAX_DEPTH}"),
        ("(" * (MAX_DEPTH + 1) + "email_consent" + ")" * (MAX_DEPTH + 1), "deeper"),
        ("not " * 2400 + "email_consent", "deeper"),
        (" or ".join(["orders=1"] * 700), "700 conditions; the limit is 500"),
        ("segment in (" + ",".join(['"a"'] * (MAX_IN_VALUES + 1)) + ")", "in list holds 1,001"),
        ("(" * 3000, "deeper"),
    ],
)
def test_hostile_input_is_refused_quickly(text: str, match: str) -> None:
    started = time.perf_counter()
    with pytest.raises(FilterError, match=match):
        parse_filter(text)
    assert time.perf_counter() - started < 0.5


def test_limits_leave_room_for_real_filters() -> None:
    nested = "(" * MAX_DEPTH + "email_consent" + ")" * MAX_DEPTH
    assert parse_filter(nested) == BareField("email_consent", Pos(1, MAX_DEPTH + 1))
    values = ",".join(f'"s{i}"' for i in range(MAX_IN_VALUES))
    tree = parse_filter(f"segment in ({values})")
    assert isinstance(tree, InList)
    assert len(tree.values) == MAX_IN_VALUES


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    tree = parse_filter("first_name = " + quote("(" * 100))
    assert isinstance(tree, Compare)


def test_non_text_filter_is_refused() -> None:
    with pytest.raises(FilterError, match="a filter is text"):
        parse_filter(42)  # type: ignore[arg-type]
