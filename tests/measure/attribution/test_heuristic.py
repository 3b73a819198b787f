"""Heuristic rules on a tiny set of paths, checked against sums done by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from streamwise.errors import ConfigError
from streamwise.measure.attribution import heuristic

PATHS = pd.DataFrame(
    {
        "path": ["a > b > c", "b", "c > c", "a > b"],
        "conversions": [10, 2, 4, 0],
        "value": [100.0, 20.0, 40.0, 0.0],
        "nulls": [3, 1, 0, 5],
    }
)


def _conv(model: str, **kw: float) -> dict[str, float]:
    res = heuristic(PATHS, model, **kw)  # type: ignore[arg-type]
    return dict(zip(res.channels, res.conversions, strict=True))


def test_first_and_last_touch() -> None:
    assert _conv("first") == pytest.approx({"a": 10, "b": 2, "c": 4})
    assert _conv("last") == pytest.approx({"a": 0, "b": 2, "c": 14})


def test_linear_gives_one_nth_to_each_touch() -> None:
    # a > b > c: 10/3 each; b: 2 to b; c > c: 2 + 2 to c
    assert _conv("linear") == pytest.approx({"a": 10 / 3, "b": 10 / 3 + 2, "c": 10 / 3 + 4})


def test_position_based_40_20_40() -> None:
    # a > b > c: 4 / 2 / 4; b: 2; c > c: two touches split 50/50 -> 4 to c
    assert _conv("position") == pytest.approx({"a": 4, "b": 4, "c": 8})
    # 30/40/30: a 3, b 4 + 2, c 3 + 4
    assert _conv("position", first=0.3, last=0.3) == pytest.approx({"a": 3, "b": 6, "c": 7})


def test_time_decay_halves_per_touch_back_from_the_conversion() -> None:
    # half-life 1 touch: a > b > c weights 1/4, 1/2, 1 over 7/4
    got = _conv("time_decay", half_life=1.0)
    assert got == pytest.approx({"a": 10 / 7, "b": 20 / 7 + 2, "c": 40 / 7 + 4})
    # half-life 2: weights 2**-1, 2**-0.5, 1
    w = [0.5, 2**-0.5, 1.0]
    s = sum(w)
    assert _conv("time_decay")["a"] == pytest.approx(10 * w[0] / s)


@pytest.mark.parametrize("model", ["first", "last", "linear", "time_decay", "position"])
def test_every_rule_attributes_all_conversions_and_value(model: str) -> None:
    res = heuristic(PATHS, model)  # type: ignore[arg-type]
    assert sum(res.conversions) == pytest.approx(16)
    assert sum(res.value) == pytest.approx(160)
    frame = res.to_frame()
    assert list(frame.columns) == ["channel", "conversions", "value"]
    assert res.to_dict()["model"] == model


def test_bad_options_are_refused() -> None:
    with pytest.raises(ConfigError, match="unknown heuristic"):
        heuristic(PATHS, "u_shaped")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="position shares"):
        heuristic(PATHS, "position", first=0.7, last=0.7)
    with pytest.raises(ConfigError, match="half_life"):
        heuristic(PATHS, "time_decay", half_life=0)
