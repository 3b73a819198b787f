"""``streamwise trends``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich import box
from rich.table import Table

from streamwise.cli.common import WorkspaceOpt, console, errors, open_workspace, progress
from streamwise.errors import ConfigError
from streamwise.upstream.trends.analysis import TrendsRun
from streamwise.upstream.trends.forecast import DEFAULT_MODELS
from streamwise.upstream.trends.models import MODELS
from streamwise.upstream.trends.workspace import run_trends

__all__ = ["print_run", "trends"]

_STATUS = {"emerging": "[green]emerging[/]", "declining": "[red]declining[/]", "stable": "stable"}


def print_run(run: TrendsRun) -> None:
    """The categories, as people read them: growth, flag, seasonality, best model vs naive."""
    table = Table(
        title="Market trends", title_justify="left", box=box.SIMPLE_HEAD, collapse_padding=True,
        pad_edge=False,
    )  # fmt: skip
    several = run.trends["metric"].nunique() > 1
    columns = [("category", "left"), ("metric", "left")] if several else [("category", "left")]
    columns += [
        ("growth/yr", "right"),
        ("status", "left"),
        ("season", "right"),
        ("peak", "right"),
        ("MASE/naive", "right"),
        ("next yr", "right"),
    ]
    for name, justify in columns:
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for r in run.trends.itertuples():
        first = [r.category, r.metric] if several else [r.category]
        table.add_row(
            *first,
            f"{r.annual_growth:+.1%} ±{(r.growth_hi - r.growth_lo) * 50:.1f}",
            _STATUS.get(r.status, r.status),
            f"±{r.seasonal_amplitude:.0%}",
            str(r.peak_week),
            f"{r.mase:.2f}/{r.naive_mase:.2f}",
            f"{r.growth_next_year:+.1%}",
        )
    console.print(table)
    beat = (run.trends["mase"] < run.trends["naive_mase"]).sum()
    chosen = run.trends["best_model"].value_counts()
    models = ", ".join(f"{m} on {n}" for m, n in chosen.items())
    console.print(
        f"The best model beats the seasonal-naive forecast in backtests on {beat} of "
        f"{len(run.trends)} series (MASE below the naive one; "
        f"{run.backtest.windows} windows of {run.backtest.horizon} periods); best model: "
        f"{models} (table market_trends). Growth is per "
        "year ± the half-width of its 95 % interval; season is the seasonal swing; peak is the "
        "peak week; next yr is the forecast growth over the next year."
    )


@errors
def trends(
    workspace: WorkspaceOpt = Path("."),
    metric: Annotated[
        Optional[str],  # noqa: UP045 - Typer needs Optional here
        typer.Option(help="Only this metric of market_series (default: every metric)."),
    ] = None,
    horizon: Annotated[
        Optional[int],  # noqa: UP045 - Typer needs Optional here
        typer.Option(help="Periods to forecast (default: one year, e.g. 52 weeks).", min=1),
    ] = None,
    model: Annotated[
        Optional[list[str]],  # noqa: UP045 - Typer needs Optional here
        typer.Option(
            "--model",
            "-m",
            help=f"Candidate model, repeatable: {', '.join(MODELS)} "
            f"(default: {', '.join(DEFAULT_MODELS)}; seasonal_naive is always the baseline).",
        ),
    ] = None,
    backtest_horizon: Annotated[
        Optional[int],  # noqa: UP045 - Typer needs Optional here
        typer.Option(help="Periods per backtest window (default: about a quarter).", min=1),
    ] = None,
    windows: Annotated[int, typer.Option(help="Backtest windows (forecast origins).", min=1)] = 4,
    emerging: Annotated[
        float, typer.Option(help="Annual growth from which a category is emerging.")
    ] = 0.15,
    declining: Annotated[
        float, typer.Option(help="Annual growth from which a category is declining.")
    ] = -0.05,
) -> None:
    """Trends of the market series: forecasts with 80% and 95% intervals by the model with the
    best backtest MASE, annual growth with its interval, seasonality, and the emerging /
    declining / stable flag. Saved as the tables **market_trends**, **market_forecast**,
    **market_backtest** and **market_components**."""
    if declining >= emerging:
        raise ConfigError("--declining must be below --emerging (e.g. -0.05 and 0.15)")
    unknown = [m for m in model or () if m not in MODELS]
    if unknown:
        raise ConfigError(f"unknown model(s) {', '.join(unknown)}; use: {', '.join(MODELS)}")
    with open_workspace(workspace) as ws, progress(transient=True) as bar:
        task = bar.add_task("reading market_series", total=None)
        run = run_trends(
            ws,
            metric=metric,
            horizon=horizon,
            models=tuple(model) if model else DEFAULT_MODELS,
            backtest_horizon=backtest_horizon,
            windows=windows,
            emerging=emerging,
            declining=declining,
            on_step=lambda msg: bar.update(task, description=msg),
        )
    print_run(run)
