from __future__ import annotations

from pathlib import Path

import pytest

from streamwise.data.contracts import CONTRACTS, get_contract, import_order, render_markdown
from streamwise.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

KINDS = {
    "customers", "orders", "order_lines", "products", "events", "touchpoints", "spend",
    "survey_responses", "competitors", "market_series",
}  # fmt: skip


def test_every_input_kind_of_the_architecture_has_a_contract() -> None:
    assert set(CONTRACTS) == KINDS


@pytest.mark.parametrize(
    ("kind", "columns"),
    [
        ("customers", ["customer_id", "email", "signup_date", "country"]),
        ("orders", ["order_id", "customer_id", "order_date", "amount", "currency", "channel"]),
        ("touchpoints", ["customer_id", "ts", "channel", "campaign"]),
        ("spend", ["period", "channel", "amount"]),
        ("events", ["message_id", "type", "user_id", "anonymous_id", "event", "timestamp"]),
    ],
)
def test_core_column_names_that_later_parts_rely_on(kind: str, columns: list[str]) -> None:
    assert set(columns) <= set(get_contract(kind).names)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_keys_and_references_name_real_columns(kind: str) -> None:
    c = get_contract(kind)
    assert set(c.key) <= set(c.names)
    assert len(set(c.names)) == len(c.names)
    for col in c.columns:
        if col.references:
            ref_kind, ref_col = col.references.split(".")
            assert ref_col in get_contract(ref_kind).key


def test_import_order_puts_referenced_kinds_first() -> None:
    order = import_order()
    assert sorted(order) == sorted(KINDS)
    for kind in order:
        for dep in get_contract(kind).depends_on:
            assert order.index(dep) < order.index(kind), (dep, kind)


def test_unknown_kind_names_the_kinds() -> None:
    with pytest.raises(ConfigError, match="customers"):
        get_contract("ordres")


def test_docs_data_md_is_generated_from_the_contracts() -> None:
    docs = (ROOT / "docs" / "data.md").read_text()
    assert docs == render_markdown(), "run `make docs` to regenerate docs/data.md"
    for kind in KINDS:
        assert f"## `{kind}`" in docs
