from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from streamwise.data.sample import generate
from streamwise.errors import DataError
from streamwise.upstream.customers import SEGMENT_RULES, rfm, rfm_segment

NAMES = {
    "Champions", "Loyal", "Potential Loyalists", "New", "Promising", "Need Attention",
    "At Risk", "Can't Lose Them", "Hibernating", "Lost",
}  # fmt: skip


def test_the_ten_segments_cover_every_cell_exactly_once() -> None:
    assert {rule.name for rule in SEGMENT_RULES} == NAMES
    for r, fm in itertools.product(range(1, 6), repeat=2):
        owners = [rule for rule in SEGMENT_RULES if r in rule.r and fm in rule.fm]
        assert len(owners) == 1, (r, fm, owners)
    names, rules = rfm_segment([5, 1, 5], [5, 1, 1])
    assert names.tolist() == ["Champions", "Lost", "New"]
    assert rules[0].startswith("R 4-5 and FM 4-5")


def test_hand_computed_scores() -> None:
    # Five customers, one order each on different days, amounts rising with recency.
    orders = pd.DataFrame(
        {
            "customer_id": list("abcde"),
            "order_date": pd.to_datetime(
                ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"]
            ),
            "amount": [10.0, 20.0, 30.0, 40.0, 50.0],
        }
    )
    out = rfm(orders, as_of="2024-05-02").set_index("customer_id")
    assert out["recency_days"].tolist() == [122, 91, 62, 31, 1]
    assert out["r_score"].tolist() == [1, 2, 3, 4, 5]
    assert out["m_score"].tolist() == [1, 2, 3, 4, 5]
    assert (out["f_score"] == 1).all()  # all tied: the same (lowest) score
    assert out.loc["e", "fm_score"] == 3  # round((1 + 5) / 2)
    assert out.loc["e", "segment"] == "Loyal"  # R 5, FM 3
    assert out.loc["a", "segment"] == "Lost"


def test_segments_order_the_sample_customers_sensibly() -> None:
    biz = generate(n_customers=4_000, seed=2, bad_share=0)
    out = rfm(biz.tables["orders"])
    assert set(out["segment"]) <= NAMES
    means = out.groupby("segment")[["recency_days", "monetary"]].mean()
    assert means.loc["Champions", "recency_days"] < means.loc["Lost", "recency_days"]
    assert means.loc["Champions", "monetary"] > 5 * means.loc["Lost", "monetary"]
    three = rfm(biz.tables["orders"], bins=3)
    assert set(three["r_score"]) == {1, 2, 3}
    assert np.isin(three["segment"], list(NAMES)).all()


def test_bad_bins_are_refused() -> None:
    with pytest.raises(DataError, match="bins"):
        rfm(pd.DataFrame({"customer_id": [], "order_date": [], "amount": []}), bins=1)
