"""Carry-over (adstock) and shape (saturation) transforms of media spend, vectorised over channels.

Adstock follows Jin et al. (2017), "Bayesian methods for media mix modeling with carryover and
shape effects" (Google), eq. 1::

    adstock(x_t) = sum_{l=0}^{L-1} w(l) x_{t-l} / sum_{l=0}^{L-1} w(l)

with geometric weights ``w(l) = alpha**l`` or delayed weights ``w(l) = alpha**((l - theta)**2)``
(their eq. 2). The weights are normalised, so a steady spend ``x`` per period has adstock ``x``.
It is computed as one contraction of a lag tensor ``X[l, t, c] = x[t - l, c]`` (spend before the
series is 0) with the weights ``w[l, c]``: no loop over weeks.

Saturation is the Hill function of Jin et al. (2017), eq. 3,
``Hill(x; K, S) = 1 / (1 + (x/K)**-S)``, or the logistic saturation of pymc-marketing,
``(1 - exp(-lam x)) / (1 + exp(-lam x))``.

Each function takes an array module ``xp`` (``jax.numpy`` by default, ``numpy`` works too) so the
same code runs inside the NumPyro model and on posterior draws.

The components register by ``name`` (``ADSTOCKS``, ``SATURATIONS``) and are built from config with
:func:`adstock_from_config` and :func:`saturation_from_config`, as pymc-marketing builds its
adstock and saturation transforms by ``lookup_name``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from streamwise.errors import ConfigError

__all__ = [
    "ADSTOCKS",
    "SATURATIONS",
    "Adstock",
    "DelayedAdstock",
    "GeometricAdstock",
    "HillSaturation",
    "LogisticSaturation",
    "Saturation",
    "adstock_from_config",
    "apply_adstock",
    "delayed_weights",
    "geometric_adstock",
    "geometric_weights",
    "hill",
    "lag_matrix",
    "logistic_saturation",
    "saturation_from_config",
]


def _jnp() -> Any:
    import jax.numpy as jnp

    return jnp


def lag_matrix(x: Any, l_max: int) -> np.ndarray:
    """Lag tensor ``X[l, t, ...] = x[t - l, ...]`` (0 for ``t < l``), of shape ``(l_max, T, ...)``.

    Built once in numpy from the observed spend (data, not parameters), so the model's adstock is a
    single contraction with the weights.
    """
    arr = np.asarray(x, dtype=np.float64)
    n = arr.shape[0]
    out = np.zeros((l_max, *arr.shape), dtype=np.float64)
    for lag in range(min(l_max, n)):  # a loop over lags (13), never over weeks
        out[lag, lag:] = arr[: n - lag]
    return out


def geometric_weights(alpha: Any, l_max: int, *, xp: Any = None) -> Any:
    """Normalised geometric weights ``alpha**l / sum(alpha**l)``: ``(l_max, *alpha.shape)``."""
    xp = xp or _jnp()
    alpha = xp.asarray(alpha)
    lags = xp.arange(l_max, dtype=alpha.dtype).reshape((l_max,) + (1,) * alpha.ndim)
    w = alpha[None, ...] ** lags
    return w / xp.sum(w, axis=0, keepdims=True)


def delayed_weights(alpha: Any, theta: Any, l_max: int, *, xp: Any = None) -> Any:
    """Normalised delayed weights ``alpha**((l - theta)**2)`` (Jin et al. 2017, eq. 2)."""
    xp = xp or _jnp()
    alpha, theta = xp.asarray(alpha), xp.asarray(theta)
    lags = xp.arange(l_max, dtype=alpha.dtype).reshape((l_max,) + (1,) * alpha.ndim)
    w = alpha[None, ...] ** ((lags - theta[None, ...]) ** 2)
    return w / xp.sum(w, axis=0, keepdims=True)


def apply_adstock(lags: Any, weights: Any, *, xp: Any = None) -> Any:
    """Adstock from a lag tensor ``(L, T, C)`` and weights ``(L, C)`` or draws ``(L, D, C)``.

    Returns ``(T, C)`` for one set of weights, ``(D, T, C)`` for draws.
    """
    xp = xp or _jnp()
    if weights.ndim == 2:
        return xp.einsum("ltc,lc->tc", lags, weights)
    return xp.einsum("ltc,ldc->dtc", lags, weights)


def geometric_adstock(x: Any, alpha: Any, l_max: int = 13, *, xp: Any = None) -> Any:
    """Normalised geometric adstock of spend ``x`` (``(T,)`` or ``(T, C)``; Jin et al. eq. 1)."""
    xp = xp or _jnp()
    arr = np.asarray(x, dtype=np.float64)
    flat = arr.ndim == 1
    x2 = arr[:, None] if flat else arr
    alpha = xp.broadcast_to(xp.asarray(alpha) * 1.0, x2.shape[1:])
    weights = geometric_weights(alpha, l_max, xp=xp)
    out = apply_adstock(xp.asarray(lag_matrix(x2, l_max)), weights, xp=xp)
    return out[:, 0] if flat else out


def hill(x: Any, K: Any, S: Any, *, xp: Any = None) -> Any:
    """Hill saturation ``x**S / (x**S + K**S) = 1 / (1 + (K/x)**S)`` (Jin et al. 2017, eq. 3).

    Computed as a logistic function of ``S (log x - log K)``, which is stable for large ``S``
    and exact 0 at ``x = 0``.
    """
    xp = xp or _jnp()
    x = xp.asarray(x)
    safe = xp.where(x > 0, x, 1.0)
    z = S * (xp.log(safe) - xp.log(K))
    out = 1.0 / (1.0 + xp.exp(-z))
    return xp.where(x > 0, out, 0.0)


def logistic_saturation(x: Any, lam: Any, *, xp: Any = None) -> Any:
    """Logistic saturation ``(1 - exp(-lam x)) / (1 + exp(-lam x))`` (pymc-marketing)."""
    xp = xp or _jnp()
    return xp.tanh(0.5 * lam * xp.asarray(x))


# ---- components ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Adstock:
    """A carry-over transform: its parameters are sampled per channel in the model."""

    l_max: int = 13
    name: ClassVar[str] = ""

    def __post_init__(self) -> None:
        if not 1 <= int(self.l_max) <= 104:
            raise ConfigError(f"l_max must lie in 1..104 weeks, not {self.l_max}")

    def sample(self, n_channels: int) -> dict[str, Any]:  # pragma: no cover - abstract
        """Sample the parameters inside a NumPyro model (plate over channels)."""
        raise NotImplementedError

    def weights(self, params: dict[str, Any], *, xp: Any = None) -> Any:  # pragma: no cover
        """Normalised lag weights ``(L, ...)`` for parameters of shape ``(...)``."""
        raise NotImplementedError

    def to_config(self) -> dict[str, Any]:
        """The config this component is built from."""
        return {"name": self.name, "l_max": self.l_max}


@dataclass(frozen=True)
class GeometricAdstock(Adstock):
    """Geometric adstock; prior ``alpha ~ Beta(alpha_prior)`` (pymc-marketing: Beta(1, 3))."""

    alpha_prior: tuple[float, float] = (1.0, 3.0)
    name: ClassVar[str] = "geometric"

    def sample(self, n_channels: int) -> dict[str, Any]:
        import numpyro
        import numpyro.distributions as dist

        a, b = self.alpha_prior
        return {"alpha": numpyro.sample("alpha", dist.Beta(a, b).expand([n_channels]))}

    def weights(self, params: dict[str, Any], *, xp: Any = None) -> Any:
        return geometric_weights(params["alpha"], self.l_max, xp=xp)

    def to_config(self) -> dict[str, Any]:
        return {**super().to_config(), "alpha_prior": list(self.alpha_prior)}


@dataclass(frozen=True)
class DelayedAdstock(Adstock):
    """Delayed adstock (Jin et al. 2017, eq. 2): ``alpha ~ Beta(3, 3)``, peak delay
    ``theta ~ Uniform(0, min(l_max - 1, 6))`` weeks (Jin et al. use alpha ~ Beta(3, 3) and
    theta ~ Uniform(0, 12))."""

    alpha_prior: tuple[float, float] = (3.0, 3.0)
    max_delay: float = 6.0
    name: ClassVar[str] = "delayed"

    def sample(self, n_channels: int) -> dict[str, Any]:
        import numpyro
        import numpyro.distributions as dist

        a, b = self.alpha_prior
        top = float(min(self.l_max - 1, self.max_delay))
        return {
            "alpha": numpyro.sample("alpha", dist.Beta(a, b).expand([n_channels])),
            "delay": numpyro.sample("delay", dist.Uniform(0.0, top).expand([n_channels])),
        }

    def weights(self, params: dict[str, Any], *, xp: Any = None) -> Any:
        return delayed_weights(params["alpha"], params["delay"], self.l_max, xp=xp)

    def to_config(self) -> dict[str, Any]:
        return {
            **super().to_config(),
            "alpha_prior": list(self.alpha_prior),
            "max_delay": self.max_delay,
        }


@dataclass(frozen=True)
class Saturation:
    """A shape transform of (scaled) adstocked spend."""

    name: ClassVar[str] = ""

    def sample(self, n_channels: int) -> dict[str, Any]:  # pragma: no cover - abstract
        """Sample the parameters inside a NumPyro model."""
        raise NotImplementedError

    def apply(self, x: Any, params: dict[str, Any], *, xp: Any = None) -> Any:  # pragma: no cover
        """Saturate ``x`` (channels last) with parameters broadcasting against it."""
        raise NotImplementedError

    def to_config(self) -> dict[str, Any]:
        """The config this component is built from."""
        return {"name": self.name}


@dataclass(frozen=True)
class HillSaturation(Saturation):
    """Hill saturation on spend scaled by its channel mean.

    Priors: half-saturation ``K ~ Gamma(k_prior)`` (mean 1: half saturation near the average
    spend, as Jin et al.'s ``K ~ Beta(2, 2)`` on min-max-scaled media), shape
    ``S ~ Gamma(s_prior)`` (mean 2, Jin et al. use Gamma(3, 1)); both in scaled units.
    """

    k_prior: tuple[float, float] = (2.0, 2.0)
    s_prior: tuple[float, float] = (4.0, 2.0)
    name: ClassVar[str] = "hill"

    def sample(self, n_channels: int) -> dict[str, Any]:
        import numpyro
        import numpyro.distributions as dist

        return {
            "K": numpyro.sample("K", dist.Gamma(*self.k_prior).expand([n_channels])),
            "S": numpyro.sample("S", dist.Gamma(*self.s_prior).expand([n_channels])),
        }

    def apply(self, x: Any, params: dict[str, Any], *, xp: Any = None) -> Any:
        return hill(x, params["K"], params["S"], xp=xp)

    def to_config(self) -> dict[str, Any]:
        return {"name": self.name, "k_prior": list(self.k_prior), "s_prior": list(self.s_prior)}


@dataclass(frozen=True)
class LogisticSaturation(Saturation):
    """Logistic saturation; ``lam ~ Gamma(3, 1)`` on mean-scaled spend (pymc-marketing default)."""

    lam_prior: tuple[float, float] = (3.0, 1.0)
    name: ClassVar[str] = "logistic"

    def sample(self, n_channels: int) -> dict[str, Any]:
        import numpyro
        import numpyro.distributions as dist

        return {"lam": numpyro.sample("lam", dist.Gamma(*self.lam_prior).expand([n_channels]))}

    def apply(self, x: Any, params: dict[str, Any], *, xp: Any = None) -> Any:
        return logistic_saturation(x, params["lam"], xp=xp)

    def to_config(self) -> dict[str, Any]:
        return {"name": self.name, "lam_prior": list(self.lam_prior)}


ADSTOCKS: dict[str, type[Adstock]] = {c.name: c for c in (GeometricAdstock, DelayedAdstock)}
SATURATIONS: dict[str, type[Saturation]] = {c.name: c for c in (HillSaturation, LogisticSaturation)}


def _build(registry: dict[str, Any], kind: str, config: dict[str, Any] | str | Any) -> Any:
    if not isinstance(config, dict | str):
        return config
    cfg = {"name": config} if isinstance(config, str) else dict(config)
    name = cfg.pop("name", None)
    if name not in registry:
        raise ConfigError(f"unknown {kind} {name!r}; use one of: {', '.join(registry)}")
    cls = registry[name]
    known = set(cls.__dataclass_fields__)
    unknown = set(cfg) - known
    if unknown:
        raise ConfigError(
            f"{kind} {name!r} has no setting(s) {', '.join(sorted(unknown))}; "
            f"it takes: {', '.join(sorted(known))}"
        )
    for key, value in cfg.items():
        if isinstance(value, list):
            cfg[key] = tuple(value)
    return cls(**cfg)


def adstock_from_config(config: dict[str, Any] | str | Adstock) -> Adstock:
    """Build an adstock from ``{"name": "geometric", "l_max": 13, ...}`` (or its name)."""
    return _build(ADSTOCKS, "adstock", config)  # type: ignore[no-any-return]


def saturation_from_config(config: dict[str, Any] | str | Saturation) -> Saturation:
    """Build a saturation from ``{"name": "hill", ...}`` (or its name)."""
    return _build(SATURATIONS, "saturation", config)  # type: ignore[no-any-return]
