from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from streamwise.data.sample import generate
from streamwise.errors import DataError
from streamwise.upstream.customers.segments import Segmenter, customer_features


@pytest.fixture(scope="module")
def sample():
    return generate(n_customers=20_000, seed=42, bad_share=0)


def test_planted_segments_are_recovered(sample) -> None:
    t = sample.tables
    features = customer_features(t["orders"], t["order_lines"], t["products"])
    assert len(features) == 20_000
    assert any(c.startswith("category_") for c in features.columns)
    assert any(c.startswith("channel_") for c in features.columns)
    result = Segmenter(n_bootstrap=5).fit(features)
    assert result.structure_found, result.reason
    assert result.k == 5
    truth = sample.truth.customers.set_index("customer_id")["segment"]
    assert adjusted_rand_score(truth.loc[result.labels.index], result.labels) >= 0.8
    assert result.scores.loc[5, "stability"] >= 0.9
    assert result.profiles["customers"].sum() == 20_000
    assert all(len(v) == 3 for v in result.distinguishing.values())


def test_no_structure_in_uniform_noise() -> None:
    noise = pd.DataFrame(np.random.default_rng(1).uniform(size=(3_000, 6)))
    result = Segmenter(n_bootstrap=3).fit(noise)
    assert not result.structure_found
    assert result.k == 0
    assert result.labels.empty
    assert "no structure" in result.reason


def test_too_few_customers() -> None:
    with pytest.raises(DataError, match="at least 50"):
        Segmenter().fit(pd.DataFrame({"a": range(10)}))
