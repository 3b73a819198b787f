"""Import files into the analytics database, checking every row against its contract.

One import of one source runs in one DuckDB transaction. A file is read three times:

1. check every row, keeping the text of the invalid ones (parallel, no row numbers);
2. merge the valid rows into the kind's table on its key: new keys are inserted, changed rows
   replace the stored ones, identical rows are left alone — so importing the same file twice
   changes nothing — then confirm that no key was stored twice;
3. meanwhile, on a second connection, number the rows whose key is an invalid row's key.
   Numbering keeps DuckDB on one core, so this pass runs beside step 2 rather than after it.
   Each problem of each invalid row then goes to the quarantine (file, row, column, reason,
   value and the whole record as JSON).

Most files repeat no key. When one does (step 2 or 3 finds it), the transaction is rolled back
and the import starts again on a slower path that first counts every key, then numbers every
row while checking it, so that a later duplicate is refused and the first one lands.

A crash part-way leaves the database as it was before the import. Rows are never loaded into
Python; DuckDB spills to disk beyond its memory limit, so memory stays bounded for any file size.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from streamwise.data.checks import Check, checks, quote, typed_sql
from streamwise.data.contracts import Contract, get_contract
from streamwise.data.sources import (
    REJECTS_SCAN,
    REJECTS_TABLE,
    Format,
    Source,
    arrow_source,
    file_source,
    sql_literal,
)
from streamwise.data.tables import IMPORTS, QUARANTINE
from streamwise.errors import DataError

__all__ = ["ImportResult", "import_data", "import_file", "import_files"]

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
DUPS = "_sw_dups"
BAD = "_sw_bad"
BAD_TEXT = "_sw_bad_text"
ADJUST = "_sw_row_adjust"
REJECTS = "_sw_rejects"
INCOMING = "_sw_incoming"
DIFF = "_sw_diff"


@dataclass(frozen=True)
class ImportResult:
    """What one import did.

    ``landed`` rows are in the table after the import (inserted + updated + unchanged);
    ``quarantined`` counts rows set aside, ``reasons`` counts problems by ``column: reason``.
    """

    kind: str
    source: str
    import_id: int
    rows_read: int
    inserted: int
    updated: int
    unchanged: int
    quarantined: int
    reasons: dict[str, int] = field(default_factory=dict)
    ignored_columns: tuple[str, ...] = ()
    missing_columns: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def landed(self) -> int:
        """Valid rows now in the table."""
        return self.inserted + self.updated + self.unchanged

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary, ``landed`` included."""
        return {**asdict(self), "landed": self.landed}

    def to_frame(self) -> pd.DataFrame:
        """One-row data frame."""
        d = self.to_dict()
        d["reasons"] = "; ".join(f"{k} ({v})" for k, v in self.reasons.items())
        d["ignored_columns"] = ", ".join(self.ignored_columns)
        d["missing_columns"] = ", ".join(self.missing_columns)
        return pd.DataFrame([d])


def _exec(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list[tuple]:
    """Run one statement and fetch its result (DuckDB wants results consumed before the next).

    Only the parameters the statement names are bound (DuckDB refuses extra ones).
    """
    used = set(_PARAM.findall(sql))
    bound = {k: v for k, v in (params or {}).items() if k in used}
    return con.execute(sql, bound).fetchall()


def _typed_cte(contract: Contract, source: Source, with_dups: bool) -> str:
    typed = ",\n  ".join(f"{typed_sql(c)} AS {quote(c.name)}" for c in contract.columns)
    sql = f"WITH src AS ({source.sql}),\ntyped0 AS (SELECT src.*,\n  {typed}\nFROM src)"
    if with_dups:
        on = " AND ".join(f"t.{quote(k)} IS NOT DISTINCT FROM d.{quote(k)}" for k in contract.key)
        sql += f",\ntyped AS (SELECT t.*, d._first FROM typed0 t LEFT JOIN {DUPS} d ON {on})"
    else:
        sql += ",\ntyped AS (SELECT *, NULL::BIGINT AS _first FROM typed0)"
    return sql


def _all_checks(contract: Contract, row_map: str) -> list[Check]:
    first = row_map.format(r="_first")
    dup = Check(
        contract.key[0],
        "duplicate key within the file",
        "_first IS NOT NULL AND _row > _first",
        f"'same key as row ' || ({first})::VARCHAR",
    )
    return [*checks(contract), dup]


def _bad_any(cs: Sequence[Check], source: Source) -> str:
    """SQL true for a row that fails any check.

    A JSON line that is no object has no fields to check; other formats always have fields, and
    leaving out the guard saves a tenth of the checking time.
    """
    if source.fmt != "jsonl":
        return "coalesce(" + " OR ".join(f"({c.bad})" for c in cs) + ", FALSE)"
    guarded = [cs[0].bad] + [f"(_json_ok AND ({c.bad}))" for c in cs[1:]]
    return "coalesce(" + " OR ".join(guarded) + ", FALSE)"


def _row_map(con: duckdb.DuckDBPyConnection, source: Source) -> str:
    """SQL template (``{r}`` = a scan row number) giving the file row.

    CSV lines DuckDB could not parse are missing from the scan, shifting the numbers after them.
    """
    if source.fmt != "csv":
        return "{r}"
    # Keep what the first scan rejected; later scans of the same file add the same lines again.
    _exec(
        con,
        f"CREATE OR REPLACE TEMP TABLE {REJECTS} AS SELECT line, "
        "any_value(column_name) AS column_name, any_value(error_type::VARCHAR) AS error_type, "
        "any_value(csv_line) AS csv_line, min(error_message) AS error_message "
        f"FROM {REJECTS_TABLE} GROUP BY line",
    )
    n = _exec(con, f"SELECT count(*) FROM {REJECTS}")[0][0]
    if not n:
        return "{r}"
    # Row k of the scan is file row k + #{i : r_i - i < k} for the sorted rejected rows r_i.
    _exec(
        con,
        f"CREATE OR REPLACE TEMP TABLE {ADJUST} AS SELECT r - row_number() OVER (ORDER BY r) "
        f"AS adj FROM (SELECT DISTINCT line - 1 AS r FROM {REJECTS})",
    )
    return f"({{r}} + (SELECT count(*) FROM {ADJUST} WHERE adj < {{r}}))"


def _quarantine_rejects(
    con: duckdb.DuckDBPyConnection, import_id: int, kind: str, source: Source
) -> None:
    if source.fmt != "csv":
        return
    _exec(
        con,
        f"INSERT INTO {QUARANTINE} SELECT $id, $kind, $source, line - 1, column_name, "
        "'malformed CSV line: ' || lower(replace(error_type, '_', ' ')), left(csv_line, 200), "
        f"to_json({{'line': csv_line, 'error': error_message}}) FROM {REJECTS}",
        {"id": import_id, "kind": kind, "source": source.name},
    )
    _exec(con, f"DROP TABLE {REJECTS}")


class _RepeatedKeyError(Exception):
    """A key occurs more than once in the source: the import must take the numbered path."""


def _check_unique(con: duckdb.DuckDBPyConnection, contract: Contract, table: str) -> None:
    """Raise _RepeatedKeyError when two rows of ``table`` share a key."""
    keys = ", ".join(quote(k) for k in contract.key)
    # Distinct hashes are cheaper to count than distinct keys; equal counts prove the keys
    # distinct, and only a (rare) shortfall needs the exact count.
    n, hashes = _exec(con, f"SELECT count(*), count(DISTINCT hash({keys})) FROM {table}")[0]
    if n == hashes:
        return
    distinct = _exec(con, f"SELECT count(*) FROM (SELECT DISTINCT {keys} FROM {table})")[0][0]
    if n != distinct:
        raise _RepeatedKeyError


def _merge(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    select_valid: str,
    params: dict,
    check_unique: bool,
) -> tuple[int, int, int]:
    """Merge valid rows into the table; return (inserted, updated, unchanged).

    With ``check_unique``, raise _RepeatedKeyError if two of the valid rows share a key.
    """
    table, cols = quote(contract.kind), ", ".join(quote(c) for c in contract.names)
    empty = _exec(con, f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT 1)")[0][0] == 0
    if empty:
        n = _exec(con, f"INSERT INTO {table} ({cols}) {select_valid}", params)[0][0]
        if check_unique:
            _check_unique(con, contract, table)
        return int(n), 0, 0
    _exec(con, f"CREATE OR REPLACE TEMP TABLE {INCOMING} AS {select_valid}", params)
    if check_unique:
        _check_unique(con, contract, INCOMING)
    on = " AND ".join(f"i.{quote(k)} IS NOT DISTINCT FROM t.{quote(k)}" for k in contract.key)
    _exec(
        con,
        f"CREATE OR REPLACE TEMP TABLE {DIFF} AS SELECT {cols} FROM {INCOMING} EXCEPT ALL "
        f"SELECT {cols} FROM (SELECT t.* FROM {table} t SEMI JOIN {INCOMING} i ON {on})",
    )
    incoming = _exec(con, f"SELECT count(*) FROM {INCOMING}")[0][0]
    diff = _exec(con, f"SELECT count(*) FROM {DIFF}")[0][0]
    on_d = on.replace("i.", "d.")
    updated = _exec(con, f"SELECT count(*) FROM {DIFF} d SEMI JOIN {table} t ON {on_d}")[0][0]
    if updated:
        where = " AND ".join(
            f"d.{quote(k)} IS NOT DISTINCT FROM {table}.{quote(k)}" for k in contract.key
        )
        _exec(con, f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM {DIFF} d WHERE {where})")
    _exec(con, f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {DIFF}")
    _exec(con, f"DROP TABLE {INCOMING}; DROP TABLE {DIFF}")
    return int(diff - updated), int(updated), int(incoming - diff)


def _count_and_find_duplicates(
    con: duckdb.DuckDBPyConnection, contract: Contract, source: Source, params: dict
) -> int:
    """Count the rows and find keys that occur more than once; return the count.

    One pass without row numbers (numbering rows makes DuckDB read the file on one thread):
    the grouping set ``()`` gives the total. Keys with a missing required part are no
    duplicates (those rows are refused anyway). Only when real duplicates exist does a second,
    numbered pass find the row each duplicated key first appears on (the DUPS table).
    """
    keys = ", ".join(quote(k) for k in contract.key)
    typed_keys = ", ".join(f"{typed_sql(contract.column(k))} AS {quote(k)}" for k in contract.key)
    key_sql = source.select(contract.key)
    required = [k for k in contract.key if contract.column(k).required]
    complete = " AND ".join(f"{quote(k)} IS NOT NULL" for k in required) or "TRUE"
    rows = _exec(
        con,
        f"SELECT GROUPING({keys}) > 0 AS total, count(*) FILTER (WHERE {complete}) AS n, "
        f"count(*) AS n_all FROM (SELECT {typed_keys} FROM ({key_sql})) "
        f"GROUP BY GROUPING SETS (({keys}), ()) HAVING count(*) > 1 OR GROUPING({keys}) > 0",
        params,
    )
    total = sum(n_all for is_total, _n, n_all in rows if is_total)
    has_dups = any(not is_total and n > 1 for is_total, n, _n_all in rows)
    _exec(
        con,
        f"CREATE OR REPLACE TEMP TABLE {DUPS} AS SELECT {typed_keys}, 0::BIGINT AS _first "
        f"FROM ({key_sql}) LIMIT 0",
        params,
    )
    if has_dups:
        _exec(
            con,
            f"INSERT INTO {DUPS} SELECT {keys}, min(_row) FROM (SELECT _row, {typed_keys} "
            f"FROM ({key_sql})) WHERE {complete} GROUP BY ALL HAVING count(*) > 1",
            params,
        )
    return int(total)


def _raw_key_match(contract: Contract, left: str, right: str) -> str:
    return " AND ".join(
        f"{left}.{quote('_r_' + k)} IS NOT DISTINCT FROM {right}.{quote('_r_' + k)}"
        for k in contract.key
    )


def _collect_bad_text(
    con: duckdb.DuckDBPyConnection, contract: Contract, source: Source, params: dict, bad: str
) -> int:
    """Keep the text of every invalid row in BAD_TEXT; return how many there are.

    This pass runs without row numbers, so DuckDB reads and checks the file on every core.
    """
    raw = ", ".join(quote(f"_r_{c}") for c in contract.names)
    _exec(
        con,
        f"CREATE OR REPLACE TEMP TABLE {BAD_TEXT} AS {_typed_cte(contract, source, False)}\n"
        f"SELECT _json_ok, {raw} FROM typed WHERE {bad}",
        params,
    )
    return int(_exec(con, f"SELECT count(*) FROM {BAD_TEXT}")[0][0])


def _key_sql(contract: Contract) -> tuple[list[str], str]:
    """The quoted raw key columns and SQL true when none of them is missing."""
    keys = [quote(f"_r_{k}") for k in contract.key]
    return keys, " AND ".join(f"{k} IS NOT NULL" for k in keys)


def _invalid_keys_repeat(con: duckdb.DuckDBPyConnection, contract: Contract) -> bool:
    """Whether two invalid rows (in BAD_TEXT) share a complete key."""
    keys, complete = _key_sql(contract)
    n, distinct = _exec(
        con,
        f"SELECT count(*), (SELECT count(*) FROM (SELECT DISTINCT {', '.join(keys)} "
        f"FROM {BAD_TEXT} WHERE {complete})) FROM {BAD_TEXT} WHERE {complete}",
    )[0]
    return n != distinct


class _Numbering:
    """Row numbers of the file rows whose key is an invalid row's key, found on the side.

    Numbering rows keeps DuckDB's scan of a file on one core. This pass needs nothing but the
    file and the invalid keys, so it runs on a second connection while the valid rows are being
    saved (which keeps the other cores busy), and most of its time is hidden.
    """

    def __init__(
        self, con: duckdb.DuckDBPyConnection, contract: Contract, source: Source, params: dict
    ) -> None:
        keys, complete = _key_sql(contract)
        key_list = ", ".join(keys)
        bad_keys = con.sql(
            f"SELECT DISTINCT {key_list} FROM {BAD_TEXT} WHERE {complete}"
        ).to_arrow_table()
        sql = (
            f"SELECT _row, {key_list} FROM ({source.select(contract.key)}) "
            f"WHERE {keys[0]} IN (SELECT {keys[0]} FROM _sw_bad_keys)"
        )
        used = set(_PARAM.findall(sql))
        bound = {k: v for k, v in params.items() if k in used}
        self._closed = False
        self._pool = ThreadPoolExecutor(max_workers=1)
        if source.fmt == "arrow":
            # Held in a temporary table that only this connection sees; cheap to number.
            self._cursor = None
            con.register("_sw_bad_keys", bad_keys)
            self._future: Future[pa.Table] = Future()
            try:
                self._future.set_result(con.sql(sql, params=bound).to_arrow_table())
            finally:
                con.unregister("_sw_bad_keys")
            return
        cursor = self._cursor = con.cursor()
        cursor.execute("SET enable_progress_bar = false").fetchall()
        cursor.register("_sw_bad_keys", bad_keys)
        self._future = self._pool.submit(lambda: cursor.sql(sql, params=bound).to_arrow_table())

    def __enter__(self) -> _Numbering:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def result(self) -> pa.Table:
        """``_row`` and the raw key columns (waits for the pass to end)."""
        try:
            return self._future.result()
        finally:
            self.close()

    def close(self) -> None:
        """Stop the pass if it still runs (the import failed) and free its connection."""
        if self._closed:
            return
        self._closed = True
        if self._cursor is not None and not self._future.done():
            self._cursor.interrupt()
        self._pool.shutdown(wait=True)
        if self._cursor is not None:
            self._cursor.close()


def _number_bad_rows(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    source: Source,
    params: dict,
    numbering: _Numbering,
) -> None:
    """Give the rows in BAD_TEXT their row numbers (into BAD).

    The key of an invalid row must be on no other row of the file (else _RepeatedKeyError), so
    the numbered rows found by ``numbering`` match the invalid rows one to one. Rows without a
    complete key are matched on their whole text instead.
    """
    _keys, complete = _key_sql(contract)
    con.register("_sw_numbered", numbering.result())
    try:
        _exec(
            con,
            f"CREATE OR REPLACE TEMP TABLE {BAD} AS SELECT s._row, b.* FROM _sw_numbered s "
            f"JOIN (SELECT * FROM {BAD_TEXT} WHERE {complete}) b "
            f"ON {_raw_key_match(contract, 's', 'b')}",
        )
    finally:
        con.unregister("_sw_numbered")
    n_keyed = _exec(con, f"SELECT count(*) FROM {BAD_TEXT} WHERE {complete}")[0][0]
    if _exec(con, f"SELECT count(*) FROM {BAD}")[0][0] != n_keyed:
        raise _RepeatedKeyError  # the key of an invalid row is on another row too
    if _exec(con, f"SELECT count(*) FROM {BAD_TEXT}")[0][0] == n_keyed:
        return
    # Rows without a complete key: match every such row of the file on its whole text.
    raw = ["_json_ok", *(quote(f"_r_{c}") for c in contract.names)]
    same = " AND ".join(f"s.{c} IS NOT DISTINCT FROM b.{c}" for c in raw)
    _exec(
        con,
        f"INSERT INTO {BAD} SELECT DISTINCT s._row, {', '.join(f's.{c}' for c in raw)} FROM "
        f"(SELECT * FROM ({source.sql}) WHERE NOT ({complete})) s "
        f"JOIN (SELECT * FROM {BAD_TEXT} WHERE NOT ({complete})) b ON {same}",
        params,
    )


def _quarantine_rows(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    source: Source,
    params: dict,
    cs: list[Check],
    row_map: str,
    with_dups: bool,
    import_id: int,
) -> None:
    """List the problems of each row in BAD by running the same checks over those few rows."""
    problems = ", ".join(
        f"CASE WHEN {c.bad if i == 0 else f'_json_ok AND ({c.bad})'} THEN "
        f"{{'column': {sql_literal(c.column) if c.column else 'NULL::VARCHAR'}, "
        f"'reason': {sql_literal(c.reason)}, 'value': left(({c.value})::VARCHAR, 200)}} END"
        for i, c in enumerate(cs)
    )
    record = (
        "to_json({"
        + ", ".join(f"{sql_literal(c)}: {quote('_r_' + c)}" for c in contract.names)
        + "})"
    )
    few = Source(
        name=source.name,
        key=source.key,
        sql=f"SELECT * FROM {BAD}",
        params={},
        found=source.found,
        missing=source.missing,
        ignored=source.ignored,
        fmt=source.fmt,
    )
    _exec(
        con,
        f"INSERT INTO {QUARANTINE} {_typed_cte(contract, few, with_dups)}\n"
        f"SELECT DISTINCT $id, $kind, $source, _row, p['column'], p['reason'], p['value'], "
        "record FROM ("
        f"SELECT {row_map.format(r='_row')} AS _row, {record} AS record, "
        f"unnest(list_filter([{problems}], lambda x: x IS NOT NULL)) AS p FROM typed)",
        {**params, "id": import_id, "kind": contract.kind, "source": source.name},
    )


def _run(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    source: Source,
    today: date,
    on_step: Callable[[str], None] | None = None,
    numbered: bool = True,
) -> ImportResult:
    """Import ``source``; see the module docstring for the two paths (``numbered`` or not)."""
    with ExitStack() as cleanup:
        return _run_steps(cleanup, con, contract, source, today, on_step, numbered)


def _run_steps(
    cleanup: ExitStack,
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    source: Source,
    today: date,
    on_step: Callable[[str], None] | None,
    numbered: bool,
) -> ImportResult:
    step = on_step or (lambda _msg: None)
    started = datetime.now(UTC).replace(tzinfo=None)
    t0 = time.perf_counter()
    kind = contract.kind
    missing_required = [
        c for c in contract.required if c in source.missing and contract.column(c).default is None
    ]
    if missing_required:
        have = ", ".join(source.found + source.ignored) or "none"
        raise DataError(
            f"has no column {', '.join(repr(c) for c in missing_required)}, required for "
            f"{kind}; its columns are: {have}. Rename the header or see docs/data.md",
            source=source.name,
            column=missing_required[0],
        )
    params = {**source.params, "today": today}
    _exec(con, f"DROP TABLE IF EXISTS {REJECTS_TABLE}; DROP TABLE IF EXISTS {REJECTS_SCAN}")
    import_id = _exec(con, f"SELECT nextval('{IMPORTS}_seq')")[0][0]
    if numbered:
        step("counting rows and looking for duplicate keys")
        total = _count_and_find_duplicates(con, contract, source, params)
        with_dups = _exec(con, f"SELECT count(*) FROM {DUPS}")[0][0] > 0
    else:
        total, with_dups = None, False
    cols = ", ".join(quote(c) for c in contract.names)
    raw = ", ".join(quote(f"_r_{c}") for c in contract.names)
    numbering: _Numbering | None = None
    if with_dups:
        step("checking rows")
        # Refusing a later duplicate needs row numbers: check while numbering (slower, rare).
        row_map = _row_map(con, source)
        cs = _all_checks(contract, row_map)
        bad = _bad_any(cs, source)
        cte = _typed_cte(contract, source, True)
        _exec(
            con,
            f"CREATE OR REPLACE TEMP TABLE {BAD} AS {cte}\n"
            f"SELECT _row, _json_ok, {raw} FROM typed WHERE {bad}",
            params,
        )
        n_bad = _exec(con, f"SELECT count(*) FROM {BAD}")[0][0]
        step("saving valid rows")
        select_valid = f"{cte}\nSELECT {cols} FROM typed WHERE NOT {bad}"
        inserted, updated, unchanged = _merge(con, contract, select_valid, params, False)
    else:
        # No key is repeated (found by the count, or checked while saving and numbering).
        step("checking rows")
        n_bad = _collect_bad_text(con, contract, source, params, _bad_any(checks(contract), source))
        row_map = _row_map(con, source)  # the check's scan has listed the malformed lines
        cs = _all_checks(contract, row_map)
        # Each key is in the file once, so leaving out the invalid rows' keys leaves out
        # exactly the invalid rows (cheaper than checking every row again while inserting).
        skip = (
            f" ANTI JOIN {BAD_TEXT} b ON {_raw_key_match(contract, 'typed', 'b')}" if n_bad else ""
        )
        select_valid = f"{_typed_cte(contract, source, False)}\nSELECT {cols} FROM typed{skip}"
        if not numbered and n_bad and _invalid_keys_repeat(con, contract):
            raise _RepeatedKeyError
        step("saving valid rows")
        if n_bad:
            numbering = cleanup.enter_context(_Numbering(con, contract, source, params))
        inserted, updated, unchanged = _merge(con, contract, select_valid, params, not numbered)
    if total is None:
        total = inserted + updated + unchanged + n_bad
    _exec(
        con,
        f"DELETE FROM {QUARANTINE} WHERE kind = $kind AND source = $source",
        {"kind": kind, "source": source.name},
    )
    if n_bad:
        step("setting invalid rows aside")
        if numbering is not None:
            _number_bad_rows(con, contract, source, params, numbering)
        _quarantine_rows(con, contract, source, params, cs, row_map, with_dups, import_id)
    _quarantine_rejects(con, import_id, kind, source)
    n_rejected = _exec(
        con,
        f"SELECT count(DISTINCT row_number) FROM {QUARANTINE} WHERE import_id = $id "
        "AND starts_with(reason, 'malformed CSV line')",
        {"id": import_id},
    )[0][0]
    reasons_rows = _exec(
        con,
        f"SELECT coalesce(\"column\" || ': ', '') || reason AS r, count(*) FROM {QUARANTINE} "
        "WHERE import_id = $id GROUP BY r ORDER BY count(*) DESC, r",
        {"id": import_id},
    )
    quarantined = _exec(
        con,
        f"SELECT count(DISTINCT row_number) FROM {QUARANTINE} WHERE import_id = $id",
        {"id": import_id},
    )[0][0]
    _exec(
        con,
        f"DROP TABLE IF EXISTS {DUPS}; DROP TABLE IF EXISTS {BAD}; DROP TABLE IF EXISTS {BAD_TEXT}",
    )
    result = ImportResult(
        kind=kind,
        source=source.name,
        import_id=int(import_id),
        rows_read=int(total + n_rejected),
        inserted=inserted,
        updated=updated,
        unchanged=unchanged,
        quarantined=int(quarantined),
        reasons={r: int(n) for r, n in reasons_rows},
        ignored_columns=source.ignored,
        missing_columns=source.missing,
        seconds=time.perf_counter() - t0,
    )
    _exec(
        con,
        f"INSERT INTO {IMPORTS} VALUES ($id, $kind, $source, $read, $ins, $upd, $unch, $q, "
        "$ignored, $started, $finished)",
        {
            "id": import_id,
            "kind": kind,
            "source": source.name,
            "read": result.rows_read,
            "ins": inserted,
            "upd": updated,
            "unch": unchanged,
            "q": result.quarantined,
            "ignored": list(source.ignored),
            "started": started,
            "finished": datetime.now(UTC).replace(tzinfo=None),
        },
    )
    return result


def _transaction(con: duckdb.DuckDBPyConnection, fn: Callable[[], ImportResult]) -> ImportResult:
    # Stored row order means nothing to us, and keeping it would cost DuckDB parallelism.
    keep_order = _exec(con, "SELECT current_setting('preserve_insertion_order')")[0][0]
    _exec(con, "SET preserve_insertion_order = false")
    con.begin()
    try:
        result = fn()
    except BaseException:
        con.rollback()
        raise
    else:
        con.commit()
    finally:
        _exec(con, f"SET preserve_insertion_order = {'true' if keep_order else 'false'}")
    return result


def import_file(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    path: str | Path,
    *,
    fmt: Format | None = None,
    today: date | None = None,
    on_step: Callable[[str], None] | None = None,
) -> ImportResult:
    """Import one CSV, Parquet or JSON Lines file of ``kind`` into the database behind ``con``.

    Parameters
    ----------
    con
        DuckDB connection of the workspace's analytics database (tables created).
    kind
        One of the contract kinds (``customers``, ``orders``, ...).
    path
        The file; ``.gz``/``.zst`` compressed CSV and JSON Lines are read as they are.
    fmt
        Override the format guessed from the file name.
    today
        The date after which dates count as "in the future" (default: today, UTC).
    on_step
        Called with a short description as each stage starts (for progress displays).

    Raises
    ------
    DataError
        The file is missing or unreadable, or lacks a required column.
    """
    contract = get_contract(kind)
    today = today or datetime.now(UTC).date()

    def run(numbered: bool) -> ImportResult:
        source = file_source(con, contract, path, fmt)
        return _run(con, contract, source, today, on_step, numbered)

    try:
        return _transaction(con, lambda: run(False))
    except _RepeatedKeyError:  # rolled back; number every row to tell first from later copies
        return _transaction(con, lambda: run(True))


def import_data(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    data: Any,
    *,
    name: str,
    today: date | None = None,
) -> ImportResult:
    """Import in-memory or remote data: a pandas frame, a pyarrow table or reader, or an Ibis
    table from another database (streamed in batches). ``name`` identifies it in the quarantine
    and makes re-imports idempotent."""
    contract = get_contract(kind)
    today = today or datetime.now(UTC).date()

    def run() -> ImportResult:
        source = arrow_source(con, contract, data, name)
        return _run(con, contract, source, today)

    try:
        return _transaction(con, run)
    finally:
        _exec(con, "DROP TABLE IF EXISTS _sw_arrow_source")


def import_files(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    paths: Sequence[str | Path],
    *,
    fmt: Format | None = None,
    today: date | None = None,
    on_step: Callable[[str, str], None] | None = None,
    on_done: Callable[[ImportResult | DataError], None] | None = None,
) -> list[ImportResult | DataError]:
    """Import several files of one kind; an unreadable file is reported, the rest go on.

    ``on_step(path, stage)`` reports progress within a file, ``on_done(result)`` each outcome.
    """
    out: list[ImportResult | DataError] = []
    for path in paths:
        stepper = (lambda msg, p=str(path): on_step(p, msg)) if on_step else None
        try:
            item: ImportResult | DataError = import_file(
                con, kind, path, fmt=fmt, today=today, on_step=stepper
            )
        except DataError as exc:
            item = exc
        out.append(item)
        if on_done is not None:
            on_done(item)
    return out
