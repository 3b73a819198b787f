from __future__ import annotations

import duckdb

from streamwise.data.tables import create_tables


def test_identifiers_of_numerous_entities_are_stored_with_zstd() -> None:
    con = duckdb.connect()
    create_tables(con)
    rows = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE table_name IN ('customers', 'orders', 'products') AND data_type = 'VARCHAR'"
    ).fetchall()
    ddl = dict(con.execute("SELECT table_name, sql FROM duckdb_tables()").fetchall())
    zstd = {
        (table, column)
        for table, column in rows
        if f"{column} VARCHAR USING COMPRESSION ZSTD" in ddl[table]
    }
    assert zstd == {
        ("customers", "customer_id"),
        ("orders", "order_id"),
        ("orders", "customer_id"),
        ("products", "product_id"),
    }
