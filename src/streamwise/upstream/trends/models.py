"""The forecasting models, by name, built for a frequency.

Every model is a :mod:`statsforecast` model (or follows its interface), so one
``StatsForecast`` call fits many series in parallel:

==================  ============================================================================
name                model
==================  ============================================================================
``harmonic_theta``  Fourier seasonality + the Theta method on the seasonally adjusted series
                    (:class:`Harmonic`; the fastest, periods such as 52.18 weeks)
``harmonic_ets``    Fourier seasonality + AutoETS on the seasonally adjusted series
``mstl``            MSTL decomposition (Bandara et al. 2021) + AutoETS on the adjusted series
``ets``             AutoETS (Hyndman et al. 2008); seasonal only for seasons ≤ 24 periods
``arima``           AutoARIMA (Hyndman & Khandakar 2008); slow for 52-week seasons
``theta``           AutoTheta (Assimakopoulos & Nikolopoulos 2000; Fiorucci et al. 2016)
``seasonal_naive``  the value one season earlier: the baseline every MASE is compared with
==================  ============================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from statsforecast.models import (
    MSTL,
    AutoARIMA,
    AutoETS,
    AutoTheta,
    SeasonalNaive,
    Theta,
)

from streamwise.errors import ConfigError
from streamwise.upstream.trends.series import Frequency

__all__ = ["BASELINE", "MODELS", "Harmonic", "build_models", "fourier"]

BASELINE = "seasonal_naive"


def fourier(t: np.ndarray, period: float, harmonics: int) -> np.ndarray:
    """Fourier terms ``cos(2πkt/P), sin(2πkt/P)`` for k = 1..harmonics, as columns."""
    arg = 2 * np.pi * np.outer(t, np.arange(1, harmonics + 1)) / period
    out = np.empty((len(t), 2 * harmonics))
    out[:, 0::2] = np.cos(arg)
    out[:, 1::2] = np.sin(arg)
    return out


def _max_harmonics(period: float, cap: int) -> int:
    """Harmonics that stay identifiable: fewer than half the period."""
    return int(max(1, min(cap, np.ceil(period / 2) - 1)))


class Harmonic:
    """Fourier seasonality, then a non-seasonal forecaster on the seasonally adjusted series.

    The seasonal pattern of each period ``P`` is a sum of ``K`` harmonics
    ``a_k cos(2πkt/P) + b_k sin(2πkt/P)`` (Harvey 1989, ch. 2; the "dynamic harmonic
    regression" of Hyndman & Athanasopoulos 2021, §12.1, recommended there for weekly data whose
    period, 365.25 / 7 ≈ 52.18, is not a whole number). The coefficients are estimated by least
    squares jointly with a quadratic in time (so that the trend does not leak into the
    seasonality); ``K`` for the longest period is chosen by AICc among 0..``max_harmonics``.
    The seasonally adjusted series is forecast with ``trend``: additive-error AutoETS without
    seasonality (Hyndman et al. 2008, chosen by AICc among ANN, AAN and AAdN) by default, or
    the Theta method (Assimakopoulos & Nikolopoulos 2000, which Hyndman & Billah 2003 show to be
    simple exponential smoothing with drift) in ``harmonic_theta``. The seasonal terms are added
    back to the forecasts and their prediction intervals (which therefore leave out the
    uncertainty of the seasonal coefficients: small next to the noise with two or more years).

    Parameters
    ----------
    periods
        Seasonal periods in time steps, shortest first (``(365.25 / 7,)`` for weekly data).
    max_harmonics
        Largest ``K`` tried for the longest period; shorter periods use all identifiable ones.
    trend
        A statsforecast model for the adjusted series (default ``AutoETS(model="AZN")``).
    alias
        Name of the model's forecast column.
    """

    uses_exog = False

    def __init__(
        self,
        periods: tuple[float, ...],
        *,
        max_harmonics: int = 10,
        trend: Any | None = None,
        alias: str = "harmonic_ets",
    ) -> None:
        self.periods = tuple(periods)
        self.max_harmonics = max_harmonics
        self.trend = trend
        self.alias = alias

    def __repr__(self) -> str:
        # statsforecast names a model's output columns by its repr, so it must be the alias.
        return self.alias

    def new(self) -> Harmonic:
        """A copy with the same parameters (the statsforecast protocol)."""
        b = type(self).__new__(type(self))
        b.__dict__.update(self.__dict__)
        return b

    def _trend_model(self) -> Any:
        return self.trend if self.trend is not None else AutoETS(model="AZN")

    def _design(self, t: np.ndarray, harmonics: tuple[int, ...]) -> np.ndarray:
        cols = [fourier(t, p, k) for p, k in zip(self.periods, harmonics, strict=True) if k > 0]
        return np.hstack(cols) if cols else np.empty((len(t), 0))

    def _seasonality(self, y: np.ndarray) -> tuple[tuple[int, ...], np.ndarray]:
        """Harmonics and Fourier coefficients: least squares of ``y`` on a quadratic in time and
        the Fourier terms, ``K`` of the longest period by AICc. The nested fits share one QR
        decomposition: the residual sum of squares of the first ``p`` columns is
        ``‖y‖² − Σ_{j<p} (q_jᵀy)²``."""
        n = len(y)
        t = np.arange(n, dtype=float)
        u = (t - t.mean()) / n
        short = tuple(_max_harmonics(p, self.max_harmonics) for p in self.periods[:-1])
        base = 3 + 2 * sum(short)
        k_max = max(
            0, min(_max_harmonics(self.periods[-1], self.max_harmonics), (n - base - 3) // 2)
        )
        full = np.column_stack([np.ones(n), u, u**2, self._design(t, (*short, k_max))])
        q, r = np.linalg.qr(full)
        qty = q.T @ y
        rss = float(y @ y) - np.cumsum(qty**2)
        best, best_aicc = 0, np.inf
        for k in range(k_max + 1):
            p = base + 2 * k
            aicc = n * np.log(max(rss[p - 1], 1e-300) / n) + 2 * p + 2 * p * (p + 1) / (n - p - 1)
            if aicc < best_aicc:
                best, best_aicc = k, aicc
        p = base + 2 * best
        return (*short, best), np.linalg.solve(r[:p, :p], qty[:p])[3:]

    def seasonal(self, t: np.ndarray) -> np.ndarray:
        """The fitted seasonal pattern at time steps ``t`` (0 = the first fitted period)."""
        return self._design(np.asarray(t, dtype=float), self.harmonics_) @ self.coef_

    @staticmethod
    def _add(res: dict[str, Any], future: np.ndarray, past: np.ndarray | None) -> dict[str, Any]:
        """Add the season back to forecasts, bounds and (when given) fitted values."""
        out = {}
        for key, val in res.items():
            if key == "fitted" or key.startswith("fitted-"):
                out[key] = val + past if past is not None else val
            else:
                out[key] = val + future
        return out

    def fit(self, y: np.ndarray, X: np.ndarray | None = None) -> Harmonic:
        """Fit the seasonality and the trend model (``X`` is not used)."""
        y = np.asarray(y, dtype=float)
        self.harmonics_, self.coef_ = self._seasonality(y)
        self.n_ = len(y)
        adjusted = y - self.seasonal(np.arange(len(y)))
        self.model_ = self._trend_model().new().fit(y=adjusted)
        return self

    def predict(
        self, h: int, X: np.ndarray | None = None, level: list[int] | None = None
    ) -> dict[str, Any]:
        """Forecasts ``h`` steps past the fitted series (``mean``, ``lo-L``, ``hi-L``)."""
        res = self.model_.predict(h=h, level=level) if level else self.model_.predict(h=h)
        return self._add(res, self.seasonal(self.n_ + np.arange(h)), None)

    def forecast(
        self,
        y: np.ndarray,
        h: int,
        X: np.ndarray | None = None,
        X_future: np.ndarray | None = None,
        level: list[int] | None = None,
        fitted: bool = False,
    ) -> dict[str, Any]:
        """Fit and forecast in one step, leaving the model unfitted (what
        ``StatsForecast.forecast`` and ``cross_validation`` call for each series)."""
        y = np.asarray(y, dtype=float)
        harmonics, coef = self._seasonality(y)
        season = self._design(np.arange(len(y) + h, dtype=float), harmonics) @ coef
        past = season[: len(y)]
        kwargs: dict[str, Any] = {"y": y - past, "h": h, "fitted": fitted}
        if level:
            kwargs["level"] = level
        res = self._trend_model().forecast(**kwargs)
        return self._add(res, season[len(y) :], past)


def _harmonic_theta(f: Frequency) -> Any:
    return Harmonic(f.harmonic_periods, trend=Theta(), alias="harmonic_theta")


def _harmonic_ets(f: Frequency) -> Any:
    return Harmonic(f.harmonic_periods, trend=AutoETS(model="AZN"), alias="harmonic_ets")


def _mstl(f: Frequency) -> Any:
    seasons: list[int] | int = list(f.seasons) if len(f.seasons) > 1 else f.seasons[0]
    return MSTL(season_length=seasons, trend_forecaster=AutoETS(model="AZN"), alias="mstl")


def _ets(f: Frequency) -> Any:
    return AutoETS(season_length=f.baseline_season, model="ZZZ", alias="ets")


def _arima(f: Frequency) -> Any:
    return AutoARIMA(season_length=f.baseline_season, alias="arima")


def _theta(f: Frequency) -> Any:
    return AutoTheta(season_length=f.baseline_season, alias="theta")


def _naive(f: Frequency) -> Any:
    return SeasonalNaive(season_length=f.baseline_season, alias=BASELINE)


#: Model name → builder for a frequency.
MODELS: dict[str, Callable[[Frequency], Any]] = {
    "harmonic_theta": _harmonic_theta,
    "harmonic_ets": _harmonic_ets,
    "mstl": _mstl,
    "ets": _ets,
    "arima": _arima,
    "theta": _theta,
    BASELINE: _naive,
}


def build_models(
    names: tuple[str, ...] | list[str], frequency: Frequency, *, baseline: bool = True
) -> list[Any]:
    """The named models for ``frequency``, the seasonal-naive baseline last (unless
    ``baseline=False`` and it is not named).

    Raises
    ------
    ConfigError
        An unknown model name.
    """
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise ConfigError(
            f"unknown forecasting model(s) {', '.join(map(repr, unknown))}; "
            f"use some of: {', '.join(MODELS)}"
        )
    ordered = [n for n in dict.fromkeys(names) if n != BASELINE]
    if baseline or BASELINE in names or not ordered:
        ordered.append(BASELINE)
    return [MODELS[n](frequency) for n in ordered]
