"""Property tests shared by the (frequency, recency, T) models: finite log-likelihoods for extreme
inputs and parameters."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamwise.upstream.customers import BetaGeo, ModifiedBetaGeo, ParetoNBD


@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo, ParetoNBD])
@settings(max_examples=200, deadline=None)
@given(
    x=st.integers(0, 10_000),
    frac=st.floats(0, 1),
    T=st.floats(1e-3, 1e4),
    params=st.tuples(*[st.floats(1e-4, 1e4) for _ in range(4)]),
)
def test_likelihood_is_finite_for_extreme_inputs(model, x, frac, T, params) -> None:
    t_x = frac * T if x > 0 else 0.0
    ll = model()._loglik(np.array(params), np.array([[x, t_x, T]]))
    assert np.isfinite(ll).all()
