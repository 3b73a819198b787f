from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from streamwise.data.sample import generate
from streamwise.errors import DataError
from streamwise.upstream.customers.segments import Segmenter, customer_features, feature_expr


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


@pytest.fixture(scope="module")
def engine_tables(sample):
    con = ibis.duckdb.connect()
    t = sample.tables
    return {name: con.create_table(name, t[name]) for name in ("orders", "order_lines", "products")}


def test_features_in_the_engine_equal_the_frame(sample, engine_tables) -> None:
    t = sample.tables
    frame = customer_features(t["orders"], t["order_lines"], t["products"])
    expr = feature_expr(*engine_tables.values())
    got = expr.to_pandas().set_index("customer_id").sort_index()
    pd.testing.assert_frame_equal(got, frame, check_index_type=False, rtol=1e-12)


def test_engine_fit_on_everyone_equals_the_frame_fit() -> None:
    """With all customers in the sample, the engine's fit is the frame's: same k, scores,
    centres, labels (the engine's nearest centre) and profiles."""
    t = generate(n_customers=2_000, seed=8, bad_share=0).tables
    con = ibis.duckdb.connect()
    tables = [con.create_table(n, t[n]) for n in ("orders", "order_lines", "products")]
    expr = feature_expr(*tables)
    frame = customer_features(t["orders"], t["order_lines"], t["products"])
    a = Segmenter(n_bootstrap=3).fit(frame)
    b = Segmenter(n_bootstrap=3).fit(expr)
    assert a.structure_found
    assert b.structure_found
    assert a.k == b.k
    pd.testing.assert_frame_equal(a.scores, b.scores, rtol=1e-9)
    pd.testing.assert_frame_equal(a.centres, b.centres, rtol=1e-9)
    in_engine = b.label_expr(expr).to_pandas().set_index("customer_id")["segment"]
    assert in_engine.sort_index().equals(a.labels.sort_index().astype("int64"))
    assert b.labels.sort_index().equals(a.labels.sort_index())
    pd.testing.assert_frame_equal(a.profiles, b.profiles, rtol=1e-9, check_dtype=False)
    assert a.distinguishing == b.distinguishing


def test_engine_fit_on_a_sample_recovers_the_planted_segments(sample, engine_tables) -> None:
    expr = feature_expr(*engine_tables.values())
    result = Segmenter(n_bootstrap=3, sample_size=3_000).fit(expr)
    assert result.structure_found, result.reason
    assert result.k == 5
    assert 2_500 <= len(result.labels) <= 3_000  # the fitted sample's labels only
    labels = result.label_expr(expr).to_pandas().set_index("customer_id")["segment"]
    assert len(labels) == 20_000
    truth = sample.truth.customers.set_index("customer_id")["segment"]
    assert adjusted_rand_score(truth.loc[labels.index], labels) >= 0.8
    assert result.profiles["customers"].sum() == 20_000
    # the sample's labels are what the engine gives those customers
    assert (labels.loc[result.labels.index] == result.labels).all()


def test_engine_features_with_missing_values_are_refused() -> None:
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(60)], "x": [1.0] * 59 + [None]})
    with pytest.raises(DataError, match="missing"):
        Segmenter().fit(ibis.memtable(frame))
