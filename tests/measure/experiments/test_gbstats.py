"""Cross-check against gbstats 0.8.0, which pins numpy<2 and pandas<2 and so runs in its own
virtual environment (``benchmarks/.venvs/gbstats``, created here from the package registry
when missing). The comparison itself lives in ``benchmarks/experiments.py``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parents[3] / "benchmarks" / "experiments.py"


@pytest.mark.slow
def test_matches_gbstats_to_1e_6():
    spec = importlib.util.spec_from_file_location("bench_experiments", BENCHMARK)
    assert spec is not None
    assert spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.compare_with_gbstats(repeats=1, seed=1, size="small")
    assert result["cases"] > 300
    assert result["missing"] == 0
    diffs = result["max_abs_diff"]
    assert {"proportion", "mean", "ratio", "cuped", "srm"} <= set(diffs)
    assert {"frequentist relative", "bayesian absolute", "sequential relative"} <= set(diffs)
    assert max(diffs.values()) <= 1e-6, diffs
