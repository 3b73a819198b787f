from __future__ import annotations

import gzip
import json
import sqlite3
from datetime import date, datetime
from pathlib import Path

import duckdb
import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from streamwise.data.importer import ImportResult, import_data, import_file, import_files
from streamwise.data.quarantine import export_quarantine, quarantine_rows, quarantine_summary
from streamwise.errors import DataError
from streamwise.workspace import Workspace

TODAY = date(2026, 1, 15)

CUSTOMERS_CSV = """customer_id,email,signup_date,country,Loyalty Tier
C1,ana@example.com,2024-01-01,US,gold
C2,not-an-email,2024-01-02,DE,silver
C3,c3@example.com,2031-01-01,us,
C1,again@example.com,2024-01-01,US,
,nokey@example.com,2024-01-01,US,
C4,c4@example.com,2024-02-30,GB,
C5,c5@example.com,2024-01-05,GB,x,too,many
C6,c6@example.com,2024-01-06,FR,
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def problems(con: duckdb.DuckDBPyConnection, kind: str) -> list[tuple]:
    return con.execute(
        'SELECT row_number, "column", reason FROM _quarantine WHERE kind = $k '
        'ORDER BY row_number, "column"',
        {"k": kind},
    ).fetchall()


@pytest.fixture
def con(workspace: Workspace) -> duckdb.DuckDBPyConnection:
    return workspace.duckdb()


@pytest.fixture
def customers(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> ImportResult:
    return import_file(con, "customers", write(tmp_path / "c.csv", CUSTOMERS_CSV), today=TODAY)


def test_csv_rows_are_checked_and_problems_named_by_row_and_column(
    con: duckdb.DuckDBPyConnection, customers: ImportResult
) -> None:
    assert customers.rows_read == 8
    assert customers.inserted == 2
    assert customers.quarantined == 6
    assert problems(con, "customers") == [
        (2, "email", "not an e-mail address"),
        (3, "country", "not a two-letter upper-case country code"),
        (3, "signup_date", "in the future"),
        (4, "customer_id", "duplicate key within the file"),
        (5, "customer_id", "missing required value"),
        (6, "signup_date", "not a valid date (YYYY-MM-DD)"),
        (7, None, "malformed CSV line: too many columns"),
    ]
    ids = [r[0] for r in con.execute("SELECT customer_id FROM customers ORDER BY 1").fetchall()]
    assert ids == ["C1", "C6"]  # the first C1 wins; C6 keeps its row number after the bad line
    assert customers.ignored_columns == ("Loyalty Tier",)
    assert "first_name" in customers.missing_columns


HEADER = "customer_id,email,signup_date,country\n"
GOOD = "{k},{k}@example.com,2024-01-01,US\n"
BAD_EMAIL = "{k},broken,2024-01-01,US\n"


@pytest.mark.parametrize(
    ("lines", "landed", "expected"),
    [
        # A valid row, then an invalid copy of its key: the first lands.
        (
            [GOOD, BAD_EMAIL, GOOD.format(k="C9")],
            {"C1", "C9"},
            [
                (2, "customer_id", "duplicate key within the file"),
                (2, "email", "not an e-mail address"),
            ],
        ),
        # An invalid row, then a valid copy: neither lands, each is told why.
        (
            [BAD_EMAIL, GOOD, GOOD.format(k="C9")],
            {"C9"},
            [
                (1, "email", "not an e-mail address"),
                (2, "customer_id", "duplicate key within the file"),
            ],
        ),
        # Two valid copies.
        (
            [GOOD, GOOD.format(k="C9"), GOOD],
            {"C1", "C9"},
            [(3, "customer_id", "duplicate key within the file")],
        ),
        # Two invalid copies.
        (
            [BAD_EMAIL, BAD_EMAIL, GOOD.format(k="C9")],
            {"C9"},
            [
                (1, "email", "not an e-mail address"),
                (2, "customer_id", "duplicate key within the file"),
                (2, "email", "not an e-mail address"),
            ],
        ),
        # Identical rows without a key are no duplicates; each keeps its own row number.
        (
            [",x@example.com,2024-01-01,US\n"] * 2 + [GOOD.format(k="C9")],
            {"C9"},
            [
                (1, "customer_id", "missing required value"),
                (2, "customer_id", "missing required value"),
            ],
        ),
    ],
)
def test_a_repeated_key_lands_once_and_later_copies_are_refused(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    lines: list[str],
    landed: set[str],
    expected: list[tuple],
) -> None:
    text = HEADER + "".join(line.format(k="C1") for line in lines)
    result = import_file(con, "customers", write(tmp_path / "d.csv", text), today=TODAY)
    assert result.rows_read == len(lines)
    assert result.landed == len(landed)
    assert result.quarantined == len({row for row, _c, _r in expected})
    stored = {r[0] for r in con.execute("SELECT customer_id FROM customers").fetchall()}
    assert stored == landed
    assert problems(con, "customers") == expected


def test_a_repeated_key_is_found_when_merging_into_a_full_table(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    import_file(
        con, "customers", write(tmp_path / "a.csv", HEADER + GOOD.format(k="C0")), today=TODAY
    )
    text = HEADER + GOOD.format(k="C1") + "C1,second@example.com,2024-01-01,US\n"
    result = import_file(con, "customers", write(tmp_path / "b.csv", text), today=TODAY)
    assert (result.rows_read, result.inserted, result.quarantined) == (2, 1, 1)
    email = con.execute("SELECT email FROM customers WHERE customer_id = 'C1'").fetchone()[0]
    assert email == "C1@example.com"
    assert problems(con, "customers") == [(2, "customer_id", "duplicate key within the file")]


def test_quarantine_keeps_the_refused_value_and_the_whole_record(
    con: duckdb.DuckDBPyConnection, customers: ImportResult
) -> None:
    rows = quarantine_rows(con, "customers", limit=None)
    email = rows[rows["column"] == "email"].iloc[0]
    assert email["value"] == "not-an-email"
    assert json.loads(email["record"])["customer_id"] == "C2"
    dup = rows[rows["reason"] == "duplicate key within the file"].iloc[0]
    assert dup["value"] == "same key as row 1"
    summary = quarantine_summary(con, "customers")
    assert summary["rows"].sum() == 7  # row 3 has two problems
    assert customers.reasons["email: not an e-mail address"] == 1


def test_reimporting_the_same_file_changes_nothing(
    con: duckdb.DuckDBPyConnection, customers: ImportResult, tmp_path: Path
) -> None:
    before = con.execute("SELECT * FROM customers ORDER BY customer_id").fetchall()
    again = import_file(con, "customers", tmp_path / "c.csv", today=TODAY)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert con.execute("SELECT * FROM customers ORDER BY customer_id").fetchall() == before
    # The quarantine holds each problem once, not once per import.
    assert con.execute("SELECT count(*) FROM _quarantine").fetchone()[0] == 7


def test_changed_rows_replace_stored_ones_and_new_keys_are_added(
    con: duckdb.DuckDBPyConnection, customers: ImportResult, tmp_path: Path
) -> None:
    update = write(
        tmp_path / "update.csv",
        "customer_id,email,signup_date,country\n"
        "C1,new@example.com,2024-01-01,US\nC6,c6@example.com,2024-01-06,FR\n"
        "C7,c7@example.com,2024-03-01,NL\n",
    )
    r = import_file(con, "customers", update, today=TODAY)
    assert (r.inserted, r.updated, r.unchanged) == (1, 1, 1)
    rows = dict(con.execute("SELECT customer_id, email FROM customers").fetchall())
    assert rows == {"C1": "new@example.com", "C6": "c6@example.com", "C7": "c7@example.com"}


ORDERS_CSV = """order_id,customer_id,order_date,amount,currency,quantity
O1,C1,2024-01-01 10:00:00,10.5,USD,1
O2,C9,2024-01-01,11,USD,1
O3,C1,2024-01-03T10:00:00+02:00,-3,USD,2
O4,C6,2024-01-04,12.50,,1
O5,C6,2024-01-04,12;50,EUR,1
O6,C6,2024-01-05,1,usd,1.5
"""


def test_orders_check_foreign_keys_types_and_fill_defaults(
    con: duckdb.DuckDBPyConnection, customers: ImportResult, tmp_path: Path
) -> None:
    r = import_file(con, "orders", write(tmp_path / "o.csv", ORDERS_CSV), today=TODAY)
    assert r.landed == 2
    assert problems(con, "orders") == [
        (2, "customer_id", "not found in customers.customer_id (import customers first, "
         "or correct the value)"),
        (3, "amount", "below the minimum of 0"),
        (5, "amount", "not a valid number"),
        (6, "currency", "not a three-letter upper-case currency code"),
        (6, "quantity", "not a valid whole number"),
    ]  # fmt: skip
    o4 = con.execute("SELECT currency, amount FROM orders WHERE order_id = 'O4'").fetchone()
    assert o4 == ("USD", 12.5)  # the contract's default currency fills the empty value


def test_timestamps_with_offsets_are_stored_in_utc(
    con: duckdb.DuckDBPyConnection, customers: ImportResult, tmp_path: Path
) -> None:
    csv = (
        "order_id,customer_id,order_date,amount\n"
        "A,C1,2024-01-03T10:00:00+02:00,1\nB,C1,2024-01-03T10:00:00Z,1\n"
        "C,C1,2024-01-03 10:00:00-0130,1\nD,C1,2024-01-03,1\n"
        "E,C1,2024-01-03 10:00-05,1\nF,C1,2024-01-03T10:00:00.250-05:00,1\n"
    )
    import_file(con, "orders", write(tmp_path / "tz.csv", csv), today=TODAY)
    got = dict(con.execute("SELECT order_id, order_date FROM orders").fetchall())
    assert got == {
        "A": datetime(2024, 1, 3, 8, 0),
        "B": datetime(2024, 1, 3, 10, 0),
        "C": datetime(2024, 1, 3, 11, 30),
        "D": datetime(2024, 1, 3, 0, 0),
        "E": datetime(2024, 1, 3, 15, 0),
        "F": datetime(2024, 1, 3, 15, 0, 0, 250000),
    }


def test_missing_required_column_is_an_error_naming_file_and_column(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write(tmp_path / "no_amount.csv", "order_id,customer_id,order_date\nO1,C1,2024-01-01\n")
    with pytest.raises(DataError, match=r"no_amount\.csv.*'amount'") as info:
        import_file(con, "orders", path, today=TODAY)
    assert info.value.column == "amount"
    assert con.execute("SELECT count(*) FROM _imports").fetchone()[0] == 0


def test_unreadable_and_missing_files_give_one_line_errors(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"this is not parquet")
    with pytest.raises(DataError, match=r"broken\.parquet: cannot read it as parquet"):
        import_file(con, "customers", broken)
    with pytest.raises(DataError, match="no such file"):
        import_file(con, "customers", tmp_path / "nope.csv")
    with pytest.raises(DataError, match="file format"):
        import_file(con, "customers", write(tmp_path / "c.xlsx", "x"))
    results = import_files(con, "customers", [broken, tmp_path / "nope.csv"])
    assert all(isinstance(r, DataError) for r in results)


def test_parquet_with_native_types(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    table = pa.table(
        {
            "customer_id": ["C1", "C2", "C3"],
            "email": ["a@example.com", "b@example.com", None],
            "signup_date": pa.array([date(2024, 1, 1), date(2024, 1, 2), date(2099, 1, 1)]),
            "email_consent": [True, False, None],
            "birth_year": pa.array([1980, 1850, None], type=pa.int64()),
        }
    )
    pq.write_table(table, tmp_path / "c.parquet")
    r = import_file(con, "customers", tmp_path / "c.parquet", today=TODAY)
    assert r.inserted == 1
    assert problems(con, "customers") == [
        (2, "birth_year", "below the minimum of 1900"),
        (3, "signup_date", "in the future"),
    ]
    assert con.execute("SELECT email_consent FROM customers").fetchone() == (True,)


def test_json_lines_with_segment_names_nested_objects_and_a_broken_line(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    lines = [
        {"messageId": "m1", "type": "track", "userId": "C1", "event": "Order Completed",
         "properties": {"revenue": 10.5, "items": [1, 2]}, "timestamp": "2024-01-01T10:00:00Z"},
        {"messageId": "m2", "type": "track", "anonymousId": "a1",
         "timestamp": "2024-01-01T10:00:00Z"},
        {"messageId": "m3", "type": "page", "timestamp": "2024-01-01T10:00:00Z"},
        {"messageId": "m4", "type": "click", "userId": "C1", "timestamp": "2024-01-01"},
    ]  # fmt: skip
    text = "\n".join(json.dumps(x) for x in lines[:2]) + "\n{not json}\n\n"
    text += "\n".join(json.dumps(x) for x in lines[2:]) + "\n"
    path = tmp_path / "events.jsonl.gz"
    with gzip.open(path, "wt") as f:
        f.write(text)
    r = import_file(con, "events", path, today=TODAY)
    assert r.inserted == 1
    assert problems(con, "events") == [
        (2, "event", "a track event needs an event name"),
        (3, None, "not a JSON object"),
        (5, "user_id", "user_id or anonymous_id must be present"),
        (6, "type", "not one of: identify, track, page, screen, group, alias"),
    ]
    props = con.execute("SELECT properties->>'$.revenue' FROM events").fetchone()[0]
    assert props == "10.5"


def test_import_from_an_ibis_table_of_another_database(
    con: duckdb.DuckDBPyConnection, customers: ImportResult, tmp_path: Path
) -> None:
    with sqlite3.connect(tmp_path / "shop.sqlite") as db:
        db.execute(
            "CREATE TABLE sales (order_id TEXT, customer_id TEXT, order_date TEXT, amount REAL)"
        )
        db.executemany(
            "INSERT INTO sales VALUES (?, ?, ?, ?)",
            [
                ("X1", "C1", "2024-05-01 09:00:00", 20.0),
                ("X2", "C6", "2024-05-02 09:00:00", 30.0),
                ("X3", "nobody", "2024-05-03", 40.0),
                ("X4", "C1", "2024-05-03", 5.0),
            ],
        )
    other = ibis.sqlite.connect(tmp_path / "shop.sqlite")
    expr = other.table("sales").filter(ibis._.amount > 10)
    r = import_data(con, "orders", expr, name="sqlite:shop.sales", today=TODAY)
    assert (r.inserted, r.quarantined) == (2, 1)
    assert problems(con, "orders")[0][:2] == (3, "customer_id")
    again = import_data(con, "orders", expr, name="sqlite:shop.sales", today=TODAY)
    assert (again.inserted, again.unchanged) == (0, 2)


def test_a_failure_part_way_leaves_the_database_as_it_was(
    con: duckdb.DuckDBPyConnection, customers: ImportResult, tmp_path: Path
) -> None:
    path = write(tmp_path / "o.csv", ORDERS_CSV)
    quarantine_before = con.execute("SELECT count(*) FROM _quarantine").fetchone()

    def crash(stage: str) -> None:
        if stage == "setting invalid rows aside":  # the valid rows are in, not committed
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_file(con, "orders", path, today=TODAY, on_step=crash)
    assert con.execute("SELECT count(*) FROM orders").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM _quarantine").fetchone() == quarantine_before
    assert con.execute("SELECT count(*) FROM _imports WHERE kind = 'orders'").fetchone() == (0,)
    assert import_file(con, "orders", path, today=TODAY).landed == 2


def test_export_quarantine_to_csv(
    con: duckdb.DuckDBPyConnection, customers: ImportResult, tmp_path: Path
) -> None:
    out = tmp_path / "q.csv"
    assert export_quarantine(con, out, kind="customers") == 7
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["kind", "source", "row", "column", "reason", "value", "record"]
    assert frame["row"].tolist() == sorted(frame["row"].tolist())


def test_file_paths_and_headers_never_become_sql(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    hostile = tmp_path / "x'); DROP TABLE customers; --.csv"
    hostile.write_text(
        'customer_id,"email""); DROP TABLE orders; --",signup_date\nC1,a@example.com,2024-01-01\n'
    )
    r = import_file(con, "customers", hostile, today=TODAY)
    assert r.inserted == 1
    assert con.execute("SELECT count(*) FROM orders").fetchone() == (0,)
    assert r.ignored_columns == ('email"); DROP TABLE orders; --',)


def test_identical_invalid_rows_are_each_reported_on_their_own_row(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "same.csv",
        "customer_id,email,signup_date\n,x@example.com,2024-01-01\nC1,a@example.com,2024-01-01\n"
        ",x@example.com,2024-01-01\nC2,b@example.com,2099-01-01\n",
    )
    r = import_file(con, "customers", path, today=TODAY)
    assert (r.rows_read, r.inserted, r.quarantined) == (4, 1, 3)
    assert problems(con, "customers") == [
        (1, "customer_id", "missing required value"),
        (3, "customer_id", "missing required value"),
        (4, "signup_date", "in the future"),
    ]
