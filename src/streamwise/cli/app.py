"""The ``streamwise`` command."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from streamwise import __version__
from streamwise.cli import (
    ads,
    campaign,
    competitors,
    customers,
    data,
    demo,
    events,
    journey,
    measure,
    plan,
    report,
    research,
    sales,
    sample,
    serve,
    strategy,
    trends,
    worker,
    workspace,
)

__all__ = ["app", "main"]

app = typer.Typer(
    name="streamwise",
    help=(
        "Streamwise runs marketing as one loop: research and customer value upstream, "
        "campaigns downstream, measurement back into the plan.\n\n"
        "Start with **streamwise demo** to see the whole loop on a sample business, or "
        "**streamwise init DIR** for your own data."
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"streamwise {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        Optional[bool],  # noqa: UP045 - Typer needs Optional here
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = None,
) -> None:
    """Streamwise command line."""


app.command("init")(workspace.init)
app.command("import")(data.import_)
app.command("quarantine")(data.quarantine)
app.command("demo")(demo.demo)
app.command("sample")(sample.sample)
app.add_typer(customers.app, name="customers")
app.add_typer(research.app, name="research")
app.command("competitors")(competitors.competitors)
app.command("trends")(trends.trends)
app.command("personas")(strategy.personas)
plan.app.command("build")(strategy.build)
app.add_typer(plan.app, name="plan")
app.add_typer(campaign.app, name="campaign")
app.add_typer(ads.app, name="ads")
serve.register(app)
app.add_typer(events.app, name="events")
app.add_typer(sales.app, name="sales")
app.add_typer(journey.app, name="journey")
app.add_typer(measure.app, name="measure")
app.command("worker")(worker.worker)
app.command("report")(report.report)


def main() -> None:
    """Entry point of the ``streamwise`` script."""
    app()
