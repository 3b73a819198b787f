"""The JAX path of the CLV fits (issue 11, item 5): the same estimates as the NumPy path.

On a machine without a GPU, ``backend="jax"`` runs on JAX's CPU device, which checks the JAX
likelihoods, gradients and standard errors everywhere; the ``gpu`` test runs only where JAX
finds a GPU (never in CI).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from streamwise.errors import ModelError
from streamwise.upstream.customers import BetaGeo, ModifiedBetaGeo, ParetoNBD, summarize
from streamwise.upstream.customers.clv.accelerated import gpu_present

from .test_bgnbd import PUBLISHED, PUBLISHED_LL
from .test_summaries import cdnow

pytest.importorskip("jax")


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    return summarize(cdnow(), calibration_end="1997-09-30", observation_end="1998-06-30")


@pytest.mark.parametrize(("model", "rel"), [(BetaGeo, 1e-5), (ModifiedBetaGeo, 1e-4)])
def test_jax_fit_equals_the_numpy_fit(cdnow_summary: pd.DataFrame, model: type, rel: float) -> None:
    on_numpy = model(backend="numpy").fit(cdnow_summary)
    on_jax = model(backend="jax").fit(cdnow_summary)
    assert (on_numpy.backend_, on_jax.backend_) == ("numpy", "jax")
    assert on_numpy.device_ == "cpu"
    for name, value in on_numpy.params_.items():
        assert on_jax.params_[name] == pytest.approx(value, rel=rel), name
        assert on_jax.standard_errors_[name] == pytest.approx(
            on_numpy.standard_errors_[name], rel=1e-3
        ), name
    assert on_jax.log_likelihood_ == pytest.approx(on_numpy.log_likelihood_, abs=1e-6)


def test_jax_fit_reproduces_the_published_bgnbd(cdnow_summary: pd.DataFrame) -> None:
    m = BetaGeo(backend="jax").fit(cdnow_summary)
    for name, value in PUBLISHED.items():
        assert m.params_[name] == pytest.approx(value, rel=5e-3), name
    assert m.log_likelihood_ == pytest.approx(PUBLISHED_LL, rel=5e-4)
    assert m.expected_purchases(39, 2, 30.43, 38.86) == pytest.approx(1.2259, abs=5e-5)


def test_jax_fit_with_weights_and_a_penalty_equals_numpy(cdnow_summary: pd.DataFrame) -> None:
    # the same customers as weighted distinct rows, and an L2 penalty: both paths agree
    rows = cdnow_summary.groupby(["frequency", "recency", "T"], as_index=False).size()
    weighted = rows.rename(columns={"size": "weights"})
    on_numpy = BetaGeo(penalizer=0.05, backend="numpy").fit(weighted)
    on_jax = BetaGeo(penalizer=0.05, backend="jax").fit(weighted)
    assert on_jax.n_customers_ == len(cdnow_summary)
    for name, value in on_numpy.params_.items():
        assert on_jax.params_[name] == pytest.approx(value, rel=1e-5), name
    assert on_jax.log_likelihood_ == pytest.approx(on_numpy.log_likelihood_, abs=1e-6)
    unpenalized = BetaGeo(backend="jax").fit(weighted)
    assert unpenalized.params_["alpha"] != pytest.approx(on_jax.params_["alpha"], rel=1e-3)


def test_auto_uses_jax_only_where_there_is_a_gpu(cdnow_summary: pd.DataFrame) -> None:
    m = BetaGeo().fit(cdnow_summary)
    assert m.backend_ == ("jax" if gpu_present() else "numpy")
    # a model without a JAX likelihood takes the NumPy path under "auto" anywhere
    assert ParetoNBD().fit(cdnow_summary).backend_ == "numpy"


def test_backend_errors_say_what_to_use(cdnow_summary: pd.DataFrame) -> None:
    with pytest.raises(ModelError, match=r"no JAX likelihood.*backend='numpy'"):
        ParetoNBD(backend="jax").fit(cdnow_summary)
    with pytest.raises(ModelError, match="backend must be one of auto, numpy, jax"):
        BetaGeo(backend="cuda").fit(cdnow_summary)


@pytest.mark.gpu
def test_fit_runs_on_the_gpu_with_the_same_estimates() -> None:
    if not gpu_present():
        pytest.skip("JAX finds no GPU here (pip install 'jax[cuda12]' on an NVIDIA machine)")
    rng = np.random.default_rng(5)
    n = 1_000_000
    lam = rng.gamma(0.243, 1 / 4.414, n)
    T = rng.integers(1, 547, n) / 7.0
    x = np.minimum(rng.geometric(rng.beta(0.793, 2.426, n)), rng.poisson(lam * T))
    t_x = np.where(x > 0, np.floor(T * rng.beta(np.maximum(x, 1), 1, n) * 7) / 7, 0.0)
    frame = pd.DataFrame({"frequency": x.astype(float), "recency": t_x, "T": T})
    on_gpu = BetaGeo().fit(frame)
    assert (on_gpu.backend_, on_gpu.device_) == ("jax", "gpu")
    on_cpu = BetaGeo(backend="numpy").fit(frame)
    for name, value in on_cpu.params_.items():
        assert on_gpu.params_[name] == pytest.approx(value, rel=1e-5), name
