"""Following a number of the plan back to the rows it was read from.

Every claim of a persona (and every KPI baseline) names its :class:`~streamwise.plan.document.
Evidence`: a workspace table, the key that selects the row, the column and the value read there.
:func:`evidence_rows` reads those rows from the analytics database now, so a reader can check
the claim against the data and see whether the data have moved since the plan was written.

The table and column names come from the saved plan, never from the request, and are checked
against the database's catalogue before use; the key values are bound as literals by Ibis. With
the default DuckDB engine the file is opened read-only for the lookup and closed after, so a
running analysis (which holds the file for writing) makes the page say so rather than wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from streamwise.plan.document import Evidence

__all__ = ["EvidenceRows", "evidence_rows"]

MAX_ROWS = 50


@dataclass(frozen=True)
class EvidenceRows:
    """What the data hold now for one piece of evidence.

    ``rows`` are the matching rows (at most :data:`MAX_ROWS`); ``current`` the column's value in
    the first of them; ``matches`` whether it still equals the value the plan recorded (``None``
    when the plan recorded none or nothing matched); ``problem`` says why nothing could be read.
    """

    evidence: Evidence
    rows: pd.DataFrame
    current: Any = None
    matches: bool | None = None
    problem: str = ""


def _same(a: Any, b: Any) -> bool:
    try:
        return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))
    except (TypeError, ValueError):
        return str(a) == str(b)


def _own(workspace: Any) -> bool:
    """Whether to open (and close) a read-only DuckDB connection of our own: with DuckDB, unless
    this process has the file open already (a second open with other settings would fail)."""
    return workspace.settings.engine == "duckdb" and not workspace.analytics_open


def _connect(workspace: Any) -> Any:
    import ibis

    if _own(workspace):
        return ibis.duckdb.connect(str(workspace.analytics_path), read_only=True)
    return workspace.analytics()


def evidence_rows(workspace: Any, evidence: Evidence) -> EvidenceRows:
    """The rows of ``evidence.table`` selected by ``evidence.key``, read now."""
    import ibis

    empty = pd.DataFrame()
    own = _own(workspace)
    try:
        con = _connect(workspace)
    except Exception as exc:  # any engine's lock or connection error
        problem = (
            f"the analytics database is busy or unreachable ({type(exc).__name__}); try again "
            "in a moment"
        )
        return EvidenceRows(evidence, empty, problem=problem)
    try:
        try:  # the name is looked up in the catalogue, never pasted into SQL
            table = con.table(evidence.table)
        except ibis.common.exceptions.TableNotFound:
            return EvidenceRows(
                evidence, empty, problem=f"table {evidence.table} is not in the workspace now; "
                "re-run the analysis that writes it"
            )  # fmt: skip
        columns = set(table.columns)
        unknown = [c for c in [*evidence.key, evidence.column] if c not in columns]
        if unknown:
            return EvidenceRows(
                evidence, empty, problem=f"table {evidence.table} has no column(s) "
                f"{', '.join(unknown)} now; re-run the analysis that writes it"
            )  # fmt: skip
        expr = table
        for column, value in evidence.key.items():
            expr = expr.filter(table[column] == ibis.literal(value))
        rows = expr.limit(MAX_ROWS).to_pandas()
    finally:
        if own:
            con.disconnect()
    if rows.empty:
        return EvidenceRows(evidence, rows, problem="no row matches the key now")
    current = rows[evidence.column].iloc[0]
    matches = None if evidence.value is None else _same(current, evidence.value)
    return EvidenceRows(evidence, rows, current=current, matches=matches)
