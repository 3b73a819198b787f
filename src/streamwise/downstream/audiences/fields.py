"""The fields an audience filter can use: one row per customer, declared once.

:data:`FIELDS` names every field with its type, the table it comes from and a description; the
filter compiler, the error messages and the docs (:func:`fields_markdown`) all read it.
:func:`field_table` builds the Ibis table (customers left-joined to the result tables that exist),
so a filter runs in the analytics database and only members' rows come back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend
from ibis.common.exceptions import TableNotFound

from streamwise.errors import ConfigError

__all__ = [
    "FIELDS",
    "SOURCES",
    "FieldSpec",
    "FieldTable",
    "FieldType",
    "Source",
    "field_table",
    "fields_markdown",
]

FieldType = Literal["text", "integer", "number", "date", "boolean"]


@dataclass(frozen=True)
class Source:
    """Where fields come from: the analytics tables needed and the command that makes them."""

    name: str
    tables: tuple[str, ...]
    command: str


@dataclass(frozen=True)
class FieldSpec:
    """One filter field: its name, type, source (a key of :data:`SOURCES`) and meaning."""

    name: str
    type: FieldType
    source: str
    description: str


#: The sources of fields, by name (table names are fixed here, never taken from input).
SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source("customers", ("customers",), "streamwise import customers FILE"),
        Source("clv", ("customer_clv",), "streamwise customers clv"),
        Source("rfm", ("customer_rfm",), "streamwise customers rfm"),
        Source("clusters", ("customer_segments",), "streamwise customers segment"),
        Source(
            "segments",
            ("customer_segments", "segment_clusters"),
            "streamwise customers segment, then streamwise plan build",
        ),
        Source("orders", ("orders",), "streamwise import orders FILE"),
        Source("plan", ("customer_segments", "segment_clusters"), "streamwise plan build"),
    )
}

#: Every field, in the order the docs list them.
FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("customer_id", "text", "customers", "the customer's id"),
    FieldSpec("email", "text", "customers", "e-mail address as imported"),
    FieldSpec("first_name", "text", "customers", "first name"),
    FieldSpec("country", "text", "customers", "country code, e.g. GB"),
    FieldSpec("timezone", "text", "customers", "IANA time zone, e.g. Europe/London"),
    FieldSpec("signup_date", "date", "customers", "day the customer signed up"),
    FieldSpec("birth_year", "integer", "customers", "year of birth"),
    FieldSpec("acquisition_channel", "text", "customers", "channel that acquired the customer"),
    FieldSpec("email_consent", "boolean", "customers", "consent to marketing e-mail"),
    FieldSpec("clv", "number", "clv", "discounted customer lifetime value"),
    FieldSpec("probability_alive", "number", "clv", "P(alive) from the purchase model"),
    FieldSpec("expected_purchases", "number", "clv", "expected purchases over the horizon"),
    FieldSpec("expected_spend", "number", "clv", "expected spend per purchase"),
    FieldSpec("rfm_segment", "text", "rfm", "RFM segment, e.g. Champions, At Risk"),
    FieldSpec("r_score", "integer", "rfm", "recency score 1-5"),
    FieldSpec("f_score", "integer", "rfm", "frequency score 1-5"),
    FieldSpec("m_score", "integer", "rfm", "monetary score 1-5"),
    FieldSpec("recency_days", "integer", "rfm", "days since the last order (at RFM time)"),
    FieldSpec("cluster", "integer", "clusters", "behavioural cluster number"),
    FieldSpec("segment", "text", "segments", "named segment, e.g. Weekend Campers"),
    FieldSpec(
        "persona",
        "text",
        "plan",
        'persona of the segment, full name or first name ("Wendy")',
    ),
    FieldSpec("orders", "integer", "orders", "number of orders (0 without orders)"),
    FieldSpec("revenue", "number", "orders", "sum of order amounts (0 without orders)"),
    FieldSpec("first_order", "date", "orders", "day of the first order"),
    FieldSpec("last_order", "date", "orders", "day of the last order"),
)

_BY_NAME = {f.name: f for f in FIELDS}
_IBIS_TYPES: dict[FieldType, str] = {
    "text": "string",
    "integer": "int64",
    "number": "float64",
    "date": "date",
    "boolean": "boolean",
}


@dataclass(frozen=True)
class FieldTable:
    """The per-customer table of fields and what is (not) available in this workspace.

    Attributes
    ----------
    table
        One row per customer with a column per available field.
    available
        The available fields by name.
    missing
        For each unavailable field, what to run to make it available.
    personas
        Persona names accepted as values of ``persona``: full name → full name and first
        name → full name.
    """

    table: ir.Table
    available: Mapping[str, FieldSpec]
    missing: Mapping[str, str]
    personas: Mapping[str, str] = field(default_factory=dict)


def _has_table(backend: BaseBackend, name: str) -> bool:
    try:
        backend.table(name)
    except TableNotFound:
        return False
    return True


def _persona_aliases(personas: Mapping[str, str]) -> dict[str, str]:
    """Full name and first name ("Wendy (Weekend Campers)" → "Wendy") of each persona."""
    aliases: dict[str, str] = {}
    for full in personas.values():
        short = full.split(" (")[0].strip()
        aliases.setdefault(short, full)
    for full in personas.values():
        aliases[full] = full
    return aliases


def _cast(expr: ir.Value, name: str) -> ir.Value:
    return expr.cast(_IBIS_TYPES[_BY_NAME[name].type]).name(name)


def field_table(backend: BaseBackend, *, personas: Mapping[str, str] | None = None) -> FieldTable:
    """Build the field table over the analytics tables that exist.

    Parameters
    ----------
    backend
        The workspace's Ibis backend (``Workspace.analytics()``).
    personas
        Named segment → persona name, from the plan (``persona`` is unavailable without it).

    Raises
    ------
    ConfigError
        When the workspace has no ``customers`` table.
    """
    present = {t for s in SOURCES.values() for t in s.tables if _has_table(backend, t)}
    if "customers" not in present:
        raise ConfigError(
            "the workspace has no customers table; import customers with "
            "`streamwise import customers FILE` before resolving audiences"
        )
    c = backend.table("customers")
    names = [f.name for f in FIELDS if f.source == "customers"]
    t = c.select(*[_cast(c[n], n) for n in names])
    sources = {n for n, s in SOURCES.items() if set(s.tables) <= present}
    if not personas:
        sources.discard("plan")

    def join(right: ir.Table, columns: list[str]) -> None:
        nonlocal t
        joined = t.left_join(right, t.customer_id == right._key)
        t = joined.select(*[joined[n] for n in names], *[joined[n] for n in columns])
        names.extend(columns)

    if "clv" in sources:
        k = backend.table("customer_clv")
        cols = ["clv", "probability_alive", "expected_purchases", "expected_spend"]
        join(k.select(k.customer_id.name("_key"), *[_cast(k[n], n) for n in cols]), cols)
    if "rfm" in sources:
        r = backend.table("customer_rfm")
        cols = ["r_score", "f_score", "m_score", "recency_days"]
        join(
            r.select(
                r.customer_id.name("_key"),
                _cast(r.segment, "rfm_segment"),
                *[_cast(r[n], n) for n in cols],
            ),
            ["rfm_segment", *cols],
        )
    if "clusters" in sources:
        s = backend.table("customer_segments")
        cols = ["cluster"]
        select: list[Any] = [s.customer_id.name("_key"), _cast(s.segment, "cluster")]
        if "segments" in sources:
            n = backend.table("segment_clusters")
            s = s.left_join(n, s.segment == n.cluster)
            select = [s.customer_id.name("_key"), _cast(s.segment, "cluster")]
            select.append(_cast(s.segment_right, "segment"))
            cols.append("segment")
        join(s.select(*select), cols)
    if "orders" in sources:
        o = backend.table("orders")
        per = o.group_by(o.customer_id.name("_key")).aggregate(
            _orders=o.count(),
            _revenue=o.amount.sum(),
            first_order=o.order_date.min().cast("date"),
            last_order=o.order_date.max().cast("date"),
        )
        join(per, ["_orders", "_revenue", "first_order", "last_order"])
        t = t.mutate(
            orders=t._orders.fill_null(0).cast("int64"),
            revenue=t._revenue.fill_null(0).cast("float64"),
        ).drop("_orders", "_revenue")
        names = [n for n in names if n not in {"_orders", "_revenue"}] + ["orders", "revenue"]
    aliases: dict[str, str] = {}
    if "plan" in sources and personas and "segment" in names:
        aliases = _persona_aliases(personas)
        branches = [
            (t.segment == ibis.literal(seg), ibis.literal(name)) for seg, name in personas.items()
        ]
        t = t.mutate(persona=ibis.cases(*branches, else_=ibis.null("string")))
        names.append("persona")
    available = {f.name: f for f in FIELDS if f.name in names}
    missing = {
        f.name: _missing_hint(f, present, has_plan=bool(personas))
        for f in FIELDS
        if f.name not in available
    }
    return FieldTable(table=t, available=available, missing=missing, personas=aliases)


def _missing_hint(spec: FieldSpec, present: set[str], *, has_plan: bool) -> str:
    source = SOURCES[spec.source]
    if spec.source == "plan" and set(source.tables) <= present and not has_plan:
        return f"field {spec.name!r} needs a saved plan with personas; run `{source.command}`"
    tables = ", ".join(t for t in source.tables if t not in present) or ", ".join(source.tables)
    return (
        f"field {spec.name!r} comes from the table {tables}, which this workspace does not "
        f"have yet; run `{source.command}` first"
    )


def fields_markdown() -> str:
    """The fields as a Markdown table (the docs page embeds this)."""
    lines = ["| field | type | from | meaning |", "| --- | --- | --- | --- |"]
    for f in FIELDS:
        tables = ", ".join(SOURCES[f.source].tables)
        lines.append(f"| `{f.name}` | {f.type} | {tables} | {f.description} |")
    return "\n".join(lines)
