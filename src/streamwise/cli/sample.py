"""``streamwise sample``: write the sample business to files, at any size."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from streamwise.cli.common import console, errors, progress
from streamwise.data.sample import SampleConfig, generate
from streamwise.errors import ConfigError

__all__ = ["sample"]


@errors
def sample(
    directory: Annotated[Path, typer.Argument(help="Folder to write the files to.")],
    customers: Annotated[int, typer.Option(help="Number of customers.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Seed; the same seed gives the same data.")] = 42,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    bad_share: Annotated[
        float, typer.Option(help="Share of invalid rows to add to each table (0 for none).")
    ] = 0.002,
) -> None:
    """Write the sample business (every input kind, its questionnaire and planted ground truth)
    to files, streamed in chunks so that millions of customers fit in bounded memory. Import
    them with **streamwise import KIND FILE**."""
    if fmt not in ("parquet", "csv"):
        raise ConfigError(f"unknown format {fmt!r}; use parquet or csv")
    if customers < 100:
        raise ConfigError("use at least 100 customers")
    if not 0 <= bad_share < 0.5:
        raise ConfigError("--bad-share must lie in [0, 0.5)")
    cfg = SampleConfig(n_customers=customers, seed=seed, bad_share=bad_share)
    chosen: Literal["parquet", "csv"] = "parquet" if fmt == "parquet" else "csv"
    with progress() as bar:
        task = bar.add_task("generating the sample business", total=customers)
        biz = generate(
            config=cfg,
            out_dir=directory,
            fmt=chosen,
            progress=lambda n: bar.update(task, completed=n),
        )
        bar.update(task, completed=customers)
    for kind, path in sorted((biz.paths or {}).items()):
        console.print(f"  {kind:<18} {path}")
    console.print(
        f"[green]Wrote the sample business[/] ({customers:,} customers, seed {seed}) to "
        f"{directory}; planted truth in {directory / 'ground_truth.json'}."
    )
