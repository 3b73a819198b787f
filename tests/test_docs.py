"""The docs name every setting and every command, and the README's quick start is the two
commands of the project's rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamwise.cli.app import app
from streamwise.cli.docs import command_paths
from streamwise.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    assert f"`{name}`" in (ROOT / "docs" / "workspace.md").read_text(), name


@pytest.mark.parametrize("words", command_paths(app))
def test_every_command_is_in_the_cli_reference(words: tuple[str, ...]) -> None:
    assert f"## `streamwise {' '.join(words)}`" in (ROOT / "docs" / "cli.md").read_text()


def test_readme_quick_start_is_make_demo_then_make_test() -> None:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Quick start")
    block = readme[start:].split("```")[1]
    commands = [line.split("#")[0].strip() for line in block.splitlines()[1:] if line.strip()]
    assert commands == ["make demo", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()
