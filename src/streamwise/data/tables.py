"""Tables of the analytics database: one per contract, plus the import log and the quarantine."""

from __future__ import annotations

from typing import Any

import duckdb

from streamwise.data.contracts import CONTRACTS, Column, Contract

__all__ = [
    "IMPORTS",
    "QUARANTINE",
    "create_tables",
    "ddl",
    "replace_table",
    "table_counts",
    "table_names",
]

QUARANTINE = "_quarantine"
IMPORTS = "_imports"

_SYSTEM_DDL = (
    f"""CREATE SEQUENCE IF NOT EXISTS {IMPORTS}_seq""",
    f"""CREATE TABLE IF NOT EXISTS {IMPORTS} (
        import_id BIGINT PRIMARY KEY,
        kind VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        rows_read BIGINT NOT NULL,
        inserted BIGINT NOT NULL,
        updated BIGINT NOT NULL,
        unchanged BIGINT NOT NULL,
        quarantined BIGINT NOT NULL,
        ignored_columns VARCHAR[],
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL
    )""",
    f"""CREATE TABLE IF NOT EXISTS {QUARANTINE} (
        import_id BIGINT NOT NULL,
        kind VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        row_number BIGINT NOT NULL,
        "column" VARCHAR,
        reason VARCHAR NOT NULL,
        value VARCHAR,
        record JSON
    )""",
)


def _sql_type(type_: str) -> str:
    return "JSON" if type_ == "JSON" else type_


# Identifiers of entities there are millions of: hardly a value repeats within a row group.
_NUMEROUS = ("customers.customer_id", "orders.order_id")


def _column_ddl(contract: Contract, col: Column) -> str:
    out = f'"{col.name}" {_sql_type(col.type)}'
    unique = contract.key == (col.name,)
    if col.type == "VARCHAR" and (unique or col.references in _NUMEROUS):
        # DuckDB's default for text (a dictionary, then FSST) finds almost nothing to share in
        # such identifiers yet spends most of a large import's write time deciding so; zstd
        # writes them several times faster and stores them smaller (scans ~20% slower).
        out += " USING COMPRESSION zstd"
    return out


def ddl(contract: Contract) -> str:
    """``CREATE TABLE IF NOT EXISTS`` statement of a contract's table (identifiers from code)."""
    cols = ",\n    ".join(_column_ddl(contract, c) for c in contract.columns)
    return f'CREATE TABLE IF NOT EXISTS "{contract.kind}" (\n    {cols}\n)'


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every contract table, the import log and the quarantine if they are missing, and
    add the optional columns a newer contract has to tables made by an older version (empty,
    i.e. unknown: e.g. ``customers.ads_consent``)."""
    for statement in _SYSTEM_DDL:
        con.execute(statement)
    for contract in CONTRACTS.values():
        con.execute(ddl(contract))
        have = {r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "AND table_schema = current_schema()", [contract.kind]).fetchall()}  # fmt: skip
        for col in contract.columns:
            if col.name not in have and not col.required:  # names from code, not input
                column = _column_ddl(contract, col)
                con.execute(f'ALTER TABLE "{contract.kind}" ADD COLUMN {column}')


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per contract table, and in the quarantine."""
    out = {
        kind: con.execute(f'SELECT count(*) FROM "{kind}"').fetchall()[0][0] for kind in CONTRACTS
    }
    out[QUARANTINE] = con.execute(f"SELECT count(*) FROM {QUARANTINE}").fetchall()[0][0]
    return out


def table_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the tables in the database."""
    return {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }


def replace_table(
    con: duckdb.DuckDBPyConnection, name: str, frame: Any, allowed: tuple[str, ...]
) -> None:
    """Write ``frame`` (pandas or Arrow) as table ``name``, replacing it.

    ``name`` must be one of ``allowed``, the result tables a module declares: table names are
    never taken from input.
    """
    if name not in allowed:
        raise ValueError(f"not a result table: {name}")
    con.register("_sw_result", frame)
    try:
        sql = f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _sw_result'
        con.execute(sql).fetchall()
    finally:
        con.unregister("_sw_result")
