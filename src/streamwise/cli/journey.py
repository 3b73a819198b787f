"""``streamwise journey validate|create|list|show|pause|resume|templates``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from streamwise.cli.common import WorkspaceOpt, console, errors, open_workspace
from streamwise.downstream.journeys import (
    create_journey,
    journey_report,
    list_journeys,
    load_journey,
    set_state,
    templates,
)
from streamwise.downstream.journeys.templates import describe_trigger, write
from streamwise.errors import ConfigError

__all__ = ["app"]

app = typer.Typer(
    help="Journeys: customers enter on an event or a change of state and go through steps "
    "(send, wait, branch, split, update, notify sales, exit) that `streamwise worker` advances.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

FileArg = Annotated[Path, typer.Argument(help="Journey YAML (see docs/journeys.md).")]
NameArg = Annotated[str, typer.Argument(help="The journey's name.")]


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read the journey file ({exc.strerror})") from None


@app.command("validate")
@errors
def validate(file: FileArg) -> None:
    """Check a journey file: its keys, trigger, steps and their targets, unreachable steps,
    loops without a wait, missing exits, durations, filters and send settings. Every problem
    is listed with its YAML path and line."""
    d = load_journey(_read(file), str(file))
    kinds = ", ".join(f"{s.id} ({s.kind})" for s in d.steps)
    console.print(f"[green]OK[/]: journey [bold]{escape(d.name)}[/], entered on "
                  f"{escape(describe_trigger(d))}; steps: {escape(kinds)}.")  # fmt: skip


@app.command("create")
@errors
def create(
    file: FileArg,
    workspace: WorkspaceOpt = Path("."),
    paused: Annotated[bool, typer.Option(help="Create it paused (resume it later).")] = False,
) -> None:
    """Check a journey file and store it, with a campaign row for each send step (its settings,
    or a copy of the campaign it names). It runs as soon as `streamwise worker` runs."""
    text = _read(file)
    d = load_journey(text, str(file))
    with open_workspace(workspace) as ws:
        jid = create_journey(ws, d, source=text, start=not paused)
    state = "paused" if paused else "active"
    console.print(f"Created journey {jid}: [bold]{escape(d.name)}[/] ({state}). Start "
                  "`streamwise worker` to run it.")  # fmt: skip


@app.command("list")
@errors
def list_(workspace: WorkspaceOpt = Path(".")) -> None:
    """Every journey: state, trigger and entries by state."""
    with open_workspace(workspace) as ws:
        rows = list_journeys(ws)
    table = Table(title="Journeys", title_justify="left")
    for col in ("name", "state", "trigger", "active", "completed", "exited", "failed"):
        table.add_column(col, justify="right" if col in ("active", "completed", "exited",
                                                         "failed") else "left")  # fmt: skip
    for r in rows:
        e = r.entries
        table.add_row(escape(r.name), r.state, escape(r.trigger), *(f"{e.get(k, 0):,}" for k in
                      ("active", "completed", "exited", "failed")))  # fmt: skip
    console.print(table if rows else "No journeys yet; start from `streamwise journey templates`.")


@app.command("show")
@errors
def show(name: NameArg, workspace: WorkspaceOpt = Path(".")) -> None:
    """A journey's trigger and re-entry rule, its entries by state and, per step, who is at it
    now, what its runs did and (send steps) its ledger."""
    with open_workspace(workspace) as ws:
        r = journey_report(ws, name)
    entries = ", ".join(f"{k} {v:,}" for k, v in sorted(r.entries.items())) or "none yet"
    console.print(f"[bold]{escape(r.name)}[/] ({r.state}): {escape(r.description)}")
    console.print(f"  Entered on {escape(r.trigger)}; re-entry: {escape(r.re_entry)}. "
                  f"Entries: {entries}.")  # fmt: skip
    table = Table(title_justify="left")
    for col in ("step", "kind", "at it now", "runs", "outcomes", "messages"):
        table.add_column(col)
    for s in r.steps:
        outcomes = ", ".join(f"{k} {v:,}" for k, v in sorted(s.outcomes.items()))
        ledger = ", ".join(f"{k} {v:,}" for k, v in sorted(s.ledger.items()))
        table.add_row(escape(s.step), s.kind, f"{s.waiting:,}", f"{s.runs:,}", escape(outcomes),
                      escape(ledger))  # fmt: skip
    console.print(table)
    for customer, reason in r.failures:
        console.print(f"  [red]failed[/] {escape(customer)}: {escape(reason)}")


@app.command("pause")
@errors
def pause(name: NameArg, workspace: WorkspaceOpt = Path(".")) -> None:
    """Pause a journey: nobody enters, no step runs and nothing of it is sent until resumed."""
    with open_workspace(workspace) as ws:
        set_state(ws, name, "paused")
    console.print(f"{escape(name)} paused. Resume with `streamwise journey resume {escape(name)}`.")


@app.command("resume")
@errors
def resume(name: NameArg, workspace: WorkspaceOpt = Path(".")) -> None:
    """Resume a paused journey; steps that fell due meanwhile run at the worker's next round
    (events received while it was paused do not admit anyone)."""
    with open_workspace(workspace) as ws:
        set_state(ws, name, "active")
    console.print(f"{escape(name)} resumed.")


@app.command("templates")
@errors
def templates_(
    write_to: Annotated[
        Optional[Path],  # noqa: UP045 - Typer needs Optional here
        typer.Option("--write", help="Write the templates as YAML files into this folder."),
    ] = None,
) -> None:
    """The ready-made journeys: welcome series, post-purchase cross-sell, win-back and cart
    abandonment. Write them out, edit the sender and tracking URL, then `journey create`."""
    shipped = templates()
    if write_to is not None:
        for path in write(write_to):
            console.print(f"Wrote {escape(str(path))}")
        return
    table = Table(title="Journey templates", title_justify="left")
    for col in ("name", "entered on", "what it does"):
        table.add_column(col)
    for t in shipped:
        table.add_row(t.name, escape(t.trigger), escape(t.description))
    console.print(table)
