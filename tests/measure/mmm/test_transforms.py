"""Adstock and saturation against straightforward loops and the sample business's own functions."""

from __future__ import annotations

import numpy as np
import pytest

from streamwise.data.sample import media as truth
from streamwise.errors import ConfigError
from streamwise.measure.mmm import transforms as tf

jnp = pytest.importorskip("jax.numpy")


def loop_adstock(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    out = np.zeros(len(x))
    for t in range(len(x)):
        for lag, w in enumerate(weights):
            if t - lag >= 0:
                out[t] += w * x[t - lag]
    return out / weights.sum()


@pytest.fixture
def spend() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.gamma(2.0, 50.0, size=(60, 3)) * (rng.random((60, 3)) < 0.8)


def test_geometric_adstock_matches_loop_and_sample(spend: np.ndarray) -> None:
    alpha = np.array([0.1, 0.5, 0.8])
    got = np.asarray(tf.geometric_adstock(spend, alpha, 13))
    for c, a in enumerate(alpha):
        want = loop_adstock(spend[:, c], a ** np.arange(13))
        np.testing.assert_allclose(got[:, c], want, rtol=1e-5)
        np.testing.assert_allclose(got[:, c], truth.geometric_adstock(spend[:, c], a), rtol=1e-5)
    one = tf.geometric_adstock(spend[:, 0], 0.3, 13, xp=np)
    np.testing.assert_allclose(one, truth.geometric_adstock(spend[:, 0], 0.3), rtol=1e-12)


def test_delayed_adstock_matches_loop(spend: np.ndarray) -> None:
    alpha, delay = np.array([0.5, 0.7, 0.9]), np.array([0.0, 2.0, 4.5])
    weights = tf.delayed_weights(jnp.asarray(alpha), jnp.asarray(delay), 13)
    got = np.asarray(tf.apply_adstock(jnp.asarray(tf.lag_matrix(spend, 13)), weights))
    for c in range(3):
        w = alpha[c] ** ((np.arange(13) - delay[c]) ** 2)
        np.testing.assert_allclose(got[:, c], loop_adstock(spend[:, c], w), rtol=1e-5)
    # normalised: a steady spend has adstock equal to it once the lags are filled
    steady = np.asarray(tf.apply_adstock(tf.lag_matrix(np.full((30, 3), 7.0), 13), weights))
    np.testing.assert_allclose(steady[13:], 7.0, rtol=1e-5)


def test_adstock_over_draws_has_draw_axis(spend: np.ndarray) -> None:
    alpha = np.array([[0.1, 0.5, 0.8], [0.2, 0.4, 0.6]])  # (draws, channels)
    weights = tf.geometric_weights(alpha, 13, xp=np)
    out = tf.apply_adstock(tf.lag_matrix(spend, 13), weights, xp=np)
    assert out.shape == (2, 60, 3)
    np.testing.assert_allclose(out[1, :, 2], truth.geometric_adstock(spend[:, 2], 0.6))


def test_lag_matrix_shifts() -> None:
    x = np.arange(1.0, 6.0)
    lags = tf.lag_matrix(x, 3)
    np.testing.assert_array_equal(lags[0], x)
    np.testing.assert_array_equal(lags[2], [0, 0, 1, 2, 3])


def test_hill_matches_sample_and_definition() -> None:
    x = np.array([0.0, 0.5, 1.0, 3.0, 250.0])
    for K, S in [(1.0, 1.0), (2.0, 2.5), (100.0, 0.7)]:
        want = x**S / (x**S + K**S)
        np.testing.assert_allclose(np.asarray(tf.hill(x, K, S)), want, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(tf.hill(x, K, S, xp=np), truth.hill(x, K, S), rtol=1e-12)
    assert float(tf.hill(np.array([2.0]), 2.0, 3.0, xp=np)[0]) == pytest.approx(0.5)


def test_logistic_saturation() -> None:
    x = np.linspace(0, 5, 11)
    want = (1 - np.exp(-2.0 * x)) / (1 + np.exp(-2.0 * x))
    np.testing.assert_allclose(np.asarray(tf.logistic_saturation(x, 2.0)), want, rtol=1e-6)


def test_registry_from_config() -> None:
    ad = tf.adstock_from_config({"name": "delayed", "l_max": 8, "alpha_prior": [2, 2]})
    assert isinstance(ad, tf.DelayedAdstock)
    assert ad.l_max == 8
    assert ad.alpha_prior == (2, 2)
    assert tf.adstock_from_config(ad.to_config()) == ad
    assert isinstance(tf.saturation_from_config("logistic"), tf.LogisticSaturation)
    with pytest.raises(ConfigError, match="unknown saturation 'exp'"):
        tf.saturation_from_config("exp")
    with pytest.raises(ConfigError, match="no setting"):
        tf.adstock_from_config({"name": "geometric", "decay": 0.3})
    with pytest.raises(ConfigError, match="l_max"):
        tf.GeometricAdstock(l_max=0)
