"""Paths built from the sample business's touchpoints and orders recover its planted truth.

The generator (:mod:`streamwise.data.sample.journeys`) draws each journey's channels from a prior
and makes it convert with the noisy-OR probability ``1 - (1 - P0) * prod(1 - e_c)`` over its
touches; converting journeys end within 24 hours before an order and non-converting ones are
placed so that no order follows within 24 hours. Its docstring states that the journeys are then
distributed as i.i.d. prior journeys cut at a customer's last conversion, so that *the empirical
conversion rate per path recovers the noisy-OR probability*. Hence, if our paths (built with the
24-hour rule from nothing but touchpoints and orders) are right:

1. they count exactly the sample's journeys and converting journeys;
2. the maximum-likelihood noisy-OR fitted to the compressed paths gives back ``P0`` and the
   planted effects ``EFFECTS`` (up to sampling error);
3. within groups of paths of similar planted probability, the observed conversion rate matches
   the planted probability.

Rankings of Markov removal effects or Shapley values are *not* implied by the generator (they
also depend on how often each channel is used, which differs by segment), so they are not
asserted here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from streamwise.data.sample import generate
from streamwise.data.sample.journeys import EFFECTS, P0
from streamwise.measure.attribution import build_paths, parse_paths


@pytest.fixture(scope="module")
def sample() -> tuple[pd.DataFrame, object]:
    biz = generate(n_customers=2_000, seed=7, bad_share=0)
    assert biz.tables is not None
    paths = build_paths(biz.tables["touchpoints"], biz.tables["orders"], journey="journey_id")
    return paths, biz.truth.commerce.journeys


def _touch_counts(paths: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    p = parse_paths(paths)
    k = len(p.channels)
    counts = np.bincount(p.path_index * k + p.codes, minlength=len(paths) * k).reshape(-1, k)
    return counts, list(p.channels)


def test_paths_count_the_sample_journeys(sample: tuple[pd.DataFrame, object]) -> None:
    paths, truth = sample
    assert int(paths.conversions.sum()) == truth.n_converting  # type: ignore[attr-defined]
    n = int(paths.conversions.sum() + paths.nulls.sum())
    assert n == truth.n_journeys  # type: ignore[attr-defined]


def test_noisy_or_fitted_to_the_paths_recovers_the_planted_effects(
    sample: tuple[pd.DataFrame, object],
) -> None:
    paths, _ = sample
    counts, channels = _touch_counts(paths)
    conv = paths.conversions.to_numpy(float)
    null = paths.nulls.to_numpy(float)

    def nll(theta: np.ndarray) -> float:
        miss = np.log1p(-theta[0]) + counts @ np.log1p(-theta[1:])
        p = -np.expm1(miss)
        return -float(np.dot(conv, np.log(p)) + np.dot(null, miss))

    start = np.full(len(channels) + 1, 0.05)
    fit = minimize(nll, start, method="L-BFGS-B", bounds=[(1e-4, 0.5)] * len(start))
    assert fit.success
    p0, effects = fit.x[0], dict(zip(channels, fit.x[1:], strict=True))
    # ~35k journeys: standard errors about 0.005 (effects) and 0.003 (P0); over seeds 7-10 the
    # largest deviation was 0.009
    assert p0 == pytest.approx(P0, abs=0.012)
    assert effects == pytest.approx(EFFECTS, abs=0.02)


def test_observed_rates_match_the_planted_probabilities(
    sample: tuple[pd.DataFrame, object],
) -> None:
    paths, _ = sample
    counts, channels = _touch_counts(paths)
    e = np.array([EFFECTS[c] for c in channels])
    planted = 1 - (1 - P0) * np.prod((1 - e) ** counts, axis=1)
    n = (paths.conversions + paths.nulls).to_numpy(float)
    conv = paths.conversions.to_numpy(float)
    edges = np.quantile(planted, np.linspace(0, 1, 9))
    group = np.clip(np.searchsorted(edges, planted, side="right") - 1, 0, 7)
    for g in range(8):
        sel = group == g
        if n[sel].sum() < 500:
            continue
        expected = np.dot(n[sel], planted[sel])
        var = np.dot(n[sel], planted[sel] * (1 - planted[sel]))
        assert abs(conv[sel].sum() - expected) < 4.5 * np.sqrt(var), g
