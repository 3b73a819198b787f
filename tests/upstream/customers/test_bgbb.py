"""BG/BB against Fader, Hardie & Shang (2010), Marketing Science 29(6): the 1995 cohort of
11,104 donors over six annual opportunities (their recency/frequency table)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from streamwise.errors import DataError
from streamwise.upstream.customers import BetaGeoBetaBinom, holdout_validation

# (frequency, recency, donors); n = 6 for everyone.
DONATIONS = [
    (6, 6, 1203), (5, 6, 728), (4, 6, 512), (3, 6, 357), (2, 6, 234), (1, 6, 129),
    (5, 5, 335), (4, 5, 284), (3, 5, 225), (2, 5, 173), (1, 5, 119), (4, 4, 240),
    (3, 4, 181), (2, 4, 155), (1, 4, 78), (3, 3, 322), (2, 3, 255), (1, 3, 129),
    (2, 2, 613), (1, 2, 277), (1, 1, 1091), (0, 0, 3464),
]  # fmt: skip


def simulate(
    params: dict[str, float], size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The BG/BB process over 6 calibration and 5 holdout opportunities: (x, t_x, holdout x).

    A customer may become inactive at the start of each opportunity (so B(γ, δ + n) in eq. 5),
    and buys at it with probability p while active.
    """
    p = rng.beta(params["alpha"], params["beta"], size)
    theta = rng.beta(params["gamma"], params["delta"], size)
    alive = np.ones(size, bool)
    x, t_x, holdout = np.zeros(size), np.zeros(size), np.zeros(size)
    for t in range(1, 12):
        alive &= rng.random(size) >= theta
        buy = alive & (rng.random(size) < p)
        if t <= 6:
            x += buy
            t_x = np.where(buy, t, t_x)
        else:
            holdout += buy
    return x, t_x, holdout


@pytest.fixture(scope="module")
def fitted() -> BetaGeoBetaBinom:
    frame = pd.DataFrame(DONATIONS, columns=["frequency", "recency", "weights"])
    frame["periods"] = 6
    return BetaGeoBetaBinom().fit(frame)


def test_published_estimates(fitted: BetaGeoBetaBinom) -> None:
    assert fitted.n_customers_ == 11_104
    published = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
    for name, value in published.items():
        assert fitted.params_[name] == pytest.approx(value, rel=5e-3), name
    assert fitted.log_likelihood_ == pytest.approx(-33_225.6, abs=0.1)


def test_predictions_behave(fitted: BetaGeoBetaBinom) -> None:
    alive = fitted.probability_alive([6, 3, 3, 0], [6, 6, 3, 0], 6)
    assert np.all((alive > 0) & (alive < 1))
    assert alive[1] > alive[2]  # same purchases, a more recent one: more likely alive
    # (x = 0 may score above a lapsed buyer: silence says little about a rare buyer; FHS 2010)
    ahead = fitted.expected_purchases(np.array([1, 5, 10]), 4, 6, 6)
    assert np.all(np.diff(ahead) > 0)
    assert fitted.expected_purchases(5, 6, 6, 6) > fitted.expected_purchases(5, 1, 1, 6)


def test_expected_purchases_match_a_simulation(fitted: BetaGeoBetaBinom) -> None:
    # Simulate the model itself from the fitted parameters for customers with x = 4, t_x = 6,
    # n = 6 (rejection on the observed history) and compare their next-five-year purchases.
    params = {k: fitted.params_[k] for k in ("alpha", "beta", "gamma", "delta")}
    counts, last, future = simulate(params, 400_000, np.random.default_rng(0))
    keep = (counts == 4) & (last == 6)
    expected = float(fitted.expected_purchases(5, 4, 6, 6))
    assert future[keep].mean() == pytest.approx(expected, rel=0.03)


def test_impossible_histories_are_refused() -> None:
    frame = pd.DataFrame({"frequency": [3], "recency": [2], "periods": [6]})
    with pytest.raises(DataError, match="frequency <= recency"):
        BetaGeoBetaBinom().fit(frame)


def test_holdout_validation_recovers_simulated_holdout_purchases() -> None:
    # Donors simulated from the published estimates over 6 calibration and 5 holdout years;
    # the model fitted on the calibration years predicts each frequency group's holdout.
    truth = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
    size = 200_000
    x, t_x, holdout = simulate(truth, size, np.random.default_rng(1))
    frame = (
        pd.DataFrame({"frequency": x, "recency": t_x, "frequency_holdout": holdout})
        .value_counts()
        .rename("weights")
        .reset_index()
    )
    frame["periods"], frame["periods_holdout"] = 6, 5
    model = BetaGeoBetaBinom().fit(frame)
    for name, value in truth.items():
        assert abs(model.params_[name] - value) < 3 * model.standard_errors_[name], name
    table = holdout_validation(model, frame)
    assert table["customers"].sum() == size
    assert list(table.index) == ["0", "1", "2", "3", "4", "5", "6"]
    assert np.allclose(table["predicted"], table["actual"], rtol=0.04)
    total = (table["predicted"] * table["customers"]).sum() / (
        table["actual"] * table["customers"]
    ).sum()
    assert total == pytest.approx(1.0, abs=0.01)
