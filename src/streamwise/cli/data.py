"""``streamwise import`` and ``streamwise quarantine``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from streamwise.cli.common import WorkspaceOpt, console, errors, open_workspace, progress, stderr
from streamwise.data.contracts import CONTRACTS
from streamwise.data.importer import ImportResult, import_data, import_files
from streamwise.data.quarantine import export_quarantine, quarantine_rows, quarantine_summary
from streamwise.engine import open_table, redact
from streamwise.errors import ConfigError, DataError

__all__ = ["import_", "quarantine", "results_table"]

KINDS = ", ".join(CONTRACTS)


def results_table(results: list[ImportResult | DataError], title: str = "Import") -> Table:
    """A table of import outcomes, one row per file."""
    table = Table(title=title, title_justify="left")
    for col in ("kind", "file", "read", "inserted", "updated", "unchanged", "quarantined"):
        table.add_column(col, justify="right" if col not in {"kind", "file"} else "left")
    for r in results:
        if isinstance(r, DataError):
            table.add_row("", str(r.source), "[red]unreadable[/]", "", "", "", "")
            continue
        q = f"[yellow]{r.quarantined:,}[/]" if r.quarantined else "0"
        table.add_row(
            r.kind,
            Path(r.source).name,
            f"{r.rows_read:,}",
            f"{r.inserted:,}",
            f"{r.updated:,}",
            f"{r.unchanged:,}",
            q,
        )
    return table


def _reasons_table(results: list[ImportResult | DataError]) -> Table | None:
    rows = [
        (Path(r.source).name, reason, n)
        for r in results
        if isinstance(r, ImportResult)
        for reason, n in r.reasons.items()
    ]
    if not rows:
        return None
    table = Table(title="Quarantined, by reason", title_justify="left")
    table.add_column("file")
    table.add_column("column: reason")
    table.add_column("problems", justify="right")
    for file, reason, n in rows:
        table.add_row(file, reason, f"{n:,}")
    return table


@errors
def import_(
    kind: Annotated[str, typer.Argument(help=f"What the files hold: {KINDS}.")],
    files: Annotated[
        list[str],
        typer.Argument(help="CSV, Parquet or JSON Lines files (with --table: a database URL)."),
    ],
    workspace: WorkspaceOpt = Path("."),
    fmt: Annotated[
        Optional[str],  # noqa: UP045 - Typer needs Optional here
        typer.Option("--format", help="csv, parquet or jsonl (default: from the file name)."),
    ] = None,
    table: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            help="Import this table of another database instead of files; FILE is then its URL: "
            "postgresql://user@host/db, sqlite:///file.db or duckdb:///file.duckdb."
        ),
    ] = None,
) -> None:
    """Import files of one KIND into the workspace, checking every row against its contract.

    Invalid rows are set aside in the quarantine with file, row, column and reason; valid rows
    land. Importing the same rows again changes nothing. Exits with status 1 when a file cannot
    be read or none of its rows could be used.
    """
    if kind not in CONTRACTS:
        raise ConfigError(f"unknown kind {kind!r}; use one of: {KINDS}")
    if fmt not in (None, "csv", "parquet", "jsonl"):
        raise ConfigError(f"unknown format {fmt!r}; use csv, parquet or jsonl")
    if table is not None and len(files) != 1:
        raise ConfigError("with --table, give exactly one database URL")
    with open_workspace(workspace) as ws, progress() as bar:
        con = ws.duckdb()
        task = bar.add_task(f"importing {kind}", total=len(files))

        def on_step(path: str, stage: str) -> None:
            bar.update(task, description=f"{Path(path).name}: {stage}")

        def on_done(_result: object) -> None:
            bar.advance(task)

        if table is not None:
            name = f"{redact(files[0])}#{table}"
            results: list[ImportResult | DataError] = [
                import_data(con, kind, open_table(files[0], table), name=name)
            ]
        else:
            results = import_files(
                con,
                kind,
                [Path(f) for f in files],
                fmt=fmt,
                on_step=on_step,
                on_done=on_done,  # type: ignore[arg-type]
            )
        bar.update(task, description=f"imported {kind}")
    console.print(results_table(results))
    reasons = _reasons_table(results)
    if reasons is not None:
        console.print(reasons)
        console.print(
            f"See the rows with [bold]streamwise quarantine --kind {kind} -w {workspace}[/]."
        )
    failed = False
    for r in results:
        if isinstance(r, DataError):
            stderr.print(f"[bold red]Error:[/] {r}", highlight=False)
            failed = True
        elif r.rows_read == 0:
            stderr.print(
                f"[bold red]Error:[/] {r.source}: has no data rows, only a header; "
                "nothing was imported",
                highlight=False,
            )
            failed = True
        elif r.landed == 0:
            stderr.print(
                f"[bold red]Error:[/] {r.source}: none of its {r.rows_read:,} rows could be used; "
                "see the reasons above and fix the file",
                highlight=False,
            )
            failed = True
        for col in r.ignored_columns if isinstance(r, ImportResult) else ():
            stderr.print(
                f"[dim]note: column {col!r} of {Path(r.source).name} is not in the "
                f"{kind} contract and was ignored[/]",
                highlight=False,
            )
    if failed:
        raise typer.Exit(1)


@errors
def quarantine(
    workspace: WorkspaceOpt = Path("."),
    kind: Annotated[Optional[str], typer.Option(help="Only this kind.")] = None,  # noqa: UP045
    source: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--file", help="Only rows from this file (absolute path, as listed)."),
    ] = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 20,
    export: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Write every quarantined row to this CSV file."),
    ] = None,
) -> None:
    """List what imports set aside: counts by reason, then the rows with file, row number,
    column, reason and the value that was refused."""
    if kind is not None and kind not in CONTRACTS:
        raise ConfigError(f"unknown kind {kind!r}; use one of: {KINDS}")
    with open_workspace(workspace) as ws:
        con = ws.duckdb()
        summary = quarantine_summary(con, kind, source)
        if summary.empty:
            console.print("[green]The quarantine is empty:[/] every imported row was valid.")
            return
        table = Table(title="Quarantine", title_justify="left")
        for col in ("kind", "file", "column", "reason", "rows"):
            table.add_column(col, justify="right" if col == "rows" else "left")
        for row in summary.itertuples(index=False):
            table.add_row(
                row.kind, Path(row.source).name, str(row.column or ""), row.reason, f"{row.rows:,}"
            )
        console.print(table)
        if limit > 0:
            rows = quarantine_rows(con, kind, source, limit)
            detail = Table(title=f"First {len(rows)} problems", title_justify="left")
            for col in ("file", "row", "column", "reason", "value"):
                detail.add_column(col, justify="right" if col == "row" else "left", overflow="fold")
            for r in rows.itertuples(index=False):
                detail.add_row(
                    Path(r.source).name,
                    str(r.row),
                    str(r.column or ""),
                    r.reason,
                    "" if r.value is None else str(r.value),
                )
            console.print(detail)
        if export is not None:
            n = export_quarantine(con, export, kind, source)
            console.print(f"Wrote {n:,} problems to {export}")
