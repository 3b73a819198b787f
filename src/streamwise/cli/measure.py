"""``streamwise measure lift|feedback|experiment|attribution|mmm|budget``."""

from __future__ import annotations

import getpass
import json
import math
from pathlib import Path
from typing import Annotated, Literal, Optional

import typer
from rich.markup import escape
from rich.table import Table

from streamwise.cli.common import WorkspaceOpt, console, errors, open_workspace
from streamwise.cli.plan import print_changes

__all__ = ["app"]

app = typer.Typer(
    help=(
        "Measure what worked and feed it back into the plan: campaign lift from holdouts, "
        "experiments, attribution, the media mix model, the budget, and the plan-versus-actual "
        "run that saves the plan's next version."
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
CostOpt = Annotated[
    Optional[float],  # noqa: UP045 - Typer needs Optional here
    typer.Option("--cost-per-send", min=0.0, help="Cost of one message, for iROAS."),
]


def _pct(value: float | None, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:+.{digits}%}"


def _money(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.0f}"


@app.command("lift")
@errors
def lift_cmd(
    workspace: WorkspaceOpt = Path("."),
    campaign: Annotated[
        Optional[list[int]],  # noqa: UP045 - Typer needs Optional here
        typer.Option("--campaign", help="Campaign id (repeat; default: every one with a holdout)."),
    ] = None,
    by: Annotated[
        Literal["segment", "persona", "none"],
        typer.Option("--by", help="Also per segment or per persona (or none)."),
    ] = "persona",
    cost_per_send: CostOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What each campaign caused, against its holdout: conversion lift per send with its 95%
    interval, incremental conversions and revenue, and iROAS (with **--cost-per-send**)."""
    from streamwise.measure.incrementality import workspace_lift

    with open_workspace(workspace) as ws:
        frame = workspace_lift(
            ws, campaign, by=None if by == "none" else by, cost_per_send=cost_per_send
        )
    if as_json:
        typer.echo(frame.to_json(orient="records", indent=2))
        return
    if frame.empty:
        console.print(
            "No campaign with a holdout yet: give a campaign `holdout: 0.1` to measure it."
        )
        return
    table = Table(
        title="Incremental effect against the holdout (95% intervals)", title_justify="left"
    )
    for col in (
        "campaign",
        "group",
        "treated",
        "holdout",
        "conversion lift",
        "interval",
        "incr. conversions",
        "incr. revenue",
        "iROAS",
    ):
        table.add_column(col, justify="left" if col in ("campaign", "group") else "right")
    for r in frame.itertuples(index=False):
        table.add_row(
            escape(str(r.campaign)),
            escape(str(r.group)),
            f"{r.treated:,}",
            f"{r.holdout:,}",
            _pct(r.conversion_lift),
            f"{_pct(r.conversion_lift_low)} … {_pct(r.conversion_lift_high)}",
            _money(r.incremental_conversions),
            _money(r.incremental_revenue),
            "–" if r.iroas is None or math.isnan(r.iroas) else f"{r.iroas:.2f}",
        )
    console.print(table)


@app.command("feedback")
@errors
def feedback_cmd(
    questionnaire: Annotated[
        Path,
        typer.Option(
            "--questionnaire",
            "-q",
            exists=True,
            dir_okay=False,
            help="The survey's questionnaire (YAML), as for `plan build`.",
        ),
    ],
    workspace: WorkspaceOpt = Path("."),
    name: Annotated[
        Optional[str],  # noqa: UP045 - Typer needs Optional here
        typer.Option("--name", help="The plan (default: the plan saved most recently)."),
    ] = None,
    cost_per_send: CostOpt = None,
    max_budget_change: Annotated[
        float,
        typer.Option(min=0.0, help="Each channel's recommended spend within ± this share."),
    ] = 0.3,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show, do not save.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Measure the plan: every KPI against its target, segment value and personas refreshed,
    campaign lift per persona, the media budget re-allocated from the saved response curves, and
    the recommended changes — saved as the plan's next version (see `streamwise plan diff`)."""
    from streamwise.measure.feedback import measure_plan

    with open_workspace(workspace) as ws:
        run = measure_plan(
            ws,
            questionnaire,
            name=name,
            cost_per_send=cost_per_send,
            max_budget_change=max_budget_change,
            save=not dry_run,
            author=getpass.getuser(),
        )
    if as_json:
        typer.echo(json.dumps(run.to_dict(), indent=2, default=str))
        return
    m = run.measurement
    table = Table(title=f"Plan against actual, data through {m.as_of}", title_justify="left")
    for col in ("KPI", "owner", "baseline", "target", "actual", "progress", "time gone", "status"):
        table.add_column(col, justify="left" if col in ("KPI", "owner", "status") else "right")
    colour = {"met": "green", "on track": "green", "behind": "red", "no data": "yellow"}
    for r in run.kpi_frame().itertuples(index=False):
        table.add_row(
            escape(str(r.name)),
            str(r.owner),
            f"{r.baseline:,.4g}",
            f"{r.target:,.4g}",
            "–" if r.actual is None else f"{r.actual:,.4g}",
            "–" if r.progress is None else f"{r.progress:.0%}",
            f"{r.expected:.0%}",
            f"[{colour[r.status]}]{r.status}[/]",
        )
    console.print(table)
    if m.recommendations:
        console.print("[bold]Recommended changes[/]")
        for rec in m.recommendations:
            console.print(f"  • [{rec.owner}] {escape(rec.text)}", highlight=False)
    if run.saved is not None:
        console.print(
            f"[green]Saved plan {escape(run.saved.name)} version {run.saved.version}[/] "
            f"({len(run.changes)} changes from version {run.previous.version}; "
            f"`streamwise plan diff` lists them)"
        )
    else:
        console.print(f"Dry run: {len(run.changes)} changes, nothing saved.")
        print_changes(run.changes[:40])
