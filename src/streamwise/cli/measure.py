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

from streamwise.cli.common import WorkspaceOpt, console, errors, open_workspace, progress
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


def _counts(text: str, what: str) -> tuple[int, int]:
    from streamwise.errors import ConfigError

    try:
        n, k = (int(x.replace(",", "").replace("_", "")) for x in text.split(":"))
    except ValueError:
        raise ConfigError(f"{what} must be N:CONVERSIONS, e.g. 10000:1100 (got {text!r})") from None
    return n, k


@app.command("experiment")
@errors
def experiment_cmd(
    control: Annotated[str, typer.Option(help="Control arm as N:CONVERSIONS, e.g. 10000:1000.")],
    treatment: Annotated[str, typer.Option(help="Treatment arm as N:CONVERSIONS.")],
    method: Annotated[
        Literal["frequentist", "bayesian", "sequential"], typer.Option(help="How to compare.")
    ] = "bayesian",
    absolute: Annotated[
        bool, typer.Option("--absolute", help="Absolute difference instead of relative lift.")
    ] = False,
    alpha: Annotated[float, typer.Option(min=0.0001, max=0.5, help="1 − interval level.")] = 0.05,
    as_json: JsonOpt = False,
) -> None:
    """Compare two arms of a conversion test (as GrowthBook's engine does): the lift with its
    interval, the p-value or the chance to win and the expected loss, and a sample-ratio check
    (for an intended 50/50 split)."""
    from streamwise.measure.experiments import ProportionStat, compare, srm_check

    (n_c, k_c), (n_t, k_t) = _counts(control, "--control"), _counts(treatment, "--treatment")
    c, t = ProportionStat(n=n_c, conversions=k_c), ProportionStat(n=n_t, conversions=k_t)
    r = compare(c, t, method=method, relative=not absolute, alpha=alpha)
    srm = srm_check([n_c, n_t], [0.5, 0.5])
    if as_json:
        typer.echo(json.dumps({"result": r.to_dict(), "srm_p_value": srm.p_value}, indent=2))
        return
    fmt = (lambda v: _pct(v)) if not absolute else (lambda v: f"{v:+.4g}")
    if r.effect is None:
        console.print(f"[yellow]No estimate:[/] {escape(str(r.error_message))}")
        return
    console.print(
        f"{method.capitalize()}: {'lift' if not absolute else 'difference'} {fmt(r.effect)} "
        f"({(1 - alpha):.0%} interval {fmt(r.ci_low)} … {fmt(r.ci_high)})"
    )
    if r.p_value is not None:
        console.print(f"  p-value {r.p_value:.4g}")
    if r.chance_to_win is not None:
        console.print(
            f"  chance to beat control {r.chance_to_win:.1%}; expected loss if shipped "
            f"{r.risk_treatment:.3g}, if kept {r.risk_control:.3g}"
        )
    flag = "[red]mismatch[/]" if srm.mismatch else "ok"
    console.print(f"  sample ratio {n_c:,} : {n_t:,} (p = {srm.p_value:.3g}): {flag}")


@app.command("attribution")
@errors
def attribution_cmd(
    workspace: WorkspaceOpt = Path("."),
    model: Annotated[
        Optional[list[str]],  # noqa: UP045 - Typer needs Optional here
        typer.Option(
            help="Model (repeat): first, last, linear, position, time_decay, markov, "
            "shapley; default all."
        ),
    ] = None,
    order: Annotated[int, typer.Option(min=1, max=3, help="Order of the Markov chain.")] = 1,
    window_hours: Annotated[
        float,
        typer.Option(
            min=0.0, help="An order within this many hours of the last touch converts the journey."
        ),
    ] = 24.0,
    as_json: JsonOpt = False,
) -> None:
    """Credit conversions to channels from the workspace's touchpoints and orders: the
    heuristics, Markov removal effects (exact) and Shapley values side by side; saved as
    table channel_attribution."""
    from streamwise.measure.attribution.workspace import DEFAULT_MODELS, run_attribution

    with open_workspace(workspace) as ws:
        run = run_attribution(
            ws, tuple(model) if model else DEFAULT_MODELS, order=order, window_hours=window_hours
        )
    if as_json:
        typer.echo(json.dumps(run.to_dict(), indent=2, default=float))
        return
    pivot = run.pivot("conversions")
    table = Table(
        title=f"Conversions credited per channel ({run.journeys:,} journeys, "
        f"{len(run.paths):,} distinct paths)",
        title_justify="left",
    )
    table.add_column("channel")
    for col in pivot.columns:
        table.add_column(str(col), justify="right")
    for channel, row in pivot.iterrows():
        table.add_row(escape(str(channel)), *(f"{v:,.1f}" for v in row))
    console.print(table)
    effects = run.table.dropna(subset=["removal_effect"])
    if len(effects):
        console.print(
            "Markov removal effects (share of conversions lost without the channel): "
            + ", ".join(f"{r.channel} {r.removal_effect:.3f}" for r in effects.itertuples())
        )


@app.command("budget")
@errors
def budget_cmd(
    workspace: WorkspaceOpt = Path("."),
    total: Annotated[
        Optional[float],  # noqa: UP045 - Typer needs Optional here
        typer.Option(
            min=0.0, help="Budget per period (default: today's, the mean of the last 13 weeks)."
        ),
    ] = None,
    max_change: Annotated[
        Optional[float],  # noqa: UP045 - Typer needs Optional here
        typer.Option(min=0.0, help="Each channel within ± this share of its current spend."),
    ] = None,
    objective: Annotated[
        Literal["mean", "risk_adjusted", "quantile"],
        typer.Option(help="Maximise the expected outcome, mean − sd, or a low quantile."),
    ] = "mean",
    as_json: JsonOpt = False,
) -> None:
    """Allocate a media budget across channels from the response curves the media mix model
    saved (`streamwise measure mmm`), against today's split: expected outcome with its interval,
    ROI and marginal ROI per channel, and the chance the new split does better."""
    from streamwise.errors import ConfigError
    from streamwise.measure.budget import optimise_budget
    from streamwise.measure.curves import load_curves
    from streamwise.measure.feedback import current_spend

    with open_workspace(workspace) as ws:
        con = ws.duckdb()
        curves = load_curves(con)
        spend = current_spend(con)
    if not curves:
        raise ConfigError(
            "no response curves saved yet; fit the media mix model first (streamwise measure mmm)"
        )
    current = {ch: spend.get(ch, 0.0) for ch in curves}
    result = optimise_budget(
        curves,
        total if total is not None else sum(current.values()),
        current=current,
        max_change=max_change,
        objective=objective,
    )
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, default=float))
        return
    console.print(escape(str(result)), highlight=False)


@app.command("mmm")
@errors
def mmm_cmd(
    workspace: WorkspaceOpt = Path("."),
    draws: Annotated[int, typer.Option(min=50, help="Posterior draws per chain.")] = 1000,
    tune: Annotated[int, typer.Option(min=50, help="Warm-up steps per chain.")] = 1000,
    chains: Annotated[int, typer.Option(min=1, help="Chains (run vectorised).")] = 2,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    value_per_customer: Annotated[
        Optional[float],  # noqa: UP045 - Typer needs Optional here
        typer.Option(min=0.0, help="Money per new customer (default: mean first order)."),
    ] = None,
    lift_tests: Annotated[
        Optional[Path],  # noqa: UP045 - Typer needs Optional here
        typer.Option(
            exists=True,
            dir_okay=False,
            help="CSV of lift tests that calibrate the "
            "model: channel, start, end, delta_spend, delta_y, sigma.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Fit the Bayesian media mix model (adstock + Hill saturation per channel, trend, yearly
    seasonality; NUTS in NumPyro) to weekly spend and new customers: contribution, ROI and
    marginal ROI per channel with 90% intervals. Saves media_roi and the response curves that
    `measure budget` and `measure feedback` use. Needs the [bayes] extra."""
    from streamwise.measure.mmm.workspace import read_lift_tests, run_mmm

    tests = read_lift_tests(lift_tests) if lift_tests is not None else None
    with open_workspace(workspace) as ws, progress(transient=True) as bar:
        bar.add_task(f"NUTS: {chains} chains × {tune} + {draws} steps", total=None)
        run = run_mmm(
            ws,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=seed,
            value_per_unit=value_per_customer,
            lift_tests=tests,
        )
    if as_json:
        typer.echo(json.dumps(run.to_dict(), indent=2, default=float))
        return
    table = Table(
        title=f"Media mix over {run.data.n_weeks} weeks (90% intervals), a new "
        f"customer worth {run.model.value_per_unit:,.2f}",
        title_justify="left",
    )
    for col in ("channel", "spend", "new customers", "ROI", "interval", "marginal ROI"):
        table.add_column(col, justify="left" if col == "channel" else "right")
    for r in run.table.itertuples(index=False):
        table.add_row(
            escape(str(r.channel)),
            f"{r.spend:,.0f}",
            f"{r.contribution:,.0f}",
            f"{r.roi:.2f}",
            f"{r.roi_low:.2f} … {r.roi_high:.2f}",
            f"{r.marginal_roi:.2f}",
        )
    console.print(table)
