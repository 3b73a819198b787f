"""``streamwise report``: the whole picture as one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from streamwise.cli.common import WorkspaceOpt, console, errors, open_workspace, progress
from streamwise.reports.full import REPORT_FILE, ReportContents, is_hint, report_contents
from streamwise.reports.upstream import write_report

__all__ = ["print_contents", "report"]

#: The file written when no --output is given, in the workspace folder.
DEFAULT_NAME = REPORT_FILE


def print_contents(contents: ReportContents, path: Path) -> None:
    """Where the report is and what it holds: per part, the sections with content and those
    that only say which command makes them."""
    console.print(f"[green]Wrote[/] [bold]{escape(str(path))}[/] ({path.stat().st_size:,} bytes).")
    version = contents.plan_version
    if version is not None:
        console.print(f"Plan: {escape(version.name)} version {version.version}.")
    missing = []
    for part, sections in (
        ("Upstream picture", contents.upstream),
        ("The plan", contents.plan),
        ("Latest results", contents.results),
    ):
        shown = [s.title for s in sections if not is_hint(s)]
        missing += [s.title for s in sections if is_hint(s)]
        console.print(
            f"  {part}: {escape(', '.join(shown)) if shown else '[dim]nothing yet[/]'}",
            highlight=False,
        )
    if missing:
        console.print(
            f"Not yet in the workspace: {escape(', '.join(missing))}. Their sections say which "
            "command makes them.",
            highlight=False,
        )
    console.print("Open it in any browser; it loads nothing from the network.")


@errors
def report(
    workspace: WorkspaceOpt = Path("."),
    output: Annotated[
        Optional[Path],  # noqa: UP045 - Typer needs Optional here
        typer.Option(
            "--output",
            "-o",
            dir_okay=False,
            help="File to write (default: report.html in the workspace folder).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write one self-contained HTML report of the upstream picture, the plan and the latest
    results.

    The upstream picture (targets, personas, competitors, market trends, customers, research),
    the current plan (goals and KPIs, timeline, plan against actual) and the latest results
    (campaign lift, channel attribution, media ROI and response curves, the recommended budget).
    Charts are inline; the file runs no scripts and loads nothing, so it opens offline and can
    be mailed. A result the workspace lacks gets a note naming the command that makes it."""
    with open_workspace(workspace) as ws, progress(transient=True) as bar:
        bar.add_task("reading results and drawing charts", total=None)
        contents = report_contents(ws)
        html = contents.render()
        path = write_report(html, output if output is not None else ws.root / DEFAULT_NAME)
    print_contents(contents, path)
