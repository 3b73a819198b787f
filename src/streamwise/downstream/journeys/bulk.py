"""Writing many rows in one statement.

On PostgreSQL each column travels as one array parameter in psycopg's binary format and the
statement unnests them (``INSERT … SELECT … FROM unnest(…)``, ``UPDATE … FROM unnest(…)``):
a handful of parameters whatever the number of rows, where a multi-row ``VALUES`` list costs
psycopg about as much to parse as the server to run (the event writer does the same). The SQL
is made from the table's own column names and types; every value is a bound parameter. On
SQLite (in-process, no network) SQLAlchemy's executemany is as fast and is used instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Connection, Table, insert, update
from sqlalchemy.dialects import sqlite

__all__ = ["insert_rows", "update_rows"]


def _pg_type(table: Table, name: str, con: Connection) -> tuple[str, str]:
    """The array type a column's values travel in, and the cast back to the column's type."""
    col = table.c[name]
    if isinstance(col.type, JSON):
        return "text[]", "::json"
    return f"{col.type.compile(dialect=con.dialect)}[]", ""


def _arrays(rows: Sequence[dict[str, Any]], names: list[str], table: Table) -> dict[str, list]:
    out = {}
    for n in names:
        values = [r.get(n) for r in rows]
        if isinstance(table.c[n].type, JSON):
            values = [None if v is None else json.dumps(v, default=str) for v in values]
        out[f"p_{n}"] = values
    return out


def insert_rows(
    con: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    returning: Sequence[str] = (),
    conflict: Sequence[str] | None = None,
    replace: bool = False,
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` (dicts with the same keys) and return the ``returning`` columns of the
    rows inserted (in the order given on PostgreSQL). ``conflict`` names the key of
    ``ON CONFLICT``: ``replace`` updates the other columns there, else the row is skipped
    (``conflict=()``: skipped on any unique key)."""
    if not rows:
        return []
    names = list(rows[0])
    if con.dialect.name != "postgresql":
        stmt: Any = sqlite.insert(table) if conflict is not None else insert(table)
        if conflict is not None:
            stmt = (stmt.on_conflict_do_update(index_elements=list(conflict), set_={
                n: stmt.excluded[n] for n in names if n not in conflict})
                if replace else stmt.on_conflict_do_nothing())  # fmt: skip
        if returning:
            stmt = stmt.returning(*(table.c[n] for n in returning))
            return [tuple(r) for r in con.execute(stmt, list(rows))]
        con.execute(stmt, list(rows))
        return []
    quote = con.dialect.identifier_preparer.quote
    types = {n: _pg_type(table, n, con) for n in names}
    arrays = ", ".join(f"%(p_{n})b::{types[n][0]}" for n in names)
    columns = ", ".join(quote(n) for n in names)
    select = ", ".join(f"v.{quote(n)}{types[n][1]}" for n in names)
    sql = (f"INSERT INTO {quote(table.name)} ({columns}) SELECT {select} "  # noqa: S608
           f"FROM unnest({arrays}) AS v({columns})")  # fmt: skip
    if conflict is not None:
        target = f"({', '.join(quote(n) for n in conflict)})" if conflict else ""
        if replace:
            sets = ", ".join(f"{quote(n)} = excluded.{quote(n)}" for n in names
                             if n not in conflict)  # fmt: skip
            sql += f" ON CONFLICT {target} DO UPDATE SET {sets}"
        else:
            sql += f" ON CONFLICT {target} DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(quote(n) for n in returning)
        return [tuple(r) for r in con.exec_driver_sql(sql, _arrays(rows, names, table))]
    con.exec_driver_sql(sql, _arrays(rows, names, table))
    return []


def update_rows(con: Connection, table: Table, rows: Sequence[dict[str, Any]], key: str) -> None:
    """Set the other columns of each row whose ``key`` column equals the row's ``key``."""
    if not rows:
        return
    names = list(rows[0])
    rest = [n for n in names if n != key]
    if con.dialect.name != "postgresql":
        from sqlalchemy import bindparam

        stmt = (update(table).where(table.c[key] == bindparam(f"k_{key}"))
                .values({n: bindparam(f"k_{n}") for n in rest}))  # fmt: skip
        con.execute(stmt, [{f"k_{n}": r[n] for n in names} for r in rows])
        return
    quote = con.dialect.identifier_preparer.quote
    types = {n: _pg_type(table, n, con) for n in names}
    arrays = ", ".join(f"%(p_{n})b::{types[n][0]}" for n in names)
    columns = ", ".join(quote(n) for n in names)
    sets = ", ".join(f"{quote(n)} = v.{quote(n)}{types[n][1]}" for n in rest)
    t = quote(table.name)
    sql = (f"UPDATE {t} SET {sets} FROM unnest({arrays}) AS v({columns}) "  # noqa: S608
           f"WHERE {t}.{quote(key)} = v.{quote(key)}")  # fmt: skip
    con.exec_driver_sql(sql, _arrays(rows, names, table))
