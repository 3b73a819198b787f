"""``streamwise customers summarize|rfm|clv``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from streamwise.cli.common import WorkspaceOpt, console, errors, open_workspace, progress
from streamwise.upstream.customers.workspace import (
    PURCHASE_MODELS,
    run_clv,
    run_rfm,
    run_segments,
    run_summary,
)

__all__ = ["app"]

app = typer.Typer(
    help="Customer analytics: purchase summaries, RFM segments, customer lifetime value.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


@app.command("summarize")
@errors
def summarize_cmd(
    workspace: WorkspaceOpt = Path("."),
    unit: Annotated[str, typer.Option(help="W (weeks) or D (days).")] = "W",
    calibration_end: Annotated[
        Optional[str],  # noqa: UP045 - Typer needs Optional here
        typer.Option(help="Cut-off date (YYYY-MM-DD); later purchases form the holdout."),
    ] = None,
) -> None:
    """Per customer: repeat purchases (frequency), recency, T and mean repeat value, saved as the
    table **customer_summary**."""
    with open_workspace(workspace) as ws, progress(transient=True) as bar:
        bar.add_task("summarising orders", total=None)
        summary = run_summary(ws, unit=unit, calibration_end=calibration_end)  # type: ignore[arg-type]
    console.print(
        f"[green]Summarised {summary.customers:,} customers[/] ({summary.repeat_buyers:,} "
        "bought again); "
        "saved as table customer_summary."
    )


@app.command("rfm")
@errors
def rfm_cmd(
    workspace: WorkspaceOpt = Path("."),
    bins: Annotated[int, typer.Option(help="Score levels (5 is standard).")] = 5,
) -> None:
    """RFM scores and the ten named segments (Champions ... Lost) with the rule behind each,
    saved as the table **customer_rfm**."""
    with open_workspace(workspace) as ws, progress(transient=True) as bar:
        bar.add_task("scoring customers", total=None)
        out = run_rfm(ws, bins=bins)
    table = Table(title="RFM segments", title_justify="left")
    for col in ("segment", "customers", "share", "days since last", "orders", "spent"):
        table.add_column(col, justify="left" if col == "segment" else "right")
    for name, row in out.iterrows():
        table.add_row(str(name), f"{int(row.customers):,}", f"{row.share:.0%}",
                      f"{row.recency_days:,.0f}", f"{row.frequency:.1f}",
                      f"{row.monetary:,.0f}")  # fmt: skip
    console.print(table)
    console.print("Saved as table customer_rfm (with each customer's rule).")


@app.command("clv")
@errors
def clv_cmd(
    workspace: WorkspaceOpt = Path("."),
    model: Annotated[
        str, typer.Option(help=f"Purchase model: {', '.join(PURCHASE_MODELS)}.")
    ] = "bgnbd",
    horizon: Annotated[float, typer.Option(help="Weeks ahead.")] = 52.0,
    steps: Annotated[int, typer.Option(help="Discounting steps in the horizon.")] = 12,
    discount_rate: Annotated[float, typer.Option(help="Discount rate per step.")] = 0.01,
) -> None:
    """Fit a purchase model (BG/NBD by default) and Gamma-Gamma spend by maximum likelihood;
    save P(alive), expected purchases, expected spend and discounted CLV per customer as the
    table **customer_clv**."""
    with open_workspace(workspace) as ws, progress(transient=True) as bar:
        bar.add_task(f"fitting {model} and Gamma-Gamma", total=None)
        run = run_clv(ws, model=model, horizon=horizon, steps=steps, discount_rate=discount_rate)
    table = Table(title=f"{type(run.purchase_model).__name__} and GammaGamma", title_justify="left")
    for col in ("parameter", "estimate", "std. error"):
        table.add_column(col, justify="left" if col == "parameter" else "right")
    for m in (run.purchase_model, run.spend_model):
        for name, row in m.summary().iterrows():
            table.add_row(str(name), f"{row.estimate:.4g}", f"{row.std_error:.3g}")
    console.print(table)
    c = run.totals
    console.print(
        f"{c['customers']:,.0f} customers: mean P(alive) {c['mean_probability_alive']:.2f}, "
        f"expected purchases in {horizon:g} weeks {c['expected_purchases']:,.0f}, "
        f"total CLV {c['total_clv']:,.0f}. Saved as table customer_clv. Fitted on "
        f"{run.histories:,} distinct purchase histories and {run.spend_rows:,} repeat buyers' "
        "spend."
    )


@app.command("segment")
@errors
def segment_cmd(
    workspace: WorkspaceOpt = Path("."),
    k_max: Annotated[int, typer.Option(help="Largest number of segments to consider.")] = 10,
    seed: Annotated[int, typer.Option(help="Seed of the clustering and the bootstrap.")] = 0,
) -> None:
    """Behavioural segments: k-means on standardised order frequency, order value, recency,
    channel mix and category mix, k chosen by silhouette gain over uniform noise, with bootstrap
    stability; says so when the customers form no distinct groups. Labels are saved as the
    table **customer_segments**."""
    with open_workspace(workspace) as ws, progress(transient=True) as bar:
        bar.add_task("clustering customers", total=None)
        result = run_segments(ws, k_max=k_max, random_state=seed)
    scores = Table(title="Choosing k", title_justify="left")
    for col in ("k", "silhouette", "noise", "gain", "stability (ARI)"):
        scores.add_column(col, justify="right")
    for k, row in result.scores.iterrows():
        mark = " ◀" if k == result.k else ""
        scores.add_row(f"{k}{mark}", f"{row.silhouette:.2f}", f"{row.reference:.2f}",
                       f"{row.gain:.2f}", f"{row.stability:.2f}")  # fmt: skip
    console.print(scores)
    console.print(result.reason)
    if result.structure_found:
        table = Table(title="Segments", title_justify="left")
        for col in ("segment", "customers", "share", "what sets it apart"):
            table.add_column(col, justify="left" if col != "customers" else "right")
        for seg, row in result.profiles.iterrows():
            table.add_row(str(seg), f"{int(row.customers):,}", f"{row.share:.0%}",
                          "; ".join(result.distinguishing[int(seg)]))  # fmt: skip
        console.print(table)
    console.print("Saved as table customer_segments.")
