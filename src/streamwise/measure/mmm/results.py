"""What a fitted media mix model says: contributions, ROI and marginal ROI with intervals.

Per channel ``c`` and posterior draw:

- contribution ``C_c = sum_t beta_c sat_c(adstock_c(x_c)(t))`` in outcome units;
- ROI ``= C_c * value_per_unit / sum_t x_c(t)`` (revenue per unit of spend);
- marginal ROI at the current spend: the extra contribution from 1% more spend in every week,
  ``(C_c(1.01 x) - C_c(x)) * value_per_unit / (0.01 * sum_t x_c(t))`` — the derivative of the
  response at the observed spend, the quantity a budget should equalise across channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ChannelResult", "Estimate", "MediaMixResults"]


@dataclass(frozen=True)
class Estimate:
    """Posterior summary of one quantity: mean, median and a central interval."""

    mean: float
    median: float
    low: float
    high: float
    interval: float

    @classmethod
    def from_draws(cls, draws: Any, interval: float = 0.9) -> Estimate:
        """Summarise draws (one-dimensional)."""
        d = np.asarray(draws, dtype=np.float64).ravel()
        lo, med, hi = np.quantile(d, [(1 - interval) / 2, 0.5, (1 + interval) / 2])
        return cls(float(d.mean()), float(med), float(lo), float(hi), float(interval))

    def to_dict(self) -> dict[str, float]:
        """Plain data."""
        return {
            "mean": self.mean,
            "median": self.median,
            "low": self.low,
            "high": self.high,
            "interval": self.interval,
        }


@dataclass(frozen=True)
class ChannelResult:
    """One channel's spend, contribution (outcome units), ROI and marginal ROI."""

    channel: str
    spend: float
    contribution: Estimate
    roi: Estimate
    marginal_roi: Estimate
    share: Estimate

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "channel": self.channel,
            "spend": self.spend,
            "contribution": self.contribution.to_dict(),
            "roi": self.roi.to_dict(),
            "marginal_roi": self.marginal_roi.to_dict(),
            "share": self.share.to_dict(),
        }


@dataclass(frozen=True, eq=False)
class MediaMixResults:
    """Per-channel results and the weekly decomposition of the outcome (posterior means).

    Attributes
    ----------
    channels
        One :class:`ChannelResult` per channel.
    value_per_unit
        Money per outcome unit used for ROI.
    weekly
        One row per week: ``baseline``, each channel's contribution, ``controls``, the fitted
        ``expected`` outcome and the observed ``outcome``.
    """

    channels: tuple[ChannelResult, ...]
    value_per_unit: float
    interval: float
    weekly: pd.DataFrame

    def __getitem__(self, channel: str) -> ChannelResult:
        for c in self.channels:
            if c.channel == channel:
                return c
        raise KeyError(channel)

    def to_frame(self) -> pd.DataFrame:
        """One row per channel: spend, contribution, ROI and marginal ROI (mean, low, high)."""
        rows = []
        for c in self.channels:
            row: dict[str, Any] = {"channel": c.channel, "spend": c.spend}
            for name in ("contribution", "share", "roi", "marginal_roi"):
                est: Estimate = getattr(c, name)
                row[name] = est.mean
                row[f"{name}_median"] = est.median
                row[f"{name}_low"] = est.low
                row[f"{name}_high"] = est.high
            rows.append(row)
        return pd.DataFrame(rows).set_index("channel")

    def to_dict(self) -> dict[str, Any]:
        """Plain data (without the weekly table)."""
        return {
            "value_per_unit": self.value_per_unit,
            "interval": self.interval,
            "channels": [c.to_dict() for c in self.channels],
        }
