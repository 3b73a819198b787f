"""The :class:`MediaMix` estimator: a Bayesian media mix model fitted by NUTS in NumPyro.

The model is that of Jin et al. (2017), "Bayesian methods for media mix modeling with carryover
and shape effects" (Google): adstock (eq. 1–2) then Hill saturation (eq. 3) per channel, added to
a baseline with trend and yearly Fourier seasonality (see :mod:`streamwise.measure.mmm.model`).
Chan & Perry (2017), "Challenges and opportunities in media mix modeling" (Google), discuss why
such models need informative data (varied spend) or calibration by experiments: lift tests passed
to :meth:`MediaMix.fit` enter the likelihood.

NumPyro and JAX come with the ``[bayes]`` extra and are imported only when a model is fitted.
"""

from __future__ import annotations

import functools
import time
import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd

from streamwise.errors import DataError, ModelError
from streamwise.measure.curves import HillCurve
from streamwise.measure.mmm.data import MediaData
from streamwise.measure.mmm.model import LiftDesign, ModelDesign, fourier_terms, media_mix_model
from streamwise.measure.mmm.results import ChannelResult, Estimate, MediaMixResults
from streamwise.measure.mmm.transforms import (
    Adstock,
    HillSaturation,
    Saturation,
    adstock_from_config,
    apply_adstock,
    lag_matrix,
    saturation_from_config,
)

__all__ = ["ConvergenceWarning", "MediaMix", "require_bayes"]

Likelihood = Literal["normal", "student_t", "poisson", "negative_binomial"]
ChainMethod = Literal["vectorized", "parallel", "sequential"]

_CHANNEL_PARAMS = ("alpha", "delay", "K", "S", "lam", "coef", "beta")


class ConvergenceWarning(UserWarning):
    """NUTS chains did not converge (R-hat too high or effective sample size too low)."""


def require_bayes() -> None:
    """Raise a clear error when NumPyro or JAX is missing."""
    try:
        import jax  # noqa: F401
        import numpyro  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ModelError(
            f"the media mix model needs NumPyro and JAX ({exc.name} is missing); "
            "install them with: pip install 'streamwise[bayes]'"
        ) from exc


def _lift_frame(frame: pd.DataFrame) -> pd.DataFrame:
    need = {"channel", "start", "end", "delta_spend", "delta_y", "sigma"}
    missing = need - set(frame.columns)
    if missing:
        raise DataError(
            f"lift tests need columns {', '.join(sorted(need))}; missing: "
            f"{', '.join(sorted(missing))} (delta_spend: extra spend over the test, delta_y: "
            "measured incremental outcome over the test, sigma: its standard error)",
            source="lift_tests",
        )
    out = frame.copy()
    out["start"] = pd.to_datetime(out["start"])
    out["end"] = pd.to_datetime(out["end"])
    if (out["sigma"] <= 0).any() or out["sigma"].isna().any():
        raise DataError("lift test standard errors (sigma) must be positive", source="lift_tests")
    return out


# NumPyro's MCMC, given a model, traces it eagerly to find its transforms and initial values:
# every JAX operation in the model is then compiled on its own, which took ~15 s of a 27 s fit
# (955 small compilations for 156 weeks x 8 channels). Given a potential function and initial
# values instead, MCMC compiles one program; the initial values and the constrained draws come
# from NumPyro's own utilities, each compiled once as a whole.


def _init_near_mean(site: dict[str, Any] | None = None, radius: float = 0.5) -> Any:
    """NumPyro init strategy: each site at its prior mean, moved by ``Uniform(-radius, radius)``
    in the unconstrained space (so that chains start apart). Unlike ``init_to_median`` it draws
    nothing from the priors, whose samplers (Gamma and Beta rejection loops) took 12 s to
    compile."""
    if site is None:
        return functools.partial(_init_near_mean, radius=radius)
    if site["type"] != "sample" or site["is_observed"] or site["fn"].support.is_discrete:
        return None
    import jax
    import jax.numpy as jnp
    from numpyro.distributions import biject_to

    fn = site["fn"]
    shape = tuple(site["kwargs"].get("sample_shape", ())) + tuple(fn.shape())
    to_support = biject_to(fn.support)
    center = to_support.inv(jnp.broadcast_to(fn.mean, shape))
    jitter = jax.random.uniform(site["kwargs"]["rng_key"], shape, minval=-radius, maxval=radius)
    return to_support(center + jitter)


def _initial_params(model: Any, keys: Any) -> dict[str, Any]:
    """Unconstrained initial values per chain (:func:`_init_near_mean`).

    Only the priors' means and the support transforms are computed: XLA drops the rest of the
    model from the compiled program, so this compiles in a fraction of a second (NumPyro's
    ``find_valid_initial_params`` also compiles the potential and its gradient: 7.8 s here).
    """
    import jax
    from numpyro.distributions import biject_to
    from numpyro.handlers import seed, substitute, trace

    def one(key: Any) -> dict[str, Any]:
        model_ = substitute(seed(model, key), substitute_fn=_init_near_mean())
        return {
            name: biject_to(site["fn"].support).inv(site["value"])
            for name, site in trace(model_).get_trace().items()
            if site["type"] == "sample" and not site["is_observed"]
        }

    return jax.jit(jax.vmap(one))(keys)  # type: ignore[no-any-return]


def _constrained(model: Any, samples: dict[str, Any]) -> dict[str, np.ndarray]:
    """Draws ``(chains, draws, ...)`` in the unconstrained space to the model's sites and its
    deterministic values."""
    import jax
    from numpyro.infer.util import constrain_fn

    fn = jax.jit(lambda z: constrain_fn(model, (), {}, z, return_deterministic=True, batch_ndims=2))
    return {k: np.asarray(v) for k, v in fn(samples).items()}


class MediaMix:
    """Bayesian media mix model (Jin et al. 2017) with lift-test calibration, fitted by NUTS.

    Parameters
    ----------
    adstock
        ``"geometric"`` (default), ``"delayed"``, a config dict (``{"name": ..., "l_max": 13}``)
        or an :class:`~streamwise.measure.mmm.transforms.Adstock`.
    saturation
        ``"hill"`` (default; needed for :meth:`response_curves`), ``"logistic"``, a config dict
        or a :class:`~streamwise.measure.mmm.transforms.Saturation`.
    yearly_order
        Number of yearly Fourier pairs (0 for no seasonality). Weekly data resolve up to 26;
        sharp holiday peaks need 10 or more.
    seasonality
        ``"multiplicative"`` (seasonal swings scale with the trend) or ``"additive"``.
    trend
        Include a linear trend of the baseline.
    likelihood
        ``"normal"`` (default), ``"student_t"`` (robust to outlier weeks), ``"poisson"`` or
        ``"negative_binomial"`` (integer outcomes such as new customers).
    draws, tune, chains
        Posterior draws and warm-up steps per chain, and the number of chains.
    chain_method
        How NumPyro runs the chains: ``"parallel"`` (default: one JAX device per chain; on CPU
        the devices exist only if ``numpyro.set_host_device_count(chains)`` ran before JAX
        started, otherwise this falls back to ``"vectorized"``), ``"vectorized"`` (chains batched
        in one device) or ``"sequential"``. Measured on 2 cores, 156 weeks x 8 channels, Hill,
        2 x (1000 + 1000): parallel 20-28 s; vectorized took 2.6x as long as parallel.
    target_accept
        NUTS target acceptance probability (0.8, NumPyro's and PyMC's default; raise it when
        there are divergent transitions).
    dense_mass
        Adapt a dense mass matrix (the baseline's Fourier terms, trend and intercept are
        correlated).
    seed
        Random seed.
    value_per_unit
        Money per outcome unit (e.g. first-order value of a new customer) for ROI.
    interval
        Width of the reported central posterior intervals.
    convergence
        ``"warn"`` (default), ``"raise"`` or ``"ignore"`` when R-hat exceeds ``rhat_max`` or the
        effective sample size falls below ``ess_min`` for any parameter.
    """

    def __init__(
        self,
        *,
        adstock: str | dict[str, Any] | Adstock = "geometric",
        saturation: str | dict[str, Any] | Saturation = "hill",
        yearly_order: int = 10,
        seasonality: Literal["multiplicative", "additive"] = "multiplicative",
        trend: bool = True,
        likelihood: Likelihood = "normal",
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 2,
        chain_method: ChainMethod = "parallel",
        target_accept: float = 0.8,
        dense_mass: bool = True,
        seed: int = 0,
        value_per_unit: float = 1.0,
        interval: float = 0.9,
        convergence: Literal["warn", "raise", "ignore"] = "warn",
        rhat_max: float = 1.05,
        ess_min: float = 100.0,
    ) -> None:
        self.adstock = adstock
        self.saturation = saturation
        self.yearly_order = yearly_order
        self.seasonality = seasonality
        self.trend = trend
        self.likelihood = likelihood
        self.draws = draws
        self.tune = tune
        self.chains = chains
        self.chain_method = chain_method
        self.target_accept = target_accept
        self.dense_mass = dense_mass
        self.seed = seed
        self.value_per_unit = value_per_unit
        self.interval = interval
        self.convergence = convergence
        self.rhat_max = rhat_max
        self.ess_min = ess_min

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MediaMix:
        """Build from a config dict of the constructor's parameters."""
        cfg = dict(config)
        cfg.pop("name", None)
        try:
            return cls(**cfg)
        except TypeError as exc:
            raise ModelError(f"bad media mix settings: {exc}") from exc

    # ---- fitting ------------------------------------------------------------------------------

    def _check_params(self) -> tuple[Adstock, Saturation]:
        if self.likelihood not in ("normal", "student_t", "poisson", "negative_binomial"):
            raise ModelError(
                f"unknown likelihood {self.likelihood!r}; use normal, student_t, poisson or "
                "negative_binomial"
            )
        if self.seasonality not in ("multiplicative", "additive"):
            raise ModelError("seasonality must be 'multiplicative' or 'additive'")
        if self.chain_method not in ("vectorized", "parallel", "sequential"):
            raise ModelError("chain_method must be 'vectorized', 'parallel' or 'sequential'")
        if min(self.draws, self.tune, self.chains) < 1:
            raise ModelError("draws, tune and chains must be at least 1")
        if not 0 <= self.yearly_order <= 26:
            raise ModelError("yearly_order must lie in 0..26 for weekly data")
        if not 0 < self.interval < 1:
            raise ModelError("interval must lie strictly between 0 and 1")
        return adstock_from_config(self.adstock), saturation_from_config(self.saturation)

    def fit(
        self,
        data: MediaData | pd.DataFrame,
        outcome: pd.Series | None = None,
        *,
        controls: pd.DataFrame | None = None,
        lift_tests: pd.DataFrame | None = None,
        value_per_unit: float | None = None,
    ) -> MediaMix:
        """Fit the model by NUTS.

        Parameters
        ----------
        data
            A :class:`MediaData`, or spend (long or wide form, see
            :meth:`MediaData.from_frames`) with ``outcome`` given.
        outcome, controls
            With spend as ``data``: the outcome per week and optional controls.
        lift_tests
            Measured lifts, one row per test: ``channel``, ``start``, ``end`` (first and last
            week start of the test), ``delta_spend`` (extra spend over the test; negative for a
            hold-out), ``delta_y`` (measured incremental outcome over the test) and ``sigma``
            (its standard error). Each enters the likelihood as
            ``delta_y ~ Normal(model lift over the test weeks, sigma)``.
        value_per_unit
            Overrides the constructor's ``value_per_unit``.

        Returns
        -------
        MediaMix
            ``self``, fitted.
        """
        adstock, saturation = self._check_params()
        require_bayes()
        if not isinstance(data, MediaData):
            if outcome is None:
                raise ModelError("pass the outcome per week with the spend, or a MediaData")
            data = MediaData.from_frames(data, outcome, controls)
        if value_per_unit is not None:
            self.value_per_unit = value_per_unit
        counts = None
        if self.likelihood in ("poisson", "negative_binomial"):
            y_raw = data.outcome.to_numpy()
            if np.any(np.abs(y_raw - np.round(y_raw)) > 1e-9):
                raise ModelError(
                    f"the {self.likelihood} likelihood needs whole-number outcomes; use "
                    "likelihood='normal' for revenue or other continuous outcomes"
                )
            counts = np.round(y_raw).astype(np.int64)

        import jax
        import numpyro
        from numpyro.infer import MCMC, NUTS
        from numpyro.infer.util import potential_energy

        spend = data.spend.to_numpy(np.float64)
        x_scale = spend.mean(axis=0)
        y = data.outcome.to_numpy(np.float64)
        y_scale = float(y.mean())
        if y_scale <= 0:
            raise DataError(
                "the outcome is zero in every week; nothing to explain", source="outcome"
            )
        lags = lag_matrix(spend / x_scale, adstock.l_max)
        t = np.arange(data.n_weeks) / max(data.n_weeks - 1, 1)
        mid = data.week_start + pd.Timedelta(days=3)
        fourier = fourier_terms(mid.dayofyear.to_numpy(), self.yearly_order)
        if data.controls is not None and data.controls.shape[1]:
            c = data.controls.to_numpy(np.float64)
            sd = c.std(axis=0)
            sd[sd == 0] = 1.0
            ctrl = (c - c.mean(axis=0)) / sd
        else:
            ctrl = np.zeros((data.n_weeks, 0))
        lift = self._lift_design(lift_tests, data, x_scale, y_scale, adstock.l_max)
        design = ModelDesign(
            lags=lags,
            t=t,
            fourier=fourier,
            controls=ctrl,
            y=y / y_scale,
            y_scale=y_scale,
            counts=counts,
            lift=lift,
        )
        kwargs = {
            "design": design,
            "adstock": adstock,
            "saturation": saturation,
            "likelihood": self.likelihood,
            "seasonality": self.seasonality,
            "trend": self.trend,
        }
        model = functools.partial(media_mix_model, **kwargs)
        kernel = NUTS(
            potential_fn=functools.partial(potential_energy, model, (), {}),
            target_accept_prob=self.target_accept,
            dense_mass=self.dense_mass,
        )
        chain_method = self.chain_method
        if chain_method == "parallel" and jax.local_device_count() < self.chains:
            chain_method = "vectorized"  # one CPU device: batch the chains instead
        mcmc = MCMC(
            kernel,
            num_warmup=self.tune,
            num_samples=self.draws,
            num_chains=self.chains,
            chain_method=chain_method,
            progress_bar=False,
        )
        started = time.perf_counter()
        key_init, key_run = jax.random.split(jax.random.PRNGKey(self.seed))
        init = _initial_params(model, jax.random.split(key_init, self.chains))
        if self.chains == 1:
            init = jax.tree_util.tree_map(lambda v: v[0], init)
        mcmc.run(key_run, init_params=init, extra_fields=("diverging", "num_steps"))
        grouped = _constrained(model, mcmc.get_samples(group_by_chain=True))
        self.fit_seconds_ = time.perf_counter() - started
        extra = mcmc.get_extra_fields(group_by_chain=True)
        self.divergences_ = int(np.asarray(extra["diverging"]).sum())
        self.mean_tree_size_ = float(np.asarray(extra["num_steps"]).mean())

        self.adstock_ = adstock
        self.saturation_ = saturation
        self.data_ = data
        self.channels_ = data.channels
        self.x_scale_ = x_scale
        self.y_scale_ = y_scale
        self.lift_tests_ = lift_tests
        self.design_ = design
        self.model_kwargs_ = kwargs
        self.posterior_ = {k: v.reshape(-1, *v.shape[2:]) for k, v in grouped.items()}
        self.diagnostics_ = self._diagnostics(grouped, numpyro)
        self._cache: dict[str, Any] = {}
        self._check_convergence()
        return self

    def _lift_design(
        self,
        lift_tests: pd.DataFrame | None,
        data: MediaData,
        x_scale: np.ndarray,
        y_scale: float,
        l_max: int,
    ) -> LiftDesign | None:
        if lift_tests is None or len(lift_tests) == 0:
            return None
        tests = _lift_frame(lift_tests)
        weeks = data.week_start
        n, n_weeks = len(tests), data.n_weeks
        channel = np.zeros(n, dtype=np.int64)
        delta = np.zeros((n_weeks, n))
        window = np.zeros((n, n_weeks))
        for i, row in enumerate(tests.itertuples(index=False)):
            if row.channel not in data.channels:
                raise DataError(
                    f"lift test {i + 1} is for channel {row.channel!r}, which is not in the "
                    f"model ({', '.join(data.channels)})",
                    source="lift_tests",
                    row=i + 1,
                    column="channel",
                )
            inside = (weeks >= row.start) & (weeks <= row.end)
            if not inside.any():
                raise DataError(
                    f"lift test {i + 1} ({row.start.date()} to {row.end.date()}) covers no week "
                    "of the data; give start and end within the modelled weeks",
                    source="lift_tests",
                    row=i + 1,
                )
            c = data.channels.index(row.channel)
            channel[i] = c
            base = data.spend.iloc[inside, c].to_numpy(np.float64)
            total = float(row.delta_spend)
            if total < -base.sum() * (1 + 1e-9):
                raise DataError(
                    f"lift test {i + 1} removes {-total:,.2f} of spend but the channel spent only "
                    f"{base.sum():,.2f} in its weeks",
                    source="lift_tests",
                    row=i + 1,
                    column="delta_spend",
                )
            # the change is spread in proportion to the spend of each week (a +20% test scales
            # every week by 1.2, a hold-out sets them to 0), evenly where nothing was spent
            share = base / base.sum() if base.sum() > 0 else np.full(len(base), 1 / len(base))
            delta[inside, i] = total * share / x_scale[c]
            window[i, inside] = 1.0
        return LiftDesign(
            channel=channel,
            delta_lags=lag_matrix(delta, l_max),
            window=window,
            delta_y=tests["delta_y"].to_numpy(np.float64) / y_scale,
            sigma=tests["sigma"].to_numpy(np.float64) / y_scale,
        )

    def _diagnostics(self, grouped: dict[str, np.ndarray], numpyro: Any) -> pd.DataFrame:
        from numpyro.diagnostics import effective_sample_size, split_gelman_rubin

        rows = []
        for name, values in grouped.items():
            flat = values.reshape(values.shape[0], values.shape[1], -1)
            rhat = np.asarray(split_gelman_rubin(flat)) if flat.shape[1] >= 4 else None
            ess = np.asarray(effective_sample_size(flat))
            for j in range(flat.shape[2]):
                if name in _CHANNEL_PARAMS and flat.shape[2] == len(self.channels_):
                    label = f"{name}[{self.channels_[j]}]"
                elif flat.shape[2] == 1:
                    label = name
                else:
                    label = f"{name}[{j}]"
                rows.append(
                    {
                        "parameter": label,
                        "mean": float(flat[:, :, j].mean()),
                        "sd": float(flat[:, :, j].std()),
                        "r_hat": float(rhat[j]) if rhat is not None else float("nan"),
                        "ess": float(ess[j]),
                    }
                )
        return pd.DataFrame(rows).set_index("parameter")

    def _check_convergence(self) -> None:
        diag = self.diagnostics_
        bad = diag[(diag["r_hat"] > self.rhat_max) | (diag["ess"] < self.ess_min)]
        self.converged_ = bad.empty
        if bad.empty or self.convergence == "ignore":
            return
        shown = ", ".join(
            f"{p} (R-hat {r:.3f}, ESS {e:.0f})"
            for p, r, e in zip(bad.index[:12], bad["r_hat"], bad["ess"], strict=False)
        )
        more = f" and {len(bad) - 12} more" if len(bad) > 12 else ""
        message = (
            f"the media mix model did not converge: {shown}{more} (want R-hat <= "
            f"{self.rhat_max}, ESS >= {self.ess_min:.0f}; {self.divergences_} divergent "
            "transitions). Try more tune and draws, a higher target_accept, fewer Fourier terms "
            "(yearly_order), leaving out channels with little spend variation, or lift tests for "
            "the channels listed"
        )
        if self.convergence == "raise":
            raise ModelError(message)
        warnings.warn(message, ConvergenceWarning, stacklevel=3)

    # ---- posterior quantities -----------------------------------------------------------------

    def _require_fit(self) -> None:
        if not hasattr(self, "posterior_"):
            raise ModelError("the media mix model is not fitted yet; call fit(...) first")

    def _channel_params(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        post = self.posterior_
        ad = {k: post[k] for k in ("alpha", "delay") if k in post}
        sat = {k: post[k] for k in ("K", "S", "lam") if k in post}
        return ad, sat

    def _stock(self, multiplier: float = 1.0) -> np.ndarray:
        """Adstocked scaled spend per draw: ``(D, T, C)``."""
        ad, _ = self._channel_params()
        weights = self.adstock_.weights(ad, xp=np)  # (L, D, C)
        return multiplier * apply_adstock(self.design_.lags, weights, xp=np)

    def contribution_draws(self, multiplier: float = 1.0) -> np.ndarray:
        """Each channel's contribution per draw and week in outcome units: ``(D, T, C)``,
        at the observed spend times ``multiplier``."""
        self._require_fit()
        key = f"contrib{multiplier}"
        if key not in self._cache:
            _, sat = self._channel_params()
            params = {k: v[:, None, :] for k, v in sat.items()}
            curve = self.saturation_.apply(self._stock(multiplier), params, xp=np)
            self._cache[key] = self.posterior_["beta"][:, None, :] * curve * self.y_scale_
        return self._cache[key]  # type: ignore[no-any-return]

    def expected_draws(self) -> np.ndarray:
        """Expected outcome per draw and week (baseline + media + controls): ``(D, T)``."""
        self._require_fit()
        if "mu" not in self._cache:
            import jax
            from numpyro.infer import Predictive

            kwargs = dict(self.model_kwargs_, observe=False)
            pred = Predictive(
                media_mix_model, posterior_samples=self.posterior_, return_sites=["mu"]
            )
            out = pred(jax.random.PRNGKey(self.seed + 1), **kwargs)
            self._cache["mu"] = np.asarray(out["mu"], dtype=np.float64) * self.y_scale_
        return self._cache["mu"]  # type: ignore[no-any-return]

    def predict(self) -> pd.Series:
        """Posterior mean expected outcome per week."""
        return pd.Series(
            self.expected_draws().mean(axis=0), index=self.data_.week_start, name="expected"
        )

    def contributions(self) -> pd.DataFrame:
        """Posterior mean decomposition per week: baseline (with controls), each channel,
        the expected and the observed outcome."""
        contrib = self.contribution_draws()
        mu = self.expected_draws()
        frame = pd.DataFrame(
            contrib.mean(axis=0), index=self.data_.week_start, columns=list(self.channels_)
        )
        frame.insert(0, "baseline", (mu - contrib.sum(axis=2)).mean(axis=0))
        frame["expected"] = mu.mean(axis=0)
        frame["outcome"] = self.data_.outcome.to_numpy()
        return frame

    def results(self, interval: float | None = None) -> MediaMixResults:
        """Contribution, share of the outcome, ROI and marginal ROI per channel."""
        self._require_fit()
        level = self.interval if interval is None else interval
        base = self.contribution_draws().sum(axis=1)  # (D, C)
        more = self.contribution_draws(1.01).sum(axis=1)
        spend = self.data_.spend.sum().to_numpy(np.float64)
        vpu = float(self.value_per_unit)
        total_outcome = float(self.data_.outcome.sum())
        channels = []
        for j, ch in enumerate(self.channels_):
            channels.append(
                ChannelResult(
                    channel=ch,
                    spend=float(spend[j]),
                    contribution=Estimate.from_draws(base[:, j], level),
                    roi=Estimate.from_draws(base[:, j] * vpu / spend[j], level),
                    marginal_roi=Estimate.from_draws(
                        (more[:, j] - base[:, j]) * vpu / (0.01 * spend[j]), level
                    ),
                    share=Estimate.from_draws(base[:, j] / total_outcome, level),
                )
            )
        return MediaMixResults(
            channels=tuple(channels),
            value_per_unit=vpu,
            interval=level,
            weekly=self.contributions(),
        )

    def roi(self, interval: float | None = None) -> pd.DataFrame:
        """ROI per channel: mean, median and interval bounds."""
        frame = self.results(interval).to_frame()
        return frame[[c for c in frame.columns if c.startswith("roi")]]

    def marginal_roi(self, interval: float | None = None) -> pd.DataFrame:
        """Marginal ROI at the current spend (+1% in every week) per channel."""
        frame = self.results(interval).to_frame()
        return frame[[c for c in frame.columns if c.startswith("marginal_roi")]]

    def response_curves(self) -> dict[str, HillCurve]:
        """Steady-state response curves in spend units, one :class:`HillCurve` per channel.

        The model saturates spend scaled by the channel mean ``m``:
        ``beta Hill(x / m; K, S) * y_scale = (beta * y_scale) Hill(x; K m, S)``, so the curve in
        spend per week has ``beta * y_scale`` (outcome per week at saturation), half-saturation
        ``K * m`` and the same shape ``S``. Normalised adstock leaves a steady spend unchanged.
        """
        self._require_fit()
        if not isinstance(self.saturation_, HillSaturation):
            raise ModelError(
                "response curves are Hill curves; fit with saturation='hill' to get them"
            )
        post = self.posterior_
        return {
            ch: HillCurve(
                channel=ch,
                beta=post["beta"][:, j] * self.y_scale_,
                K=post["K"][:, j] * self.x_scale_[j],
                S=post["S"][:, j],
                value_per_unit=float(self.value_per_unit),
            )
            for j, ch in enumerate(self.channels_)
        }

    def summary(self) -> pd.DataFrame:
        """Posterior mean, sd, R-hat and ESS of every parameter (scaled units)."""
        self._require_fit()
        return self.diagnostics_.copy()

    def __repr__(self) -> str:
        if not hasattr(self, "posterior_"):
            return (
                f"<MediaMix(adstock={self.adstock!r}, saturation={self.saturation!r}): not fitted>"
            )
        rhat = float(np.nanmax(self.diagnostics_["r_hat"].to_numpy()))
        return (
            f"<MediaMix: {len(self.channels_)} channels, {self.data_.n_weeks} weeks, "
            f"{self.adstock_.name} adstock, {self.saturation_.name} saturation, "
            f"{self.chains}x{self.draws} draws, max R-hat {rhat:.3f}, "
            f"{self.divergences_} divergences, mean tree size {self.mean_tree_size_:.0f}, "
            f"fitted in {self.fit_seconds_:.1f} s>"
        )
