"""Gamma-Gamma, sBG and MBG/NBD against published values and simulated ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from streamwise.errors import DataError
from streamwise.upstream.customers import (
    GammaGamma,
    ModifiedBetaGeo,
    ShiftedBetaGeo,
    summarize,
)

from .test_summaries import cdnow


def test_gamma_gamma_matches_fader_hardie_lee_2005_rfm_clv() -> None:
    # JMR 42(4): 946 CDNOW repeat buyers, p = 6.25, q = 3.74, gamma = 15.44, LL = -4055.92.
    s = summarize(cdnow(), calibration_end="1997-09-30")
    m = GammaGamma().fit(s)
    assert m.n_customers_ == 946
    for name, value in {"p": 6.25, "q": 3.74, "v": 15.44}.items():
        assert m.params_[name] == pytest.approx(value, rel=5e-3), name
    assert m.log_likelihood_ == pytest.approx(-4055.92, abs=0.01)
    # The conditional expectation lies between the population mean and the customer's own.
    population = m.params_["p"] * m.params_["v"] / (m.params_["q"] - 1)
    own = 100.0
    e = float(m.expected_spend(3, own))
    assert min(population, own) < e < max(population, own)


def test_gamma_gamma_refuses_zero_spend() -> None:
    s = pd.DataFrame({"frequency": [1, 2], "monetary_value": [0.0, 10.0]})
    with pytest.raises(DataError, match="monetary_value must be positive"):
        GammaGamma().fit(s)


@pytest.mark.parametrize(
    ("survivors", "alpha", "beta"),
    [
        # Fader & Hardie (2007), "How to project customer retention": regular and high-end
        # customers, alive at the start of years 0..7 (of 1,000), alpha and beta as published.
        ([1000, 631, 468, 382, 326, 289, 262, 241], 0.704, 1.182),
        ([1000, 869, 743, 653, 593, 551, 517, 491], 0.668, 3.806),
    ],
)
def test_sbg_matches_fader_hardie_2007(survivors: list[int], alpha: float, beta: float) -> None:
    m = ShiftedBetaGeo().fit(ShiftedBetaGeo.from_survivors(survivors))
    assert m.params_["alpha"] == pytest.approx(alpha, abs=1e-3)
    assert m.params_["beta"] == pytest.approx(beta, abs=1e-3)
    fitted = 1000 * m.survival(np.arange(8))
    assert np.abs(fitted - np.array(survivors)).max() < 25  # within 2.5% of the cohort
    assert np.all(np.diff(m.retention_rate(np.arange(1, 10))) > 0)  # retention rises with tenure


def simulate_mbg(n: int, r: float, alpha: float, a: float, b: float, seed: int) -> pd.DataFrame:
    """Customers from the MBG/NBD process (dropout possible right after the first purchase)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    T = rng.uniform(20, 60, n)
    repeats_before_death = rng.geometric(p) - 1  # 0, 1, 2, ... with P(k) = (1 - p)^k p
    arrivals = rng.poisson(lam * T)
    x = np.minimum(repeats_before_death, arrivals)
    t_x = np.zeros(n)
    has = x > 0
    # The x-th of `arrivals` uniform times on (0, T]: a Beta(x, arrivals - x + 1) fraction of T.
    t_x[has] = T[has] * rng.beta(x[has], arrivals[has] - x[has] + 1)
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": T})


def test_mbgnbd_recovers_simulated_parameters() -> None:
    truth = {"r": 0.8, "alpha": 5.0, "a": 1.2, "b": 3.0}
    m = ModifiedBetaGeo().fit(simulate_mbg(40_000, **truth, seed=1))
    for name, value in truth.items():
        assert abs(m.params_[name] - value) < 3.5 * m.standard_errors_[name], name
    assert np.all(m.probability_alive(0, 0, np.array([1.0, 10.0])) < 1)
    e = m.expected_purchases(np.array([1.0, 5.0, 20.0]), 3, 10.0, 30.0)
    assert np.all(np.diff(e) > 0)
