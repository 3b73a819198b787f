"""The examples in docs/experiments.md run and print what the page says."""

from __future__ import annotations

import doctest
from pathlib import Path

DOC = Path(__file__).resolve().parents[3] / "docs" / "experiments.md"


def test_docs_examples_run():
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testfile(str(DOC), module_relative=False, optionflags=flags)
    assert result.attempted > 20
    assert result.failed == 0


def test_docs_name_every_public_name():
    from streamwise.measure import experiments

    text = DOC.read_text()
    missing = [n for n in experiments.__all__ if n != "Stat" and f"`{n}" not in text]
    assert missing == []
