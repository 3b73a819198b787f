"""``streamwise events compact|status``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from streamwise.cli.common import WorkspaceOpt, console, errors, open_workspace, progress
from streamwise.downstream.tracking.compact import SOURCES, compact, compaction_status
from streamwise.downstream.tracking.writer import prune

__all__ = ["app"]

app = typer.Typer(
    help="Received events and e-mail engagement: move them from the operational database into "
    "the analytics database (exactly once, crash-safe) and see how far that went.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

_LABELS = {"tracked_events": "events", "engagements": "e-mail engagement"}


@app.command("compact")
@errors
def compact_(
    workspace: WorkspaceOpt = Path("."),
    chunk_size: Annotated[
        int, typer.Option(min=1, help="Rows moved per transaction; memory grows with it.")
    ] = 50_000,
    prune_: Annotated[
        bool,
        typer.Option(
            "--prune/--no-prune",
            help="Afterwards, delete compacted events older than `dedup_days` (the settings' "
            "window for recognising a retried messageId) from the operational database.",
        ),
    ] = True,
) -> None:
    """Move received events into the analytics `events` table and e-mail engagement into
    `email_engagement` (human opens and clicks also into `touchpoints`). Safe to stop at any
    moment and to run again: nothing is added twice."""
    with open_workspace(workspace) as ws, progress(transient=True) as bar:
        tasks = {s: bar.add_task(f"compacting {_LABELS[s]}", total=None) for s in SOURCES}

        def show(source: str, done: int, total: int) -> None:
            bar.update(tasks[source], completed=done, total=total)

        result = compact(ws.operational(), ws.duckdb(), chunk_size=chunk_size, on_progress=show)
        pruned = prune(ws.operational(), ws.settings.dedup_days) if prune_ else 0
    skipped = result.events_read - result.events_appended
    console.print(
        f"Compacted {result.events_appended:,} event(s) and {result.engagements_appended:,} "
        f"engagement row(s) ({result.touchpoints_appended:,} e-mail touchpoint(s)) in "
        f"{result.seconds:.1f} s."
    )
    if skipped:
        console.print(
            f"  {skipped:,} event(s) were in the analytics database already (an interrupted "
            "run, or a file import) and were only marked compacted."
        )
    if pruned:
        console.print(
            f"  Pruned {pruned:,} compacted event(s) received more than "
            f"{ws.settings.dedup_days} day(s) ago from the operational database."
        )


@app.command("status")
@errors
def status(
    workspace: WorkspaceOpt = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Rows waiting to be compacted, rows compacted, the watermarks (last operational id
    compacted per source) and the row counts in the analytics database."""
    with open_workspace(workspace) as ws:
        st = compaction_status(ws.operational(), ws.duckdb())
    if as_json:
        typer.echo(json.dumps(st.to_dict(), indent=2))
        return
    table = Table("source", "waiting", "watermark", "appended", "last run")
    waiting = {"tracked_events": st.events_waiting, "engagements": st.engagements_waiting}
    for s in SOURCES:
        mark = f"{st.watermarks[s]:,}" if s in st.watermarks else "—"
        last = f"{st.updated_at[s]:%Y-%m-%d %H:%M:%S} UTC" if s in st.updated_at else "never"
        table.add_row(_LABELS[s], f"{waiting[s]:,}", mark, f"{st.appended.get(s, 0):,}", last)
    console.print(table)
    console.print(
        f"Compacted events still kept in the operational database (for de-duplication): "
        f"{st.events_compacted:,}."
    )
    counts = ", ".join(f"{name} {n:,}" for name, n in st.analytics_rows.items())
    console.print(f"Analytics database: {counts}.")
