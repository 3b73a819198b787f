"""Response curves: what a channel returns per period for a steady spend, with uncertainty.

The media mix model (:mod:`streamwise.measure.mmm`) produces one :class:`HillCurve` per channel
from its posterior draws; the budget optimiser (:mod:`streamwise.measure.budget`) allocates
spend across them. Under a steady spend ``x`` per period, normalised adstock (weights summing to
one) equals ``x``, so the long-run response per period is ``beta * Hill(x; K, S)`` (Jin et al.
2017, "Bayesian methods for media mix modeling with carryover and shape effects", eq. 3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

__all__ = ["CURVES_TABLE", "HillCurve", "load_curves", "save_curves"]


def _draws(value: Any) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if arr.ndim != 1:
        raise ValueError("curve parameters must be scalars or one-dimensional arrays of draws")
    return arr


@dataclass(frozen=True, eq=False)
class HillCurve:
    """Steady-state response ``beta * x**S / (x**S + K**S)`` of a channel to spend ``x`` a period.

    Parameters
    ----------
    channel
        Channel name.
    beta, K, S
        Response at full saturation (outcome units per period), half-saturation spend per period
        and shape; scalars or arrays of posterior draws of equal length.
    value_per_unit
        Money per outcome unit (e.g. revenue per acquired customer), for ROI.
    """

    channel: str
    beta: np.ndarray
    K: np.ndarray
    S: np.ndarray
    value_per_unit: float = 1.0
    _n: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        beta, k, s = _draws(self.beta), _draws(self.K), _draws(self.S)
        n = max(len(beta), len(k), len(s))
        for name, arr in (("beta", beta), ("K", k), ("S", s)):
            if len(arr) not in (1, n):
                raise ValueError(f"{self.channel}: {name} has {len(arr)} draws, expected 1 or {n}")
            low = arr < 0 if name == "beta" else arr <= 0
            if not np.all(np.isfinite(arr)) or np.any(low):
                raise ValueError(f"{self.channel}: {name} must be finite and positive")
        object.__setattr__(self, "beta", np.broadcast_to(beta, n).copy())
        object.__setattr__(self, "K", np.broadcast_to(k, n).copy())
        object.__setattr__(self, "S", np.broadcast_to(s, n).copy())
        object.__setattr__(self, "_n", n)

    @property
    def n_draws(self) -> int:
        """Number of parameter draws (1 for a point curve)."""
        return self._n

    def response_draws(self, spend: Any) -> np.ndarray:
        """Response per draw: array of shape ``(n_draws, len(spend))``."""
        return self.beta[:, None] * self._fraction(spend)

    def _fraction(self, spend: Any) -> np.ndarray:
        """``Hill(x; K, S)`` per draw (the share of ``beta`` reached), ``(n_draws, len(x))``:
        ``x**S / (x**S + K**S) = 1 / (1 + (K/x)**S)``, in log space for stability."""
        x = np.maximum(np.atleast_1d(np.asarray(spend, dtype=np.float64)), 0.0)
        with np.errstate(divide="ignore"):
            log_ratio = self.S[:, None] * (np.log(self.K)[:, None] - np.log(x)[None, :])
        # expit(-r) = 1 / (1 + exp(r)) without clamping r: a clamp at 700 left exp(-700) at
        # zero spend, which marginal_draws divided by ~0 into a spurious slope for S > 1
        return special.expit(-log_ratio)

    def response(self, spend: Any) -> np.ndarray:
        """Posterior mean response per period at each spend level."""
        return self.response_draws(spend).mean(axis=0)

    def marginal_draws(self, spend: Any) -> np.ndarray:
        """Derivative of the response with respect to spend, per draw: ``(n_draws, len(spend))``."""
        x = np.maximum(np.atleast_1d(np.asarray(spend, dtype=np.float64)), 1e-300)
        h = self._fraction(x)
        return self.beta[:, None] * self.S[:, None] * h * (1.0 - h) / x[None, :]

    def marginal(self, spend: Any) -> np.ndarray:
        """Posterior mean marginal response per extra unit of spend."""
        return self.marginal_draws(spend).mean(axis=0)

    def to_frame(self, spend: Any, interval: float = 0.9) -> pd.DataFrame:
        """Response curve table: spend, mean, lower and upper bound of the central interval, and
        the ROI and marginal ROI (``value_per_unit`` times response per spend)."""
        x = np.atleast_1d(np.asarray(spend, dtype=np.float64))
        draws = self.response_draws(x)
        lo, hi = np.quantile(draws, [(1 - interval) / 2, (1 + interval) / 2], axis=0)
        mean = draws.mean(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            roi = np.where(x > 0, self.value_per_unit * mean / x, np.nan)
        return pd.DataFrame(
            {
                "channel": self.channel,
                "spend": x,
                "response": mean,
                "response_low": lo,
                "response_high": hi,
                "roi": roi,
                "marginal_roi": self.value_per_unit * self.marginal(x),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data: channel, value per unit and the draws' means."""
        return {
            "channel": self.channel,
            "value_per_unit": self.value_per_unit,
            "n_draws": self.n_draws,
            "beta": float(self.beta.mean()),
            "K": float(self.K.mean()),
            "S": float(self.S.mean()),
        }


#: Workspace table of saved response curves (one row per channel and draw).
CURVES_TABLE = "response_curves"


def save_curves(con: Any, curves: Mapping[str, HillCurve]) -> int:
    """Write ``curves`` (their draws) to the workspace table ``response_curves``, replacing it;
    returns the rows written."""
    from streamwise.data.tables import replace_table

    parts = [
        pd.DataFrame(
            {
                "channel": key,
                "draw": np.arange(c.n_draws),
                "beta": c.beta,
                "K": c.K,
                "S": c.S,
                "value_per_unit": c.value_per_unit,
            }
        )
        for key, c in curves.items()
    ]
    frame = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["channel", "draw", "beta", "K", "S", "value_per_unit"])
    )
    replace_table(con, CURVES_TABLE, frame, (CURVES_TABLE,))
    return len(frame)


def load_curves(con: Any) -> dict[str, HillCurve] | None:
    """The curves :func:`save_curves` wrote, or None when there are none."""
    from streamwise.data.tables import table_names

    if CURVES_TABLE not in table_names(con):
        return None
    frame = con.execute(f"SELECT * FROM {CURVES_TABLE} ORDER BY channel, draw").df()  # noqa: S608
    if frame.empty:
        return None
    return {
        str(ch): HillCurve(
            str(ch),
            g["beta"].to_numpy(),
            g["K"].to_numpy(),
            g["S"].to_numpy(),
            value_per_unit=float(g["value_per_unit"].iloc[0]),
        )
        for ch, g in frame.groupby("channel", sort=True)
    }
