"""Shapley values (Zhao et al. 2018): hand example, efficiency, symmetry, null player, and the
simplified formula against the textbook sum over all coalitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from streamwise.measure.attribution import coalition_values, shapley_values


def _phi(frame: pd.DataFrame, **kw: str) -> dict[str, float]:
    res = shapley_values(frame, **kw)  # type: ignore[arg-type]
    return dict(zip(res.channels, res.conversions, strict=True))


def test_hand_example() -> None:
    # v({a}) = 2, v({b}) = 0, v({a, b}) = 6:
    # phi_a = 1/2 (v(a) - v()) + 1/2 (v(ab) - v(b)) = 1 + 3 = 4; phi_b = 0 + (6 - 2)/2 = 2
    paths = pd.DataFrame({"path": ["a > b", "a", "b > a > b"], "conversions": [3, 2, 1]})
    for method in ("simplified", "full"):
        assert _phi(paths, method=method) == pytest.approx({"a": 4.0, "b": 2.0})


def _random_paths(rng: np.random.Generator, n_channels: int, n_paths: int) -> pd.DataFrame:
    names = [f"c{i:02d}" for i in range(n_channels)]
    rows = []
    for _ in range(n_paths):
        k = rng.integers(1, 6)
        rows.append(" > ".join(rng.choice(names, size=k)))
    return pd.DataFrame(
        {
            "path": rows,
            "conversions": rng.integers(0, 20, n_paths),
            "value": rng.gamma(2.0, 10.0, n_paths),
            "nulls": rng.integers(0, 50, n_paths),
        }
    )


def test_efficiency_and_the_simplified_formula_equals_the_full_sum() -> None:
    paths = _random_paths(np.random.default_rng(3), 12, 400)
    simple = shapley_values(paths)
    full = shapley_values(paths, method="full")
    assert np.allclose(simple.conversions, full.conversions)
    assert np.allclose(simple.value, full.value)
    assert sum(simple.conversions) == pytest.approx(paths.conversions.sum())  # = v(all)
    assert sum(simple.value) == pytest.approx(paths.value.sum())


def test_symmetry_and_null_player() -> None:
    # a and b always appear together (in either order): equal values; z only on paths that do
    # not convert: zero
    paths = pd.DataFrame(
        {
            "path": ["a > b", "b > a > c", "c", "z > c", "z"],
            "conversions": [4, 6, 3, 0, 0],
            "nulls": [1, 2, 3, 4, 5],
        }
    )
    phi = _phi(paths)
    assert phi["a"] == pytest.approx(phi["b"])
    assert phi["z"] == 0.0
    assert phi == pytest.approx({"a": 2 + 2, "b": 2 + 2, "c": 2 + 3, "z": 0.0})


def test_twenty_channels_and_coalition_table() -> None:
    paths = _random_paths(np.random.default_rng(5), 20, 3000)
    full = shapley_values(paths, method="full")
    assert np.allclose(full.conversions, shapley_values(paths).conversions)
    table = coalition_values(paths)
    assert table.conversions.sum() == paths.conversions.sum()
    assert set(table.columns) == {"coalition", "size", "conversions", "value"}
    assert shapley_values(paths).to_dict()["model"] == "shapley"
