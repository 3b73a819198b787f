"""Audiences resolved on the demo workspace equal the same selection done by hand in pandas."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from streamwise.downstream.audiences import (
    Audience,
    FilterError,
    ResolvedAudience,
    field_table,
    fields_markdown,
    resolve,
)
from streamwise.errors import ConfigError
from streamwise.plan.store import load_plan
from streamwise.workspace import Workspace

AT = datetime(2026, 1, 1, 9, 30, tzinfo=UTC)
DAY = pd.Timestamp("2026-01-01")

Select = Callable[[pd.DataFrame], pd.Series]

CASES: list[tuple[str, Select]] = [
    (
        'segment in ("Weekend Campers", "Trail Enthusiasts") and clv >= 200 and not country = "GB"',
        lambda p: (
            p.segment.isin(["Weekend Campers", "Trail Enthusiasts"])
            & (p.clv >= 200)
            & ~(p.country == "GB")
        ),
    ),
    (
        'rfm_segment = "Champions" or (probability_alive > 0.5 and orders >= 3)',
        lambda p: (p.rfm_segment == "Champions") | ((p.probability_alive > 0.5) & (p.orders >= 3)),
    ),
    (
        "last_order within 90 days",
        lambda p: (p.last_order >= DAY - pd.Timedelta(days=90)) & (p.last_order <= DAY),
    ),
    ("email_consent", lambda p: p.email_consent == True),  # noqa: E712
    ("signup_date before 2024-01-01", lambda p: p.signup_date < pd.Timestamp("2024-01-01")),
    ('email ends_with "@EXAMPLE.com"', lambda p: p.email.str.lower().str.endswith("@example.com")),
    ("country is null", lambda p: p.country.isna()),
    ("country is not null", lambda p: p.country.notna()),
    (
        'segment not in ("Gift Shoppers") and r_score >= 4',
        lambda p: p.segment.notna() & (p.segment != "Gift Shoppers") & (p.r_score >= 4),
    ),
    (
        'first_name starts_with "a" or first_name contains "EL"',
        lambda p: (
            p.first_name.str.lower().str.startswith("a")
            | p.first_name.str.lower().str.contains("el", regex=False)
        ),
    ),
    ("orders = 0 or revenue < 100.5", lambda p: (p.orders == 0) | (p.revenue < 100.5)),
    (
        'cluster != 2 and birth_year > 1980 and acquisition_channel = "organic"',
        lambda p: (p.cluster != 2) & (p.birth_year > 1980) & (p.acquisition_channel == "organic"),
    ),
    (
        "last_order after 2025-06-30 and first_order before 2024-01-01",
        lambda p: (
            (p.last_order > pd.Timestamp("2025-06-30"))
            & (p.first_order < pd.Timestamp("2024-01-01"))
        ),
    ),
    ("not (email_consent or orders > 5)", lambda p: ~((p.email_consent == True) | (p.orders > 5))),  # noqa: E712
    ('timezone starts_with "Europe/"', lambda p: p.timezone.str.startswith("Europe/")),
    (
        "expected_purchases >= 1.5 and m_score <= 2",
        lambda p: (p.expected_purchases >= 1.5) & (p.m_score <= 2),
    ),
]


def ids(frame: pd.DataFrame) -> set[str]:
    return set(frame["customer_id"])


@pytest.mark.parametrize(("text", "select"), CASES, ids=[c[0][:40] for c in CASES])
def test_filters_select_what_pandas_selects(
    demo: Workspace, people: pd.DataFrame, text: str, select: Select
) -> None:
    got = resolve(demo, Audience("a", text), at=AT)
    expected = people.loc[select(people).fillna(False).astype(bool), "customer_id"]
    assert ids(got.members) == set(expected)
    assert got.members["customer_id"].is_monotonic_increasing
    assert got.members["customer_id"].is_unique
    assert got.population == len(people)


def test_a_filter_selects_someone_and_not_everyone(demo: Workspace) -> None:
    """Guards the comparisons above against being vacuous."""
    sizes = [resolve(demo, Audience("a", t), at=AT).size for t, _ in CASES]
    assert sum(0 < s < 2000 for s in sizes) >= len(CASES) - 3


def test_from_plan_audiences_are_the_targeted_segments(
    demo: Workspace, people: pd.DataFrame
) -> None:
    plan = load_plan(demo)
    targeted = [t.segment for t in plan.strategy.targets if t.decision == "target"]
    audiences = Audience.from_plan(plan)
    assert [a.name for a in audiences] == sorted(
        targeted, key=lambda s: next(t.rank for t in plan.strategy.targets if t.segment == s)
    )
    assert audiences
    for audience in audiences:
        members = resolve(demo, audience, at=AT).members
        assert ids(members) == set(people.loc[people.segment == audience.name, "customer_id"])
        assert set(members["segment"]) == {audience.name}
    kept = Audience.from_plan(plan, decision="maintain")
    assert {a.name for a in kept} == {
        t.segment for t in plan.strategy.targets if t.decision == "maintain"
    }


def test_from_persona_by_first_name(demo: Workspace, people: pd.DataFrame) -> None:
    plan = load_plan(demo)
    card = plan.personas[0]
    first = card.name.split(" (")[0]
    audience = Audience.from_persona(plan, first, channel="email")
    assert audience.channel == "email"
    got = resolve(demo, audience, at=AT)
    assert ids(got.members) == set(people.loc[people.segment == card.segment, "customer_id"])
    assert set(got.members["persona"]) == {card.name}
    by_hand = resolve(demo, Audience("p", f'persona = "{first}"'), at=AT)
    assert ids(by_hand.members) == ids(got.members)
    with pytest.raises(ConfigError, match="no persona 'Nobody'; its personas are"):
        Audience.from_persona(plan, "Nobody")
    with pytest.raises(FilterError, match='the plan has no persona "Nobody"'):
        resolve(demo, Audience("p", 'persona = "Nobody"'), at=AT)


def test_within_counts_back_from_the_resolve_time(demo: Workspace, people: pd.DataFrame) -> None:
    audience = Audience("recent", "last_order within 30 days")
    for at in (AT, AT - timedelta(days=200), datetime(2025, 7, 1, 23, 0)):  # naive = UTC
        day = pd.Timestamp(at.date())
        got = resolve(demo, audience, at=at)
        window = (people.last_order >= day - pd.Timedelta(days=30)) & (people.last_order <= day)
        assert ids(got.members) == set(people.loc[window, "customer_id"])
        assert got.at.tzinfo is not None
    assert resolve(demo, audience, at=datetime(2030, 1, 1, tzinfo=UTC)).size == 0
    sizes = {resolve(demo, audience, at=AT - timedelta(days=d)).size for d in (0, 60, 120)}
    assert len(sizes) > 1  # the same audience, different members at different times


def test_resolution_is_dynamic(demo: Workspace) -> None:
    audience = Audience("newcomers", 'first_name = "Zebedee"')
    assert resolve(demo, audience, at=AT).size == 0
    con = demo.duckdb()
    con.execute(
        "INSERT INTO customers (customer_id, email, first_name, email_consent) "
        "VALUES ('Z1', 'zeb@example.com', 'Zebedee', true)"
    ).fetchall()
    try:
        got = resolve(demo, audience, at=AT)
        assert list(got.members["customer_id"]) == ["Z1"]
        assert got.members.loc[0, "segment"] is None or pd.isna(got.members.loc[0, "segment"])
    finally:
        con.execute("DELETE FROM customers WHERE customer_id = 'Z1'").fetchall()


@pytest.mark.parametrize(
    "text",
    [
        'first_name = "x\'); DROP TABLE customers; --"',
        "first_name = 'x\\'; DROP TABLE customers; --'",
        'email contains "\' OR 1=1 --"',
        'segment in ("a\\"); DELETE FROM orders; --", "\'\'")',
    ],
)
def test_sql_in_values_is_just_a_value(demo: Workspace, text: str) -> None:
    con = demo.duckdb()
    before = con.execute("SELECT count(*) FROM customers").fetchall()
    orders = con.execute("SELECT count(*) FROM orders").fetchall()
    assert resolve(demo, Audience("evil", text), at=AT).size == 0
    assert con.execute("SELECT count(*) FROM customers").fetchall() == before
    assert con.execute("SELECT count(*) FROM orders").fetchall() == orders


def test_result_to_dict_and_frame(demo: Workspace) -> None:
    got = resolve(demo, Audience("consented", "email_consent", channel="email"), at=AT)
    assert isinstance(got, ResolvedAudience)
    assert got.to_dict() == {
        "name": "consented",
        "filter": "email_consent",
        "channel": "email",
        "at": AT.isoformat(),
        "members": got.size,
        "population": 2000,
    }
    frame = got.to_frame()
    assert list(frame.columns)[:4] == ["customer_id", "email", "first_name", "timezone"]
    assert frame["email_consent"].all()


def test_missing_result_tables_name_the_command(workspace: Workspace) -> None:
    assert resolve(workspace, Audience("all", "email_consent")).size == 0  # empty, but works
    for text, command in [
        ("clv > 1", "streamwise customers clv"),
        ('rfm_segment = "Lost"', "streamwise customers rfm"),
        ('segment = "X"', "streamwise customers segment"),
        ("cluster = 1", "streamwise customers segment"),
    ]:
        with pytest.raises(FilterError, match=f"run `{command}") as err:
            resolve(workspace, Audience("x", f"orders >= 0 and {text}"))
        assert err.value.column == len("orders >= 0 and ") + 1
    fields = field_table(workspace.analytics())
    assert {"orders", "last_order", "email"} <= set(fields.available)
    assert "persona" in fields.missing


def test_audience_checks_its_filter_when_made() -> None:
    with pytest.raises(FilterError, match="unknown field"):
        Audience("x", "colour = 'red'")
    with pytest.raises(ConfigError, match="needs a name"):
        Audience(" ", "email_consent")


def test_fields_docs_are_generated_from_the_table() -> None:
    table = fields_markdown()
    assert "| `last_order` | date | orders |" in table
    assert "| `segment` | text | customer_segments, segment_clusters |" in table


def test_docs_embed_the_generated_field_table() -> None:
    docs = (Path(__file__).resolve().parents[3] / "docs" / "audiences.md").read_text()
    block = docs.split("<!-- fields:start -->\n")[1].split("\n<!-- fields:end -->")[0]
    assert block == fields_markdown()
