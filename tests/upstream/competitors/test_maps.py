"""Perceptual maps, ideal points, white space and the price vs value map."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from streamwise.data.sample import generate
from streamwise.errors import DataError
from streamwise.upstream.competitors import (
    attribute_matrix,
    ideal_points,
    perceptual_map,
    price_value_map,
    white_space,
)

ATTRS = ("durability", "style", "service")


def _long(wide: dict[str, dict[str, float]], kind: str = "rating") -> pd.DataFrame:
    return pd.DataFrame(
        [(b, a, kind, v, "test") for b, row in wide.items() for a, v in row.items()],
        columns=["brand", "attribute", "kind", "value", "source"],
    )


@pytest.fixture
def line() -> pd.DataFrame:
    """Four brands on one line in rating space: rating = 4 + t · (1, 0.5, −1)."""
    t = {"A": -2.0, "B": -0.5, "C": 1.0, "D": 2.5}
    d = np.array([1.0, 0.5, -1.0])
    return _long({b: dict(zip(ATTRS, 4 + x * d, strict=True)) for b, x in t.items()})


@pytest.fixture(scope="module")
def biz():
    return generate(n_customers=2000, bad_share=0)


def test_pca_on_a_line_has_one_dimension_and_keeps_the_order(line):
    pm = perceptual_map(line)
    assert pm.explained["dim1"] == pytest.approx(1.0)
    assert pm.explained["dim2"] == pytest.approx(0.0, abs=1e-12)
    x = pm.brands["dim1"]
    assert list(x.sort_values().index) in (list("ABCD"), list("DCBA"))
    # spacing along PC1 is proportional to t: gaps 1.5 : 1.5 : 1.5
    assert np.diff(np.sort(x.to_numpy())) == pytest.approx([np.ptp(x) / 3] * 3)
    # total variance = number of standardised attributes × (n − 1)
    assert pm.total == pytest.approx(3 * 3)
    frame = pm.to_frame()
    assert set(frame["kind"]) == {"brand", "attribute"}
    assert pm.to_dict()["method"] == "pca"


def test_pca_unstandardised_recovers_planted_plane():
    """Ratings = 4 + L·pos with orthogonal L (LᵀL = 2I): distances scale by √2."""
    pos = {"A": (0.0, 0.0), "B": (1.0, 0.0), "C": (0.0, 2.0), "D": (-1.0, -1.0)}
    ang = np.deg2rad([0.0, 45.0, 90.0, 135.0])
    load = np.stack([np.cos(ang), np.sin(ang)], axis=1)
    attrs = ["a1", "a2", "a3", "a4"]
    comp = _long({b: dict(zip(attrs, 4 + load @ p, strict=True)) for b, p in pos.items()})
    pm = perceptual_map(comp, standardize=False)
    assert pm.explained.sum() == pytest.approx(1.0)
    got = pm.brands.to_numpy()
    want = np.array(list(pos.values()))
    dist = lambda m: np.linalg.norm(m[:, None] - m[None], axis=2)  # noqa: E731
    np.testing.assert_allclose(dist(got), np.sqrt(2) * dist(want), atol=1e-10)


def test_ca_inertia_is_chi_square_over_n_and_rows_reproduce_chi_square_distances():
    n = pd.DataFrame(
        [[20, 5, 10, 3], [4, 25, 6, 8], [9, 7, 30, 2], [3, 10, 4, 20], [12, 12, 12, 12]],
        index=list("ABCDE"),
        columns=list("wxyz"),
        dtype=float,
    )
    comp = _long({b: r.to_dict() for b, r in n.iterrows()})
    pm = perceptual_map(comp, method="ca", n_components=3)
    total = n.to_numpy().sum()
    expected = np.outer(n.sum(axis=1), n.sum(axis=0)) / total
    chi2 = float(((n.to_numpy() - expected) ** 2 / expected).sum())
    assert pm.total == pytest.approx(chi2 / total)
    assert pm.explained.sum() == pytest.approx(1.0)  # 3 dims = min(5, 4) − 1: all inertia
    prof = n.div(n.sum(axis=1), axis=0).to_numpy()
    c = n.sum(axis=0).to_numpy() / total
    chi_d = np.sqrt((((prof[:, None] - prof[None]) ** 2) / c).sum(axis=2))
    f = pm.brands.to_numpy()
    np.testing.assert_allclose(np.linalg.norm(f[:, None] - f[None], axis=2), chi_d, atol=1e-12)
    # a passive row equal to an active row's profile lands on that row
    pmi = perceptual_map(comp, method="ca", n_components=3, ideals=n.loc[["C"]] * 2)
    np.testing.assert_allclose(pmi.ideals.to_numpy()[0], pmi.brands.loc["C"], atol=1e-12)


def test_white_space_far_ideal_versus_ideal_on_a_brand(line):
    far = dict(zip(ATTRS, (1.0, 7.0, 7.0), strict=True))  # off the line
    on_b = attribute_matrix(line).loc["B"].to_dict()
    ideals = pd.DataFrame([far, on_b], index=["far", "on_b"])
    pm = perceptual_map(line, ideals=ideals)
    ws = white_space(pm).set_index("segment")
    assert bool(ws.loc["far", "white_space"])
    assert ws.loc["far", "brands_within"] == 0
    assert not ws.loc["on_b", "white_space"]
    assert ws.loc["on_b", "nearest_brand"] == "B"
    assert ws.loc["on_b", "distance"] == pytest.approx(0.0, abs=1e-12)
    # default radius: half the median brand-to-brand distance (gaps 1.5 step → median 3 steps)
    x = np.sort(pm.brands["dim1"].to_numpy())
    step = x[1] - x[0]
    assert ws["radius"].iloc[0] == pytest.approx(np.median([1, 1, 1, 2, 2, 3]) * step / 2)
    assert not white_space(pm, radius=1e6)["white_space"].any()


def test_errors_name_the_problem(line):
    with pytest.raises(DataError, match="value"):
        perceptual_map(line.drop(columns="value"))
    with pytest.raises(DataError, match=r"'D'.*'service'"):
        perceptual_map(line.drop(index=line.index[-1]))
    with pytest.raises(DataError, match="style"):
        perceptual_map(line, ideals=pd.DataFrame({"durability": [4.0]}))
    with pytest.raises(DataError, match="price_tent"):
        price_value_map(pd.concat([line, _long({"A": {"price_bag": 9.0}}, "price")]), "price_tent")
    with pytest.raises(DataError, match="no ideal points"):
        white_space(perceptual_map(line))


def test_price_value_line_and_residuals():
    prices = {"A": 100.0, "B": 200.0, "C": 300.0, "D": 400.0}
    value = {"A": 6.0, "B": 5.5, "C": 3.0, "D": 3.5}
    rows = pd.concat(
        [
            _long({b: {"price_tent": p} for b, p in prices.items()}, "price"),
            _long({b: {"price_value": v} for b, v in value.items()}),
        ]
    )
    pv = price_value_map(rows, "price_tent")
    # least squares by hand: x̄ = 250, ȳ = 4.5, Sxy = −500, Sxx = 50000 → slope −0.01,
    # intercept 4.5 + 0.01·250 = 7; B: fitted 7 − 2 = 5, residual +0.5 (better value)
    assert pv.slope == pytest.approx(-0.01)
    assert pv.intercept == pytest.approx(7.0)
    assert pv.table.loc["B", "residual"] == pytest.approx(0.5)
    assert pv.table.loc["C", "residual"] == pytest.approx(3.0 - 4.0)
    assert pv.table["residual"].sum() == pytest.approx(0.0, abs=1e-12)
    assert 0 < pv.r_squared < 1
    assert pv.to_dict()["slope"] == pytest.approx(-0.01)


def test_sample_business_recovers_planted_positions(biz):
    truth = biz.truth.research.positioning
    comp = biz.tables["competitors"]
    ideals = ideal_points(biz.tables["survey_responses"], biz.questionnaire_yaml)
    assert set(ideals.index) == set(truth.ideal_points)
    for seg, want in truth.ideal_ratings.items():
        np.testing.assert_allclose(ideals.loc[seg, list(want)], list(want.values()), atol=0.15)
    for std in (True, False):
        pm = perceptual_map(comp, ideals=ideals, standardize=std)
        assert pm.explained.sum() > 0.99  # the planted space is 2-D
        ws = white_space(pm).set_index("segment")
        assert list(ws.index[ws["white_space"]]) == [truth.white_space_segment]
        for seg, (brand, _) in truth.nearest_brand.items():
            assert ws.loc[seg, "nearest_brand"] == brand
    # unstandardised PCA distances are the planted ones × 1.3·√3 (LᵀL = 3I)
    pm = perceptual_map(comp, standardize=False)
    got = pm.brands.loc[list(truth.positions)].to_numpy()
    want = np.array(list(truth.positions.values())) * truth.rating_scale * np.sqrt(3)
    dist = lambda m: np.linalg.norm(m[:, None] - m[None], axis=2)  # noqa: E731
    np.testing.assert_allclose(dist(got), dist(want), atol=0.1)
    # CA on the same table also flags the planted white-space segment
    ws = white_space(perceptual_map(comp, method="ca", ideals=ideals))
    assert list(ws.loc[ws["white_space"], "segment"]) == [truth.white_space_segment]


def test_sample_price_value_map(biz):
    pv = price_value_map(biz.tables["competitors"], "price_tent")
    assert pv.slope < 0  # dearer brands are perceived as worse value
    assert set(pv.table.index) == set(biz.truth.research.positioning.prices)
