"""Shared pieces of the command line: consoles, the workspace option, error handling."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from streamwise.errors import StreamwiseError
from streamwise.workspace import Workspace

__all__ = ["WorkspaceOpt", "console", "errors", "open_workspace", "progress", "stderr"]

console = Console()
stderr = Console(stderr=True)

WorkspaceOpt = Annotated[
    Path,
    typer.Option(
        "--workspace",
        "-w",
        envvar="STREAMWISE_WORKSPACE",
        help="Workspace folder (default: the current directory).",
        show_default=False,
    ),
]

F = TypeVar("F", bound=Callable[..., Any])


def errors(fn: F) -> F:
    """Turn Streamwise errors into a one-line message on stderr and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StreamwiseError as exc:
            stderr.print(f"[bold red]Error:[/] {escape(str(exc))}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def open_workspace(path: Path) -> Workspace:
    """Open the workspace at ``path`` (raises WorkspaceError with what to do)."""
    return Workspace.open(path)


def progress(transient: bool = False) -> Progress:
    """A Rich progress display on stderr: spinner, description, bar, count, elapsed time."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=transient,
    )
