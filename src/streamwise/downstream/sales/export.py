"""Reading the ranked list back: the top rows with names and reasons, and the CSV export.

Rows stream from the database in batches (ordered by rank, joined to ``customers`` for name and
e-mail), and reasons are rendered batch by batch, so exporting every customer of a large business
needs memory for one batch only.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa

from streamwise.downstream.sales.handoff import HandOff, load_hand_off
from streamwise.downstream.sales.reasons import join_reasons, reasons_for
from streamwise.errors import ConfigError, WorkspaceError

__all__ = [
    "CSV_COLUMNS",
    "ranked_batches",
    "ranked_frame",
    "resolve_segment",
    "write_csv",
]

#: The columns of the CSV export, in order.
CSV_COLUMNS = (
    "rank",
    "customer_id",
    "name",
    "email",
    "lead",
    "score",
    "p_buy",
    "segment",
    "persona",
    "reasons",
)


def resolve_segment(workspace: Any, run: HandOff, segment: str) -> str:
    """The segment named by ``segment``: a segment, a persona's full name or first name.

    Raises
    ------
    ConfigError
        When it names none of them (the message lists the segments).
    """
    by_name = {seg: seg for seg in run.personas}
    for seg, persona in run.personas.items():
        by_name[persona] = seg
        by_name.setdefault(persona.split(" (")[0].strip(), seg)
    if segment in by_name:
        return by_name[segment]
    t = workspace.analytics().table("sales_leads")
    known = sorted(s for s in t.select("segment").distinct().execute()["segment"] if s)
    if segment in known:
        return segment
    raise ConfigError(
        f"no segment or persona {segment!r}; the segments are: {', '.join(known) or 'none'}"
    )


def _table(workspace: Any, run: HandOff) -> Any:
    backend = workspace.analytics()
    leads = backend.table("sales_leads")
    found = leads.select("run_id").limit(1).execute()
    if found.empty or found["run_id"].iloc[0] != run.run_id:
        raise WorkspaceError(
            f"the table sales_leads does not hold hand-off run {run.run_id}; run "
            "`streamwise sales leads` again"
        )
    return leads


def _batches(workspace: Any, expr: Any, rows: int) -> Iterator[pa.RecordBatch]:
    """Stream ``expr``'s rows as Arrow batches (DuckDB's reader on a cursor of its own; other
    engines through Ibis)."""
    if workspace.settings.engine != "duckdb":
        yield from expr.to_pyarrow_batches(chunk_size=rows)
        return
    cursor = workspace.duckdb().cursor()
    try:
        relation = cursor.sql(str(workspace.analytics().compile(expr)))
        reader = getattr(relation, "to_arrow_reader", None) or relation.fetch_record_batch
        yield from reader(rows)
    finally:
        cursor.close()


def ranked_batches(
    workspace: Any,
    run: HandOff | None = None,
    *,
    top: int | None = None,
    segment: str | None = None,
    batch_rows: int = 10_000,
) -> Iterator[pd.DataFrame]:
    """The ranked list in batches of ``batch_rows``, best first, with ``name``, ``email``,
    ``reasons`` (a list of :class:`~streamwise.downstream.sales.reasons.Reason`) and
    ``reason_text``.

    Parameters
    ----------
    workspace
        The workspace.
    run
        The hand-off run (default: the latest).
    top
        Keep the first ``top`` rows (after the segment filter).
    segment
        Keep one segment (a segment name, or a persona's name or first name). Ranks stay the
        ranks in the whole list.
    """
    run = run or load_hand_off(workspace)
    leads = _table(workspace, run)
    if segment is not None:
        leads = leads.filter(leads.segment == resolve_segment(workspace, run, segment))
    c = workspace.analytics().table("customers")
    people = c.select(
        "customer_id",
        "email",
        name=ibis.coalesce(c.first_name, "").concat(" ", ibis.coalesce(c.last_name, "")).strip(),
    )
    rows = leads.left_join(people, "customer_id").drop("customer_id_right").order_by("rank")
    if top is not None:
        rows = rows.limit(top)
    for batch in _batches(workspace, rows, batch_rows):
        frame = batch.to_pandas()
        if frame.empty:
            continue
        reasons = reasons_for(frame, run)
        frame["reasons"] = reasons
        frame["reason_text"] = [join_reasons(r) for r in reasons]
        yield frame


def ranked_frame(
    workspace: Any,
    run: HandOff | None = None,
    *,
    top: int | None = 20,
    segment: str | None = None,
) -> pd.DataFrame:
    """:func:`ranked_batches` in one frame (for the top of the list)."""
    parts = list(ranked_batches(workspace, run, top=top, segment=segment))
    if not parts:
        return pd.DataFrame(columns=[*CSV_COLUMNS, "is_lead", "reason_text"])
    return pd.concat(parts, ignore_index=True)


def _csv_row(row: Any) -> list[Any]:
    p = row.p_buy
    return [
        int(row.rank), row.customer_id, row.name or "", row.email or "",
        "yes" if int(row.is_lead) else "no",
        "" if pd.isna(row.score) else f"{row.score:.1f}",
        "" if pd.isna(p) else f"{p:.4f}",
        row.segment if isinstance(row.segment, str) else "",
        row.persona if isinstance(row.persona, str) else "",
        row.reason_text,
    ]  # fmt: skip


def write_csv(
    workspace: Any,
    path: str | Path,
    run: HandOff | None = None,
    *,
    top: int | None = None,
    segment: str | None = None,
) -> int:
    """Write the ranked list to ``path`` as CSV (:data:`CSV_COLUMNS`, UTF-8, a header row).

    The file is written next to ``path`` and renamed into place when complete, so a reader never
    sees half a file. Returns the number of rows written.
    """
    target = Path(path)
    partial = target.with_name(target.name + ".part")
    n = 0
    with partial.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for frame in ranked_batches(workspace, run, top=top, segment=segment):
            writer.writerows(_csv_row(r) for r in frame.itertuples(index=False))
            n += len(frame)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(target)
    return n
