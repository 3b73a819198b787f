"""A small synthetic fit: known ROI recovered roughly, results, response curves, lift tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from streamwise.errors import ModelError
from streamwise.measure.curves import HillCurve
from streamwise.measure.mmm import MediaMix, MediaMixResults
from streamwise.measure.mmm import transforms as tf

pytest.importorskip("numpyro")


def test_not_fitted_and_bad_settings() -> None:
    model = MediaMix()
    assert "not fitted" in repr(model)
    with pytest.raises(ModelError, match="not fitted"):
        model.results()
    with pytest.raises(ModelError, match="unknown likelihood"):
        MediaMix(likelihood="gamma").fit(pd.DataFrame(), pd.Series(dtype=float))  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="bad media mix settings"):
        MediaMix.from_config({"draws": 10, "sampler": "nuts"})
    assert MediaMix.from_config({"name": "mmm", "draws": 10}).draws == 10


def test_recovers_roi_roughly(fitted: MediaMix, synthetic: Any) -> None:
    CHANNELS = synthetic.channels
    result = fitted.results()
    assert isinstance(result, MediaMixResults)
    frame = result.to_frame()
    for ch in CHANNELS:
        assert frame.loc[ch, "roi"] == pytest.approx(synthetic.roi[ch], rel=0.25), ch
        assert frame.loc[ch, "roi_low"] < frame.loc[ch, "roi"] < frame.loc[ch, "roi_high"]
        # saturating curves: the next dollar returns less than the average one
        assert 0 < frame.loc[ch, "marginal_roi"] < frame.loc[ch, "roi"] * 1.5
    weekly = result.weekly
    assert list(weekly.columns) == ["baseline", *CHANNELS, "expected", "outcome"]
    np.testing.assert_allclose(
        weekly[list(CHANNELS)].sum().to_numpy(),
        [result[ch].contribution.mean for ch in CHANNELS],
        rtol=1e-6,
    )
    fit_error = (weekly["expected"] - weekly["outcome"]).abs().mean()
    assert fit_error < 3.0  # noise sd 1.5
    assert result.to_dict()["channels"][0]["channel"] == "tv"
    assert set(fitted.roi().columns) == {"roi", "roi_median", "roi_low", "roi_high"}
    text = repr(fitted)
    assert "3 channels, 104 weeks" in text
    assert "R-hat" in text
    assert fitted.summary().loc["beta[tv]", "r_hat"] < 1.1


def test_response_curves_are_in_spend_units(fitted: MediaMix, synthetic: Any) -> None:
    CHANNELS, VALUE = synthetic.channels, synthetic.value
    curves = fitted.response_curves()
    assert set(curves) == set(CHANNELS)
    post = fitted.posterior_
    spend = np.array([0.0, 500.0, 1000.0, 2500.0])
    for j, ch in enumerate(CHANNELS):
        curve = curves[ch]
        assert isinstance(curve, HillCurve)
        assert curve.n_draws == len(post["beta"])
        assert curve.value_per_unit == VALUE
        # the model's steady state: beta * y_scale * Hill(x / channel mean; K, S)
        scaled = spend / fitted.x_scale_[j]
        want = (
            post["beta"][:, j, None]
            * fitted.y_scale_
            * tf.hill(scaled[None, :], post["K"][:, j, None], post["S"][:, j, None], xp=np)
        )
        np.testing.assert_allclose(curve.response_draws(spend), want, rtol=1e-5, atol=1e-9)
        # and the truth, roughly, at the typical spend
        k_true, s_true = synthetic.K[ch], synthetic.S[ch]
        truth = synthetic.beta[ch] * tf.hill(np.array([1000.0]), k_true, s_true, xp=np)[0]
        assert curve.response([1000.0])[0] == pytest.approx(truth, rel=0.35), ch


def test_lift_test_pulls_roi_toward_the_measurement(fitted: MediaMix, synthetic: Any) -> None:
    """A hold-out of 'tv' measured at 1.6x its true effect, with a tight error, moves tv's ROI
    from near the truth toward 1.6x the truth."""
    weeks = synthetic.spend.index
    x = synthetic.spend["tv"].to_numpy()
    lo, hi = 30, 46
    off = x.copy()
    off[lo:hi] = 0.0
    from streamwise.data.sample.media import geometric_adstock, hill

    k, beta = synthetic.K["tv"], synthetic.beta["tv"]
    lost = beta * (
        hill(geometric_adstock(off, 0.5), k, 2.0) - hill(geometric_adstock(x, 0.5), k, 2.0)
    )
    true_lift = float(lost[lo:hi].sum())
    tests = pd.DataFrame(
        {
            "channel": ["tv"],
            "start": [weeks[lo]],
            "end": [weeks[hi - 1]],
            "delta_spend": [-float(x[lo:hi].sum())],
            "delta_y": [1.6 * true_lift],
            "sigma": [0.03 * abs(true_lift)],
        }
    )
    calibrated = MediaMix(value_per_unit=synthetic.value, **synthetic.fast).fit(
        synthetic.spend, synthetic.outcome, lift_tests=tests
    )
    before = fitted.results()["tv"].roi.mean
    after = calibrated.results()["tv"].roi.mean
    truth = synthetic.roi["tv"]
    assert after > before * 1.15
    assert after > truth * 1.2


def test_lift_test_errors(synthetic: Any) -> None:
    from streamwise.errors import DataError

    weeks = synthetic.spend.index
    bad = pd.DataFrame(
        {"channel": ["radio"], "start": [weeks[3]], "end": [weeks[5]], "delta_spend": [100.0],
         "delta_y": [5.0], "sigma": [1.0]}
    )  # fmt: skip
    model = MediaMix(draws=5, tune=5, chains=1, convergence="ignore")
    with pytest.raises(DataError, match="not in the model"):
        model.fit(synthetic.spend, synthetic.outcome, lift_tests=bad)
    with pytest.raises(DataError, match="missing: sigma"):
        model.fit(synthetic.spend, synthetic.outcome, lift_tests=bad.drop(columns="sigma"))
    too_much = bad.assign(channel="tv", delta_spend=-1e9)
    with pytest.raises(DataError, match="removes"):
        model.fit(synthetic.spend, synthetic.outcome, lift_tests=too_much)


def test_non_convergence_is_reported(synthetic: Any) -> None:
    model = MediaMix(draws=8, tune=5, chains=2, convergence="raise", seed=2)
    with pytest.raises(ModelError, match=r"did not converge: .*Try more tune and draws"):
        model.fit(synthetic.spend, synthetic.outcome)


def test_logistic_saturation_and_counts_fit(synthetic: Any) -> None:
    counts = synthetic.outcome.round()
    model = MediaMix(
        saturation="logistic", likelihood="poisson", draws=50, tune=50, chains=1,
        yearly_order=1, trend=False, convergence="ignore",
    ).fit(synthetic.spend, counts)  # fmt: skip
    assert model.results().to_frame().shape[0] == 3
    with pytest.raises(ModelError, match="Hill curves"):
        model.response_curves()
    with pytest.raises(ModelError, match="whole-number"):
        MediaMix(likelihood="poisson").fit(synthetic.spend, synthetic.outcome + 0.5)
