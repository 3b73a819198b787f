"""What the imports set aside: rows that broke their contract, with file, row, column and reason."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.csv as pacsv

from streamwise.data.tables import QUARANTINE

__all__ = ["export_quarantine", "quarantine_rows", "quarantine_summary"]

_FILTER = "($kind IS NULL OR kind = $kind) AND ($source IS NULL OR source = $source)"


def quarantine_summary(
    con: duckdb.DuckDBPyConnection, kind: str | None = None, source: str | None = None
) -> pd.DataFrame:
    """Problems per kind, file, column and reason (``rows`` = rows with that problem)."""
    return con.execute(
        f'SELECT kind, source, "column", reason, count(DISTINCT row_number) AS rows '
        f"FROM {QUARANTINE} WHERE {_FILTER} GROUP BY ALL ORDER BY kind, source, rows DESC, reason",
        {"kind": kind, "source": source},
    ).df()


def quarantine_rows(
    con: duckdb.DuckDBPyConnection,
    kind: str | None = None,
    source: str | None = None,
    limit: int | None = 20,
) -> pd.DataFrame:
    """The set-aside problems in file order, each with the row's values as JSON (``record``)."""
    return con.execute(
        f'SELECT kind, source, row_number AS "row", "column", reason, value, record::VARCHAR '
        f"AS record FROM {QUARANTINE} WHERE {_FILTER} "
        'ORDER BY kind, source, row_number, "column" LIMIT coalesce($limit, 9223372036854775807)',
        {"kind": kind, "source": source, "limit": limit},
    ).df()


def export_quarantine(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    kind: str | None = None,
    source: str | None = None,
) -> int:
    """Write every quarantined problem to a CSV file, streamed in batches; return rows written."""
    reader = con.sql(
        f'SELECT kind, source, row_number AS "row", "column", reason, value, record::VARCHAR '
        f"AS record FROM {QUARANTINE} WHERE {_FILTER} ORDER BY kind, source, row_number",
        params={"kind": kind, "source": source},
    ).to_arrow_reader(100_000)
    written = 0
    with pacsv.CSVWriter(str(path), reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
            written += batch.num_rows
    return written
