"""Pareto/NBD against Fader, Hardie & Lee (2005) and a high-precision hypergeometric."""

from __future__ import annotations

import numpy as np
import pytest

from streamwise.upstream.customers import ParetoNBD, summarize
from streamwise.upstream.customers.clv.pareto_nbd import log_hyp2f1_a_a1

from .test_summaries import cdnow


@pytest.fixture(scope="module")
def fitted() -> ParetoNBD:
    return ParetoNBD().fit(summarize(cdnow(), calibration_end="1997-09-30"))


def test_cdnow_parameters_and_log_likelihood(fitted: ParetoNBD) -> None:
    # Fader, Hardie & Lee (2005), Marketing Science 24(2), CDNOW 39-week calibration.
    published = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    for name, value in published.items():
        assert fitted.params_[name] == pytest.approx(value, rel=5e-3), name
    assert fitted.log_likelihood_ == pytest.approx(-9595.0, rel=5e-4)


def test_predictions_behave(fitted: ParetoNBD) -> None:
    alive = fitted.probability_alive(np.array([0, 2, 2]), np.array([0, 30.43, 10.0]), 38.86)
    assert np.all((alive > 0) & (alive <= 1))
    assert alive[1] > alive[2]  # a recent purchase makes being alive more likely
    e = fitted.expected_purchases(np.array([10.0, 39.0, 78.0]), 2, 30.43, 38.86)
    assert np.all(np.diff(e) > 0)


@pytest.mark.parametrize(
    ("a", "b", "z"),
    [(10_002.0, 1.5, 0.999), (20_000.0, 3.0, 0.9999), (500.0, 1.0001, 0.99999), (10.0, 2.0, 0.5)],
)
def test_log_hypergeometric_where_scipy_gives_up(a: float, b: float, z: float) -> None:
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 30
    exact = float(mpmath.log(mpmath.hyp2f1(a, b, a + 1, z, maxterms=10**7)))
    assert float(log_hyp2f1_a_a1(np.array([a]), np.array([b]), np.array([z]))[0]) == (
        pytest.approx(exact, rel=1e-9)
    )
