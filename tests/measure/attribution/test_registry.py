"""Attribution models by name and from config."""

from __future__ import annotations

import pandas as pd
import pytest

from streamwise.errors import ConfigError
from streamwise.measure.attribution import MODELS, from_config, heuristic, markov_model

PATHS = pd.DataFrame(
    {"path": ["a > b", "b", "a"], "conversions": [2, 1, 1], "nulls": [3, 4, 2], "value": [4, 2, 1]}
)


def test_every_model_is_registered_and_built_from_config() -> None:
    assert set(MODELS) == {"first", "last", "linear", "position", "time_decay", "markov", "shapley"}
    m = from_config({"name": "markov", "order": 2})
    assert m.attribute(PATHS) == markov_model(PATHS, order=2)
    p = from_config({"name": "position", "first": 0.3, "last": 0.5})
    assert p.attribute(PATHS) == heuristic(PATHS, "position", first=0.3, last=0.5)
    for name in MODELS:
        frame = from_config({"name": name}).attribute(PATHS).to_frame()
        assert "conversions" in frame.columns


def test_bad_configs_say_what_to_use() -> None:
    with pytest.raises(ConfigError, match="needs a 'name'"):
        from_config({"order": 2})
    with pytest.raises(ConfigError, match="use one of"):
        from_config({"name": "data_driven"})
    with pytest.raises(ConfigError, match="takes"):
        from_config({"name": "markov", "half_life": 2})
