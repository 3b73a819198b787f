"""Reading input files (CSV, Parquet, JSON Lines) and Arrow data with DuckDB, row numbers kept.

A :class:`Source` is a SQL fragment that yields one text column per contract column (named
``_r_<column>``, empty strings as NULL, defaults filled) and ``_row``, the 1-based row number in the
file. User-supplied names never reach SQL text: file paths and JSON keys are bound as parameters
and file columns are referred to by position.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa

from streamwise.data.contracts import Column, Contract
from streamwise.errors import DataError

__all__ = ["Format", "Source", "arrow_source", "detect_format", "file_source", "sql_literal"]

Format = Literal["csv", "parquet", "jsonl"]

REJECTS_TABLE = "_sw_csv_rejects"
REJECTS_SCAN = "_sw_csv_reject_scans"
ARROW_VIEW = "_sw_arrow_stream"
ARROW_TABLE = "_sw_arrow_source"

_SUFFIXES: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}

_CSV = (
    "read_csv($path, all_varchar = true, header = true, store_rejects = true, "
    f"rejects_table = '{REJECTS_TABLE}', rejects_scan = '{REJECTS_SCAN}')"
)
_PARQUET = "read_parquet($path)"
_LINES = (
    "read_csv($path, columns = {'line': 'VARCHAR'}, header = false, delim = chr(0), "
    "quote = '', escape = '', auto_detect = false)"
)
_IS_OBJECT = "CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' ELSE FALSE END"


def sql_literal(value: object) -> str:
    """Quote a value from the contracts (never user input) as a SQL literal."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


@dataclass
class Source:
    """One input, ready to be selected from.

    Attributes
    ----------
    name
        What people call it (the path as given, or a table name).
    key
        What identifies it across imports (the absolute path, or the table name).
    sql
        ``SELECT _row, _r_<col>... FROM ...`` (no trailing semicolon).
    params
        Parameters bound to ``sql``.
    found, missing, ignored
        Contract columns found in the input, contract columns absent, input columns not used.
    fmt
        ``csv``, ``parquet``, ``jsonl`` or ``arrow``.

    The selected columns are ``_row``, ``_json_ok`` (false for a JSON line that is no object)
    and ``_r_<column>`` for every contract column.
    """

    name: str
    key: str
    sql: str
    params: dict[str, Any]
    found: tuple[str, ...]
    missing: tuple[str, ...]
    ignored: tuple[str, ...]
    fmt: str
    narrow: Callable[[Sequence[str]], str] | None = None

    def select(self, names: Sequence[str]) -> str:
        """Like ``sql`` with only the named contract columns (the others are not even read)."""
        return self.sql if self.narrow is None else self.narrow(names)


def detect_format(path: Path) -> Format:
    """Guess the format from the file name (``.gz`` and ``.zst`` compression allowed)."""
    suffixes = [s.lower() for s in path.suffixes]
    while suffixes and suffixes[-1] in {".gz", ".zst", ".gzip"}:
        suffixes.pop()
    fmt = _SUFFIXES.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        raise DataError(
            "cannot tell the file format from its name; use .csv, .tsv, .parquet or .jsonl, "
            "or pass --format csv|parquet|jsonl",
            source=str(path),
        )
    return fmt


def _match(contract: Contract, names: list[str]) -> dict[str, int]:
    """Map contract columns to input positions: exact name, then aliases, then any case."""
    lowered: dict[str, int] = {}
    for i, n in enumerate(names):
        lowered.setdefault(n.strip().lower(), i)
    found: dict[str, int] = {}
    for col in contract.columns:
        for candidate in (col.name, *col.aliases):
            pos = lowered.get(candidate.lower())
            if pos is not None:
                found[col.name] = pos
                break
    return found


def _raw_expr(col: Column, value_sql: str | None) -> str:
    """Text of one column: empty as NULL, default filled, trimmed where the type needs it.

    Casts to numbers, dates and timestamps ignore surrounding blanks themselves, so only text
    and true/false values are trimmed (trimming every column costs a second per 10M rows),
    and only those that start or end with a blank (testing is cheaper than trimming).
    """
    if value_sql is None:
        expr = "NULL::VARCHAR"
    elif col.type in ("VARCHAR", "BOOLEAN"):
        v = value_sql
        expr = (
            f"CASE WHEN {v} LIKE ' %' OR {v} LIKE '% ' THEN NULLIF(trim({v}), '') "
            f"ELSE NULLIF({v}, '') END"
        )
    else:
        expr = f"NULLIF({value_sql}, '')"
    if col.default is not None:
        expr = f"COALESCE({expr}, {sql_literal(str(col.default))})"
    return expr


def _select(
    contract: Contract,
    exprs: dict[str, str | None],
    row_sql: str,
    from_sql: str,
    extra: str = "TRUE AS _json_ok",
    only: Sequence[str] | None = None,
) -> str:
    cols = ",\n  ".join(
        f'{_raw_expr(c, exprs.get(c.name))} AS "_r_{c.name}"'
        for c in contract.columns
        if only is None or c.name in only
    )
    return f"SELECT {row_sql} AS _row, {extra},\n  {cols}\nFROM {from_sql}"


def _narrow(*args: Any) -> Callable[[Sequence[str]], str]:
    return lambda names: _select(*args, only=names)


def _describe(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[tuple]:
    return con.execute(f"DESCRIBE SELECT * FROM {sql}", params).fetchall()


def _unreadable(path: Path, fmt: str, exc: Exception) -> DataError:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    hint = {
        "csv": "check that it is a CSV file with a header row",
        "parquet": "check that it is a Parquet file",
        "jsonl": "check that it holds one JSON object per line",
    }[fmt]
    return DataError(f"cannot read it as {fmt} ({detail}); {hint}", source=str(path))


def file_source(
    con: duckdb.DuckDBPyConnection, contract: Contract, path: str | Path, fmt: Format | None = None
) -> Source:
    """Prepare a file for import.

    Raises
    ------
    DataError
        When the file is missing or unreadable, naming the file and what to do.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file; check the path", source=str(path))
    if path.stat().st_size == 0:
        raise DataError("the file is empty (0 bytes); export it again", source=str(path))
    fmt = fmt or detect_format(path)
    params: dict[str, Any] = {"path": str(path.resolve())}
    if fmt == "jsonl":
        return _jsonl_source(con, contract, path, params)
    reader = _CSV if fmt == "csv" else _PARQUET
    try:
        described = _describe(con, reader, params)
    except duckdb.Error as exc:
        raise _unreadable(path, fmt, exc) from None
    names = [row[0] for row in described]
    types = [str(row[1]).upper() for row in described]
    # The ordinality column comes after the file's columns.
    return _positional(
        contract, names, types, f"{reader} WITH ORDINALITY", str(path), params["path"], params, fmt
    )


def _positional(
    contract: Contract,
    names: list[str],
    types: list[str],
    from_sql: str,
    name: str,
    key: str,
    params: dict[str, Any],
    fmt: str,
) -> Source:
    """A source whose columns are referred to by position; its last column numbers the rows."""
    pos = _match(contract, names)
    exprs: dict[str, str | None] = {}
    for col in contract.columns:
        if col.name not in pos:
            continue
        ref = f"#{pos[col.name] + 1}"
        src_type = types[pos[col.name]]
        if src_type == "VARCHAR":
            exprs[col.name] = ref
        elif col.type == "JSON" and not src_type.startswith("JSON"):
            exprs[col.name] = f"to_json({ref})::VARCHAR"
        else:
            exprs[col.name] = f"CAST({ref} AS VARCHAR)"
    used = set(pos.values())
    return Source(
        name=name,
        key=key,
        sql=_select(contract, exprs, f"#{len(names) + 1}", from_sql),
        narrow=_narrow(contract, exprs, f"#{len(names) + 1}", from_sql),
        params=params,
        found=tuple(c for c in contract.names if c in pos),
        missing=tuple(c for c in contract.names if c not in pos),
        ignored=tuple(n for i, n in enumerate(names) if i not in used),
        fmt=fmt,
    )


def _jsonl_source(
    con: duckdb.DuckDBPyConnection, contract: Contract, path: Path, params: dict[str, Any]
) -> Source:
    """JSON Lines are read as lines, so that one broken line is quarantined, not fatal."""
    try:
        keys = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT unnest(json_keys(line)) FROM (SELECT line FROM "
                f"{_LINES} WHERE {_IS_OBJECT} LIMIT 10000)",
                params,
            ).fetchall()
        ]
    except duckdb.Error as exc:
        raise _unreadable(path, "jsonl", exc) from None
    pos = _match(contract, keys)
    exprs: dict[str, str | None] = {}
    for i, col in enumerate(contract.columns):
        key = keys[pos[col.name]] if col.name in pos else col.name
        params[f"k{i}"] = key
        fn = "json_extract" if col.type == "JSON" else "json_extract_string"
        exprs[col.name] = f"CASE WHEN _ok THEN {fn}(line, $k{i})::VARCHAR END"
    inner = (
        f"(SELECT line, ordinality, {_IS_OBJECT} AS _ok "
        f"FROM {_LINES} WITH ORDINALITY WHERE line IS NOT NULL AND trim(line) <> '')"
    )
    sql = _select(contract, exprs, "ordinality", inner, extra="_ok AS _json_ok")
    used = set(pos.values())
    return Source(
        name=str(path),
        key=params["path"],
        sql=sql,
        params=params,
        found=tuple(c for c in contract.names if c in pos),
        missing=tuple(c for c in contract.names if c not in pos),
        ignored=tuple(k for i, k in enumerate(keys) if i not in used),
        fmt="jsonl",
        narrow=_narrow(contract, exprs, "ordinality", inner, "_ok AS _json_ok"),
    )


def _numbered(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    start = 1
    for batch in reader:
        rows = pa.array(range(start, start + batch.num_rows), type=pa.int64())
        start += batch.num_rows
        yield pa.RecordBatch.from_arrays([*batch.columns, rows], [*batch.schema.names, "_row_"])


def arrow_source(
    con: duckdb.DuckDBPyConnection, contract: Contract, data: Any, name: str
) -> Source:
    """Prepare Arrow-compatible data (pyarrow Table/RecordBatchReader, pandas, an Ibis table).

    An Ibis table from any backend is streamed in record batches, never loaded whole.
    """
    if hasattr(data, "to_pyarrow_batches"):  # an Ibis expression
        reader = data.to_pyarrow_batches()
    elif isinstance(data, pa.RecordBatchReader):
        reader = data
    elif isinstance(data, pa.Table):
        reader = data.to_reader()
    else:  # pandas and anything else Arrow can take
        reader = pa.Table.from_pandas(data, preserve_index=False).to_reader()
    schema = reader.schema
    numbered = pa.RecordBatchReader.from_batches(
        schema.append(pa.field("_row_", pa.int64())), _numbered(reader)
    )
    # Several passes read the source, and a stream can be read once: keep it in DuckDB, which
    # spills to disk beyond its memory limit.
    con.register(ARROW_VIEW, numbered)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {ARROW_TABLE} AS SELECT * FROM {ARROW_VIEW}")
    finally:
        con.unregister(ARROW_VIEW)
    described = con.execute(f"DESCRIBE {ARROW_TABLE}").fetchall()[:-1]  # last: _row_
    names = [row[0] for row in described]
    types = [str(row[1]).upper() for row in described]
    return _positional(contract, names, types, ARROW_TABLE, name, name, {}, "arrow")
