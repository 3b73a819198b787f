"""The NumPyro model of weekly outcomes (Jin et al. 2017, eq. 4, with a trend and seasonality).

In scaled units (outcome divided by its mean, spend by each channel's mean)::

    mu(t) = base(t) + sum_c beta_c * sat_c(adstock_c(x_c)(t)) + sum_j gamma_j z_j(t)

    base(t) = level(t) * exp(f(t))          (seasonality="multiplicative", the default)
            = level(t) + f(t)               (seasonality="additive")
    level(t) = intercept * (1 + g * t / T)  (a linear trend; floored just above 0)
    f(t) = sum_{k=1}^{order} a_k sin(2 pi k d(t) / 365.25) + b_k cos(2 pi k d(t) / 365.25)

where ``d(t)`` is the day of the year of the middle of week ``t`` (Fourier seasonality as in
Prophet, Taylor & Letham 2018, eq. 6) and ``z_j`` are standardised controls. The media term is
additive, as in Jin et al. (2017) and Chan & Perry (2017); the baseline's seasonality multiplies its
level, so that seasonal swings grow with the business (Prophet's multiplicative mode).

Priors (all on the unit-free scaled values):

==============  =============================  ============================================
parameter       prior                          note
==============  =============================  ============================================
intercept       HalfNormal(1)                  baseline share of the mean outcome
g (trend)       Normal(0, 0.5)                 relative growth of the level over the data
a_k, b_k        Normal(0, 0.5 / k)             smaller for faster cycles (multiplicative)
beta_c          HalfNormal(1)                  weekly outcome at saturation / mean outcome
adstock         see transforms                 ``alpha ~ Beta(1, 3)`` (pymc-marketing)
saturation      see transforms                 Hill ``K ~ Gamma(2, 2)``, ``S ~ Gamma(4, 2)``
gamma_j         Normal(0, 1)                   per standard deviation of the control
sigma           HalfNormal(0.5)                normal and Student-t noise
nu              Gamma(2, 0.1)                  Student-t degrees of freedom (Juárez & Steel)
phi             HalfNormal(100)                negative binomial concentration
==============  =============================  ============================================

Lift tests enter as extra observations (as pymc-marketing's ``add_lift_test_measurements``): the
model's incremental outcome of test ``i`` — the channel's contribution with the test's extra
spend minus without it, summed over the test's weeks — is observed as
``delta_y_i ~ Normal(model_i, se_i)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from streamwise.measure.mmm.transforms import Adstock, Saturation, apply_adstock

__all__ = ["LiftDesign", "ModelDesign", "fourier_terms", "media_mix_model"]


def fourier_terms(day_of_year: np.ndarray, order: int) -> np.ndarray:
    """Yearly Fourier basis ``[sin(2 pi k d / 365.25), cos(...)]`` for ``k = 1..order``."""
    if order <= 0:
        return np.zeros((len(day_of_year), 0))
    k = np.arange(1, order + 1)
    angle = 2.0 * np.pi * np.outer(np.asarray(day_of_year, dtype=np.float64) / 365.25, k)
    return np.concatenate([np.sin(angle), np.cos(angle)], axis=1)


@dataclass(frozen=True, eq=False)
class LiftDesign:
    """Lift tests in scaled units: for test ``i``, the channel index, the extra (scaled) spend
    per week as a lag tensor ``(L, T, n_tests)``, the weeks it is measured over ``(n_tests, T)``,
    and the measured incremental outcome and its standard error (scaled)."""

    channel: np.ndarray
    delta_lags: np.ndarray
    window: np.ndarray
    delta_y: np.ndarray
    sigma: np.ndarray


@dataclass(frozen=True, eq=False)
class ModelDesign:
    """Arrays the model is conditioned on (scaled)."""

    lags: np.ndarray  # (L, T, C) spend / channel mean
    t: np.ndarray  # (T,) 0..1
    fourier: np.ndarray  # (T, 2 * order)
    controls: np.ndarray  # (T, J) standardised
    y: np.ndarray  # (T,) outcome / its mean
    y_scale: float
    counts: np.ndarray | None = None  # (T,) integer outcome for count likelihoods
    lift: LiftDesign | None = None


def media_mix_model(
    design: ModelDesign,
    adstock: Adstock,
    saturation: Saturation,
    *,
    likelihood: str = "normal",
    seasonality: str = "multiplicative",
    trend: bool = True,
    media_share: float = 1.0,
    observe: bool = True,
) -> None:
    """NumPyro model; see the module docstring for the equations and priors."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    _, n_weeks, n_channels = design.lags.shape
    ad = adstock.sample(n_channels)
    sat = saturation.sample(n_channels)
    # the contribution at the channel's average spend, then the level at saturation from it
    coef_scale = media_share * np.sqrt(np.pi / 2.0) / n_channels
    coef = numpyro.sample("coef", dist.HalfNormal(coef_scale).expand([n_channels]))
    beta = numpyro.deterministic("beta", coef / saturation.apply(jnp.ones(n_channels), sat, xp=jnp))

    weights = adstock.weights(ad, xp=jnp)  # (L, C)
    stock = apply_adstock(jnp.asarray(design.lags), weights, xp=jnp)  # (T, C)
    media = jnp.sum(beta * saturation.apply(stock, sat, xp=jnp), axis=1)

    intercept = numpyro.sample("intercept", dist.HalfNormal(1.0))
    level = intercept * jnp.ones(n_weeks)
    if trend:
        g = numpyro.sample("trend", dist.Normal(0.0, 1.0))
        level = intercept * jnp.maximum(1.0 + g * jnp.asarray(design.t), 1e-3)
    n_fourier = design.fourier.shape[1]
    if n_fourier:
        order = n_fourier // 2
        scale = 0.5 / np.concatenate([np.arange(1, order + 1)] * 2)
        if seasonality == "additive":
            scale = scale * 0.5
        season_coef = numpyro.sample("season", dist.Normal(0.0, jnp.asarray(scale)))
        season = jnp.asarray(design.fourier) @ season_coef
        base = level * jnp.exp(season) if seasonality == "multiplicative" else level + season
    else:
        base = level
    mu = base + media
    if design.controls.shape[1]:
        gamma = numpyro.sample("controls", dist.Normal(0.0, 1.0).expand([design.controls.shape[1]]))
        mu = mu + jnp.asarray(design.controls) @ gamma

    if design.lift is not None:
        lift = design.lift
        ch = jnp.asarray(lift.channel)
        stock_i = stock[:, ch]  # (T, n)
        extra = jnp.einsum("ltn,ln->tn", jnp.asarray(lift.delta_lags), weights[:, ch])
        params_i = {k: v[ch] for k, v in sat.items()}
        gain = saturation.apply(stock_i + extra, params_i, xp=jnp) - saturation.apply(
            stock_i, params_i, xp=jnp
        )
        model_lift = beta[ch] * jnp.sum(gain * jnp.asarray(lift.window).T, axis=0)
        numpyro.sample(
            "lift",
            dist.Normal(model_lift, jnp.asarray(lift.sigma)),
            obs=jnp.asarray(lift.delta_y),
        )

    if not observe:
        numpyro.deterministic("mu", mu)
        return
    if likelihood == "normal":
        sigma = numpyro.sample("sigma", dist.HalfNormal(0.5))
        numpyro.sample("y", dist.Normal(mu, sigma), obs=jnp.asarray(design.y))
    elif likelihood == "student_t":
        sigma = numpyro.sample("sigma", dist.HalfNormal(0.5))
        nu = numpyro.sample("nu", dist.Gamma(2.0, 0.1))
        numpyro.sample("y", dist.StudentT(nu, mu, sigma), obs=jnp.asarray(design.y))
    else:
        rate = jnp.maximum(mu, 1e-6) * design.y_scale
        counts = jnp.asarray(design.counts)
        if likelihood == "poisson":
            numpyro.sample("y", dist.Poisson(rate), obs=counts)
        else:
            phi = numpyro.sample("phi", dist.HalfNormal(100.0))
            numpyro.sample("y", dist.NegativeBinomial2(rate, phi), obs=counts)
