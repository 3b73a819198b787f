"""``streamwise plan show|export|versions|diff|import``."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from streamwise.cli.common import WorkspaceOpt, console, errors, open_workspace
from streamwise.errors import WorkspaceError
from streamwise.plan.document import Kpi, PlanDocument
from streamwise.plan.export import (
    PlanFormat,
    plan_from_yaml,
    plan_to_json,
    plan_to_yaml,
    write_plan,
)
from streamwise.plan.store import (
    Change,
    PlanVersionInfo,
    diff_plans,
    load_plan_version,
    plan_versions,
    save_plan,
)

__all__ = ["app", "print_changes", "print_plan"]

app = typer.Typer(
    help=(
        "The marketing plan: goals, KPIs with baselines and targets, owners, targets and "
        "positioning, and a timeline, kept as immutable versions in the operational database. "
        "Edit it with **export** → edit the YAML → **import**."
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

NameOpt = Annotated[
    Optional[str],  # noqa: UP045 - Typer needs Optional here
    typer.Option("--name", help="The plan (default: the plan saved most recently)."),
]
VersionOpt = Annotated[
    Optional[int],  # noqa: UP045 - Typer needs Optional here
    typer.Option("--version", min=1, help="The version (default: the latest)."),
]


def _num(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def _saved(info: PlanVersionInfo) -> str:
    return info.created_at.strftime("%Y-%m-%d %H:%M UTC")


def print_plan(info: PlanVersionInfo, doc: PlanDocument) -> None:
    """The plan as people read it: summary, owners, targets, positioning, goals and KPIs,
    timeline."""
    console.print(
        f"[bold]Plan {escape(doc.name)}[/] version {info.version} - {escape(doc.company)} / "
        f"{escape(doc.brand)}, {doc.start} to {doc.end} ({escape(doc.currency)})"
    )
    by = f" by {escape(info.author)}" if info.author else ""
    note = f": {escape(info.note)}" if info.note else ""
    console.print(f"Saved {_saved(info)}{by}{note}\n")
    console.print(escape(doc.summary) + "\n")
    if doc.owners:
        owners = ", ".join(f"{escape(team)}: {escape(who)}" for team, who in doc.owners.items())
        console.print(f"[bold]Owners[/] {owners}\n")

    if doc.strategy.targets:
        table = Table(title="Targets", title_justify="left")
        for col in ("segment", "decision", "score", "rank", "why"):
            table.add_column(col, justify="right" if col in ("score", "rank") else "left")
        for t in doc.strategy.targets:
            why = "; ".join(escape(r.text) for r in t.reasons)
            table.add_row(escape(t.segment), t.decision, f"{t.score:.2f}", str(t.rank), why)
        console.print(table)
    for p in doc.strategy.positioning:
        console.print(f"[bold]Positioning ({escape(p.segment)})[/] {escape(p.statement)}")
    if doc.strategy.positioning:
        console.print()

    kpis = {k.id: k for k in doc.kpis}
    listed: set[str] = set()
    for goal in doc.goals:
        console.print(
            f"[bold]{escape(goal.title)}[/] ({escape(goal.id)}) - {goal.owner}, due {goal.due}"
        )
        if goal.description:
            console.print(f"  {escape(goal.description)}")
        for kpi_id in goal.kpis:
            listed.add(kpi_id)
            kpi = kpis.get(kpi_id)
            console.print(f"  {_kpi_line(kpi) if kpi else escape(kpi_id) + ' (no such KPI)'}")
    others = [k for k in doc.kpis if k.id not in listed]
    if others:
        console.print("[bold]Other KPIs[/]")
        for kpi in others:
            console.print(f"  {_kpi_line(kpi)}")
    if doc.goals or others:
        console.print()

    m = doc.measurement
    if m is not None:
        actual = {a.id: a for a in m.kpis}
        console.print(f"[bold]Measured[/] on data through {m.as_of}:")
        for kpi in doc.kpis:
            a = actual.get(kpi.id)
            if a is not None:
                now = "no data" if a.actual is None else f"{_num(a.actual)} {escape(kpi.unit)}"
                done = "" if a.progress is None else f", {a.progress:.0%} of the way"
                console.print(f"  {escape(kpi.id)}: {now}{done} ({a.status})")
        for rec in m.recommendations:
            console.print(f"  • [{rec.owner}] {escape(rec.text)}", highlight=False)
        console.print()

    if doc.timeline:
        table = Table(title="Timeline", title_justify="left")
        for col in ("start", "end", "milestone", "owner", "goal"):
            table.add_column(col)
        for m in sorted(doc.timeline, key=lambda m: (m.start, m.end)):
            table.add_row(str(m.start), str(m.end), escape(m.title), m.owner, escape(m.goal or ""))
        console.print(table)


def _kpi_line(kpi: Kpi) -> str:
    arrow = "↑" if kpi.direction == "increase" else "↓"
    segment = f", {escape(kpi.segment)}" if kpi.segment else ""
    return (
        f"{escape(kpi.id)} {escape(kpi.name)}: {_num(kpi.baseline)} → {_num(kpi.target)} "
        f"{escape(kpi.unit)} {arrow} by {kpi.due} ({kpi.owner}{segment})"
    )


def print_changes(changes: list[Change]) -> None:
    """One line per changed field."""
    for change in changes:
        colour = {"added": "green", "removed": "red", "changed": "yellow"}[change.kind]
        console.print(f"  [{colour}]{escape(str(change))}[/]", highlight=False)


@app.command("show")
@errors
def show_cmd(
    workspace: WorkspaceOpt = Path("."),
    name: NameOpt = None,
    version: VersionOpt = None,
) -> None:
    """Print the plan: summary, owners, targets with their reasons, positioning statements, goals
    with their KPIs (baseline → target, owner, due date) and the timeline."""
    with open_workspace(workspace) as ws:
        info, doc = load_plan_version(ws, name, version)
    print_plan(info, doc)


@app.command("export")
@errors
def export_cmd(
    workspace: WorkspaceOpt = Path("."),
    fmt: Annotated[
        PlanFormat, typer.Option("--format", "-f", help="yaml (to edit), html or json.")
    ] = "yaml",
    output: Annotated[
        Optional[Path],  # noqa: UP045 - Typer needs Optional here
        typer.Option("--output", "-o", help="File to write (default: print it)."),
    ] = None,
    name: NameOpt = None,
    version: VersionOpt = None,
) -> None:
    """Write the plan as YAML (edit it, then **streamwise plan import** it), a self-contained
    HTML report, or JSON."""
    with open_workspace(workspace) as ws:
        info, doc = load_plan_version(ws, name, version)
    if output is None:
        if fmt == "yaml":
            typer.echo(plan_to_yaml(doc, version=info.version), nl=False)
        elif fmt == "json":
            typer.echo(plan_to_json(doc), nl=False)
        else:
            from streamwise.reports.plan import plan_html

            typer.echo(plan_html(doc, version=info.version))
        return
    path = write_plan(doc, output, fmt, version=info.version)
    console.print(
        f"[green]Wrote plan {escape(info.name)} version {info.version}[/] to {escape(str(path))}"
    )


@app.command("versions")
@errors
def versions_cmd(workspace: WorkspaceOpt = Path("."), name: NameOpt = None) -> None:
    """List the plan's versions: when, by whom, why, and the content hash."""
    with open_workspace(workspace) as ws:
        rows = plan_versions(ws, name)
    table = Table(title=f"Plan {escape(rows[0].name)}", title_justify="left")
    for col in ("version", "saved", "author", "note", "hash"):
        table.add_column(col, justify="right" if col == "version" else "left")
    for row in rows:
        table.add_row(
            str(row.version), _saved(row), escape(row.author), escape(row.note),
            row.content_hash[:12],
        )  # fmt: skip
    console.print(table)


@app.command("diff")
@errors
def diff_cmd(
    workspace: WorkspaceOpt = Path("."),
    name: NameOpt = None,
    from_: Annotated[
        Optional[int],  # noqa: UP045 - Typer needs Optional here
        typer.Option("--from", min=1, help="Older version (default: the one before --to)."),
    ] = None,
    to: Annotated[
        Optional[int],  # noqa: UP045 - Typer needs Optional here
        typer.Option("--to", min=1, help="Newer version (default: the latest)."),
    ] = None,
) -> None:
    """What changed between two versions of the plan, field by field (default: the previous
    version against the latest)."""
    with open_workspace(workspace) as ws:
        new_info, new = load_plan_version(ws, name, to)
        if from_ is None:
            if new_info.version == 1:
                raise WorkspaceError(
                    f"plan {new_info.name!r} has only version 1; nothing to compare it with"
                )
            from_ = new_info.version - 1
        old_info, old = load_plan_version(ws, new_info.name, from_)
    changes = diff_plans(old, new)
    console.print(
        f"Plan {escape(new_info.name)}: version {old_info.version} → {new_info.version}, "
        f"{len(changes)} change{'' if len(changes) == 1 else 's'}"
    )
    print_changes(changes)


@app.command("import")
@errors
def import_cmd(
    path: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="The plan YAML to save.")
    ],
    workspace: WorkspaceOpt = Path("."),
    author: Annotated[
        Optional[str],  # noqa: UP045 - Typer needs Optional here
        typer.Option(help="Who made the changes (default: your user name)."),
    ] = None,
    note: Annotated[str, typer.Option(help="Why: kept with the version.")] = "",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; save nothing.")
    ] = False,
) -> None:
    """Save an edited plan YAML (from **streamwise plan export**) as a new version, after
    checking it, and list what changed. The plan's `name` in the file picks the plan; an
    unchanged file saves nothing."""
    doc = plan_from_yaml(path.read_text(encoding="utf-8"), source=str(path))
    with open_workspace(workspace) as ws:
        try:
            before: tuple[PlanVersionInfo, PlanDocument] | None = load_plan_version(ws, doc.name)
        except WorkspaceError:
            before = None
        changes = diff_plans(before[1], doc) if before else []
        if before is not None and not changes:
            console.print(
                f"Plan {escape(doc.name)} is unchanged (same as version {before[0].version}); "
                "nothing saved."
            )
            return
        if dry_run:
            what = f"{len(changes)} changes" if before else "a new plan"
            console.print(f"Would save plan {escape(doc.name)}: {what}.")
            print_changes(changes)
            return
        info = save_plan(ws, doc, author=author or _user(), note=note)
    if before is not None and info.version == before[0].version:
        console.print(f"Plan {escape(doc.name)} is unchanged; nothing saved.")
        return
    what = f"{len(changes)} change{'' if len(changes) == 1 else 's'}" if before else "new plan"
    console.print(f"[green]Saved plan {escape(info.name)} version {info.version}[/] ({what}).")
    print_changes(changes)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
