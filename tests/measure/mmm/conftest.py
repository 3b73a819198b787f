"""Synthetic weekly media data with a known truth, and fitted models shared by the tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from streamwise.data.sample.media import geometric_adstock, hill

CHANNELS = ("tv", "search", "social")
THETA = {"tv": 0.5, "search": 0.1, "social": 0.3}
S = {"tv": 2.0, "search": 1.2, "social": 1.5}
K_REL = {"tv": 1.0, "search": 0.9, "social": 1.1}
SHARE = {"tv": 0.20, "search": 0.15, "social": 0.10}
VALUE = 50.0
#: Settings of the quick fits: few draws, a two-term season, no trend.
FAST = {"draws": 150, "tune": 200, "chains": 2, "yearly_order": 2, "trend": False, "seed": 1}


@dataclass
class Synthetic:
    spend: pd.DataFrame  # wide, indexed by week start
    outcome: pd.Series
    beta: dict[str, float]
    K: dict[str, float]
    contribution: dict[str, np.ndarray]
    roi: dict[str, float]
    channels: tuple[str, ...] = CHANNELS
    theta: dict[str, float] = field(default_factory=lambda: dict(THETA))
    S: dict[str, float] = field(default_factory=lambda: dict(S))
    value: float = VALUE
    fast: dict[str, object] = field(default_factory=lambda: dict(FAST))


def make_synthetic(weeks: int = 104, noise: float = 1.5, seed: int = 3) -> Synthetic:
    """Baseline 100 with a yearly cycle plus three flighted channels (known adstock and Hill)."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2022-01-02", periods=weeks, freq="7D", name="week_start")
    doy = (index + pd.Timedelta(days=3)).dayofyear.to_numpy()
    baseline = 100.0 * (1.0 + 0.15 * np.sin(2 * np.pi * doy / 365.25))
    spend, contrib, beta, K, roi = {}, {}, {}, {}, {}
    for ch in CHANNELS:
        on = rng.random(weeks) < 0.7
        x = np.where(on, 1000.0 * np.exp(rng.normal(0.0, 0.4, weeks)), 0.0)
        stock = geometric_adstock(x, THETA[ch])
        K[ch] = K_REL[ch] * float(stock.mean())
        sat = hill(stock, K[ch], S[ch])
        beta[ch] = SHARE[ch] * baseline.sum() / sat.sum()
        contrib[ch] = beta[ch] * sat
        spend[ch] = x
        roi[ch] = float(contrib[ch].sum() * VALUE / x.sum())
    y = baseline + sum(contrib.values()) + rng.normal(0.0, noise, weeks)
    return Synthetic(
        spend=pd.DataFrame(spend, index=index),
        outcome=pd.Series(y, index=index, name="outcome"),
        beta=beta,
        K=K,
        contribution=contrib,
        roi=roi,
    )


@pytest.fixture(scope="session")
def synthetic() -> Synthetic:
    return make_synthetic()


@pytest.fixture(scope="session")
def fitted(synthetic: Synthetic):
    pytest.importorskip("numpyro")
    from streamwise.measure.mmm import MediaMix

    return MediaMix(value_per_unit=VALUE, **FAST).fit(synthetic.spend, synthetic.outcome)  # type: ignore[arg-type]
