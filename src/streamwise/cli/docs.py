"""Generate reference docs from the code: ``python -m streamwise.cli.docs data|cli``.

``docs/data.md`` comes from the data contracts and ``docs/cli.md`` from each command's
``--help``; tests fail when the committed pages differ from what this prints.
"""

from __future__ import annotations

import os
import sys

import typer
from typer.testing import CliRunner

from streamwise.data.contracts import render_markdown

__all__ = ["command_paths", "render_cli"]


def command_paths(app: typer.Typer, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and sub-command of ``app`` as a tuple of words."""
    out: list[tuple[str, ...]] = []
    for info in app.registered_commands:
        name = info.name or (info.callback.__name__ if info.callback else "")
        out.append((*prefix, name.replace("_", "-")))
    for group in app.registered_groups:
        if group.typer_instance is not None and group.name:
            out.append((*prefix, group.name))
            out += command_paths(group.typer_instance, (*prefix, group.name))
    return out


def _help(app: typer.Typer, words: tuple[str, ...]) -> str:
    env = {"COLUMNS": "100", "TERMINAL_WIDTH": "100", "NO_COLOR": "1", "TERM": "dumb"}
    result = CliRunner().invoke(app, [*words, "--help"], env=env, prog_name="streamwise")
    if result.exit_code != 0:
        raise RuntimeError(f"streamwise {' '.join(words)} --help failed: {result.output}")
    return "\n".join(line.rstrip() for line in result.output.strip("\n").splitlines())


def render_cli() -> str:
    """Markdown reference of every command: its ``--help`` as printed."""
    from streamwise.cli.app import app

    lines = [
        "# Command-line reference",
        "",
        "<!-- Generated from the commands' --help by `make docs`; do not edit by hand. -->",
        "",
        "Every command acts on the workspace in the current directory unless `--workspace DIR` "
        "(or the `STREAMWISE_WORKSPACE` variable) says otherwise.",
        "",
    ]
    for words in [(), *command_paths(app)]:
        lines += [f"## `{' '.join(('streamwise', *words))}`", "", "```text", _help(app, words)]
        lines += ["```", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Print the page named by ``argv[0]`` (``data`` or ``cli``)."""
    page = argv[0] if argv else ""
    if page == "data":
        sys.stdout.write(render_markdown())
    elif page == "cli":
        os.environ.setdefault("COLUMNS", "100")
        sys.stdout.write(render_cli())
    else:
        sys.stderr.write("usage: python -m streamwise.cli.docs data|cli\n")
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
