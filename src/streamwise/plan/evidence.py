"""Reading a claim's evidence back from the workspace, to check that it still holds."""

from __future__ import annotations

import math
from typing import Any

from streamwise.errors import DataError
from streamwise.plan.document import Evidence

__all__ = ["check_evidence", "resolve_evidence"]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def resolve_evidence(con: Any, evidence: Evidence) -> Any:
    """The value in the row and column an evidence names.

    Table and column names are checked against the database's own catalogue before they are
    quoted into the query (a plan can be edited by hand); key values are bound parameters.

    Raises
    ------
    DataError
        The table, a column or the row is missing, or the key matches several rows.
    """
    columns = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
            [evidence.table],
        ).fetchall()
    }
    if not columns:
        raise DataError(f"evidence names table {evidence.table!r}, which the workspace lacks")
    wanted = [evidence.column, *evidence.key]
    unknown = [c for c in wanted if c not in columns]
    if unknown:
        raise DataError(f"evidence names columns {unknown} that {evidence.table} lacks")
    where = " AND ".join(f"{_quote(k)} = ?" for k in evidence.key) or "TRUE"
    rows = con.execute(
        f"SELECT {_quote(evidence.column)} FROM {_quote(evidence.table)} WHERE {where} LIMIT 2",  # noqa: S608 - names checked above
        list(evidence.key.values()),
    ).fetchall()
    if len(rows) != 1:
        found = "no row" if not rows else "several rows"
        raise DataError(f"{found} of {evidence.table} match {evidence.key}")
    return rows[0][0]


def check_evidence(con: Any, evidence: Evidence, *, rel_tol: float = 1e-9) -> bool:
    """Whether the workspace still holds the evidence's value (numbers to ``rel_tol``)."""
    found = resolve_evidence(con, evidence)
    if isinstance(evidence.value, float) and found is not None:
        return math.isclose(float(found), evidence.value, rel_tol=rel_tol, abs_tol=1e-12)
    return found == evidence.value
