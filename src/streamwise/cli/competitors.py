"""``streamwise competitors``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from streamwise.cli.common import WorkspaceOpt, console, errors, open_workspace, progress
from streamwise.upstream.competitors.workspace import CompetitorRun, run_competitors

__all__ = ["competitors", "print_run"]


def print_run(run: CompetitorRun) -> None:
    """The findings, as people read them."""
    explained = ", ".join(f"{share:.0%}" for share in run.map.explained)
    console.print(f"Perceptual map ({run.map.method}): dimensions explain {explained}.")
    if run.white_space is not None:
        for row in run.white_space.itertuples():
            flag = "[yellow]white space[/]" if row.white_space else "served"
            console.print(
                f"  {row.segment}: nearest {row.nearest_brand} at {row.distance:.2f} "
                f"(radius {row.radius:.2f}) - {flag}"
            )
    missing = run.gaps.features[run.gaps.features["gap"]]
    if len(missing):
        lacks = ", ".join(f"{f} ({n} competitors)" for f, n in missing["competitors_with"].items())
        console.print(f"{run.brand} lacks: {lacks}.")
    if run.price_value is not None:
        pv = run.price_value.table["residual"].sort_values(ascending=False)
        console.print(
            "Price vs perceived value (above the line = better value): "
            + ", ".join(f"{b} {r:+.2f}" for b, r in pv.items())
            + "."
        )


@errors
def competitors(
    brand: Annotated[str, typer.Option(help="Our brand, as in the competitors data.")],
    workspace: WorkspaceOpt = Path("."),
    questionnaire: Annotated[
        Optional[Path],  # noqa: UP045 - Typer needs Optional here
        typer.Option("--questionnaire", "-q", help="Survey with ideal-rating questions."),
    ] = None,
    price: Annotated[
        Optional[str],  # noqa: UP045 - Typer needs Optional here
        typer.Option(help="Competitors' price attribute for the value map (e.g. price_tent)."),
    ] = None,
    method: Annotated[str, typer.Option(help="pca or ca (correspondence analysis).")] = "pca",
) -> None:
    """Perceptual map of the brands (with each segment's ideal point from the survey), white
    space, our feature and rating gaps, and the price vs perceived-value map. Saved as the tables
    **competitor_map**, **competitor_white_space**, **competitor_features**,
    **competitor_ratings** and **competitor_price_value**."""
    with open_workspace(workspace) as ws, progress(transient=True) as bar:
        bar.add_task("mapping the market", total=None)
        run = run_competitors(
            ws, brand, questionnaire=questionnaire, price_attribute=price, method=method
        )
    print_run(run)
