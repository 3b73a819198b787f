"""``streamwise init``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from streamwise.cli.common import console, errors
from streamwise.workspace import Workspace

__all__ = ["init"]


@errors
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")] = Path(
        "."
    ),
    company: Annotated[str, typer.Option(help="Your company's name.")] = "My Company",
    brand: Annotated[str, typer.Option(help="Your brand, as it appears in competitor data.")] = (
        "My Brand"
    ),
    currency: Annotated[str, typer.Option(help="Default ISO 4217 currency.")] = "USD",
) -> None:
    """Create a workspace: streamwise.toml, the analytics database (DuckDB) and the operational
    database (SQLite, migrated). Safe to run again: it only brings the databases up to date."""
    existed = (directory / "streamwise.toml").exists()
    with Workspace.init(directory, company=company, brand=brand, currency=currency) as ws:
        info = ws.describe()
    verb = "Updated" if existed else "Created"
    console.print(f"[green]{verb} workspace[/] {info['workspace']}")
    console.print(f"  settings     {info['settings']}")
    console.print(f"  analytics    {info['analytics']}")
    console.print(f"  operational  {info['operational']}")
    console.print(
        f"Next: [bold]streamwise import customers FILE -w {directory}[/] "
        "(see docs/data.md for the columns)."
    )
