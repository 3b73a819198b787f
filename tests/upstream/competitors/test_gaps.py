"""Feature-gap matrix and rating gaps."""

from __future__ import annotations

import pandas as pd
import pytest

from streamwise.data.sample import generate
from streamwise.errors import DataError
from streamwise.upstream.competitors import feature_gaps


def _rows(kind: str, wide: dict[str, dict[str, float]]) -> list[tuple]:
    return [(b, a, kind, v, "test") for b, r in wide.items() for a, v in r.items()]


@pytest.fixture
def table() -> pd.DataFrame:
    feats = {
        "Us": {"warranty": 0, "repairs": 0, "rental": 1, "returns": 1},
        "X": {"warranty": 1, "repairs": 1, "rental": 0, "returns": 1},
        "Y": {"warranty": 1, "repairs": 0, "rental": 0, "returns": 1},
        "Z": {"warranty": 1, "repairs": 0, "rental": 0, "returns": 0},
    }
    rates = {
        "Us": {"style": 5.0, "service": 3.0},
        "X": {"style": 4.0, "service": 6.0},
        "Y": {"style": 6.0, "service": 4.0},
        "Z": {"style": 2.0, "service": 2.0},
    }
    return pd.DataFrame(
        _rows("feature", feats) + _rows("rating", rates) + [("Us", "p", "price", 9.0, "t")],
        columns=["brand", "attribute", "kind", "value", "source"],
    )


def test_feature_gaps_by_hand(table):
    g = feature_gaps(table, "Us")
    assert list(g.matrix.columns) == ["Us", "X", "Y", "Z"]
    assert g.missing == ["warranty", "repairs"]  # 3 of 3 competitors, then 1 of 3
    f = g.features
    assert f.loc["warranty", "share_with"] == pytest.approx(1.0)
    assert f.loc["repairs", "competitors_with"] == 1
    assert f.loc["repairs", "share_with"] == pytest.approx(1 / 3)
    assert not f.loc["rental", "gap"]  # we have it, nobody else does
    assert not f.loc["returns", "gap"]
    r = g.ratings
    assert r.loc["style", "best_competitor"] == "Y"
    assert r.loc["style", "gap_to_best"] == pytest.approx(5 - 6)
    assert r.loc["style", "gap_to_mean"] == pytest.approx(5 - 4)
    assert r.loc["service", "best_competitor"] == "X"
    assert r.loc["service", "gap_to_best"] == pytest.approx(-3)
    assert r.loc["service", "gap_to_mean"] == pytest.approx(3 - 4)
    d = g.to_dict()
    assert d["matrix"]["warranty"] == {"Us": 0, "X": 1, "Y": 1, "Z": 1}
    assert len(g.to_frame()) == 4


def test_errors(table):
    with pytest.raises(DataError, match="'Nobody'"):
        feature_gaps(table, "Nobody")
    with pytest.raises(DataError, match="kind"):
        feature_gaps(table.drop(columns="kind"), "Us")
    with pytest.raises(DataError, match="no rows of kind 'feature'"):
        feature_gaps(table[table["kind"] != "feature"], "Us")


def test_sample_business_planted_feature_gaps():
    biz = generate(n_customers=2000, bad_share=0)
    truth = biz.truth.research.positioning
    g = feature_gaps(biz.tables["competitors"], "Northwind")
    f = g.features
    found = {
        k: int(v)
        for k, v in f.loc[f["gap"] & (f["competitors_with"] >= 2)].iterrows()
        for v in [v["competitors_with"]]
    }
    assert found == truth.feature_gaps
    for feat, per_brand in (
        (f_, {b: truth.features[b][f_] for b in truth.features}) for f_ in g.matrix.index
    ):
        assert g.matrix.loc[feat].to_dict() == per_brand
    assert (g.ratings["gap_to_best"] <= 0).all()  # some competitor leads on every attribute
