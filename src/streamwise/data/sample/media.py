"""Media spend and customer acquisition of the sample business (the truth of a media-mix model).

Weekly new customers follow the model of Jin et al. (2017), "Bayesian methods for media mix
modeling with carryover and shape effects" (Google):

    acquisitions(t) = baseline(t) + sum_c beta_c * Hill(adstock_c(t); K_c, S_c)

with geometric adstock over ``L`` weeks, normalised weights (their eq. 1 with
``w(l) = theta_c ** l``), and the Hill function ``Hill(x; K, S) = 1 / (1 + (x / K) ** -S)``
(their eq. 3). The baseline has a trend and an outdoor-gear year (a spring/summer peak and a
December gift peak). Spend is flighted per channel (bursts, on/off periods, levels that change
every few weeks, dark weeks) with independent random variation, so that the channels' effects
are identifiable; media drive three quarters of the acquisitions, spread nearly evenly over the
channels.

Spend is scaled to the number of customers through a target cost per acquisition per channel, so
that the data look alike at every size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from streamwise.data.sample.names import MEDIA_CHANNELS

__all__ = [
    "MediaChannelTruth",
    "MediaPlan",
    "MediaTruth",
    "build_media",
    "geometric_adstock",
    "hill",
]

#: Maximum carry-over lag in weeks (Jin et al. 2017 use L = 13).
MAX_LAG = 13

# channel -> (theta, relative K, S, share of media acquisitions, target CPA, CPM, CTR)
# The shares are close to even: at the default size (~128 signups a week, Poisson noise ~9%) a
# channel that drives only a few customers a week cannot be told from noise by any model.
_CHANNELS: dict[str, tuple[float, float, float, float, float, float, float]] = {
    "search": (0.10, 0.9, 1.2, 0.18, 40.0, 25.0, 0.060),
    "social": (0.40, 1.0, 1.8, 0.17, 65.0, 8.0, 0.012),
    "display": (0.30, 1.1, 2.0, 0.16, 110.0, 3.0, 0.004),
    "video": (0.60, 0.8, 2.5, 0.17, 90.0, 15.0, 0.003),
    "affiliate": (0.20, 1.2, 1.0, 0.16, 35.0, 20.0, 0.050),
    "email": (0.10, 1.0, 1.5, 0.16, 30.0, 1.0, 0.030),
}

#: Share of all acquisitions driven by media.
MEDIA_SHARE = 0.75


@dataclass(frozen=True)
class MediaChannelTruth:
    """The planted effect of one media channel.

    Parameters
    ----------
    channel
        Channel name (from ``names.MEDIA_CHANNELS``).
    theta
        Geometric adstock decay per week.
    K, S
        Hill half-saturation point (in adstocked dollars per week) and shape.
    beta
        Acquisitions per week at full saturation.
    total_spend
        Spend over the period.
    contributed_acquisitions
        Expected customers acquired by the channel over the period.
    contributed_revenue
        ``contributed_acquisitions`` times the expected first-order value.
    cpa, roi
        ``total_spend / contributed_acquisitions`` and ``contributed_revenue / total_spend``.
    """

    channel: str
    theta: float
    K: float
    S: float
    beta: float
    total_spend: float
    contributed_acquisitions: float
    contributed_revenue: float
    cpa: float
    roi: float


@dataclass(frozen=True)
class MediaTruth:
    """Planted media-mix truth: per-channel effects and the weekly series.

    ``week_start`` are the starts of the weekly periods (as in the ``spend`` table);
    ``baseline``, ``contributions[channel]`` and ``expected_acquisitions`` are expected new
    customers per week; ``acquisitions`` are the realised counts (a multinomial draw of all
    customers over the weeks in proportion to ``expected_acquisitions``).
    """

    channels: tuple[MediaChannelTruth, ...]
    max_lag: int
    media_share: float
    first_order_value: float
    week_start: tuple[date, ...]
    baseline: tuple[float, ...]
    contributions: dict[str, tuple[float, ...]]
    expected_acquisitions: tuple[float, ...]
    acquisitions: tuple[int, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per week: start, baseline, each channel's contribution, expected, realised."""
        data: dict[str, Any] = {"week_start": pd.to_datetime(list(self.week_start))}
        data["baseline"] = np.asarray(self.baseline)
        for ch, values in self.contributions.items():
            data[f"contribution_{ch}"] = np.asarray(values)
        data["expected_acquisitions"] = np.asarray(self.expected_acquisitions)
        data["acquisitions"] = np.asarray(self.acquisitions, dtype=np.int64)
        return pd.DataFrame(data)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return {
            "channels": [vars(c).copy() for c in self.channels],
            "max_lag": self.max_lag,
            "media_share": self.media_share,
            "first_order_value": self.first_order_value,
            "week_start": [d.isoformat() for d in self.week_start],
            "baseline": list(self.baseline),
            "contributions": {k: list(v) for k, v in self.contributions.items()},
            "expected_acquisitions": list(self.expected_acquisitions),
            "acquisitions": list(self.acquisitions),
        }


@dataclass(frozen=True)
class MediaPlan:
    """What the customer generator needs from the media model.

    ``counts[w]`` customers sign up in week ``w``; ``channel_probs[w]`` is the probability of
    each acquisition channel in that week (``MEDIA_CHANNELS`` then ``"organic"``).
    """

    counts: np.ndarray
    channel_probs: np.ndarray
    spend: pd.DataFrame
    truth: MediaTruth


def geometric_adstock(spend: np.ndarray, theta: float, max_lag: int = MAX_LAG) -> np.ndarray:
    """Normalised geometric adstock (Jin et al. 2017, eq. 1); spend before the series is 0."""
    weights = theta ** np.arange(max_lag)
    weights /= weights.sum()
    out = np.zeros(len(spend))
    for lag, w in enumerate(weights):
        out[lag:] += w * spend[: len(spend) - lag]
    return out


def hill(x: np.ndarray, K: float, S: float) -> np.ndarray:
    """Hill saturation ``x**S / (x**S + K**S)`` (Jin et al. 2017, eq. 3)."""
    xs = np.power(np.maximum(x, 0.0), S)
    return xs / (xs + K**S)


def _season(doy: np.ndarray) -> np.ndarray:
    """Outdoor-gear seasonality by day of year: spring/summer peak and a December gift peak."""
    summer = np.exp(-0.5 * ((doy - 165.0) / 50.0) ** 2)
    december = np.exp(-0.5 * ((doy - 350.0) / 12.0) ** 2) + np.exp(
        -0.5 * ((doy + 365.0 - 350.0) / 12.0) ** 2
    )
    return 0.75 + 0.55 * summer + 0.6 * december


def _flights(
    rng: np.random.Generator, weeks: int, on: tuple[int, int], off: tuple[int, int]
) -> np.ndarray:
    """On/off flighting: alternating on and off runs of random length, a random level per run."""
    out = np.zeros(weeks)
    w = int(rng.integers(0, off[1]))
    while w < weeks:
        length = int(rng.integers(on[0], on[1] + 1))
        out[w : w + length] = rng.uniform(0.6, 1.5)
        w += length + int(rng.integers(off[0], off[1] + 1))
    return out


def _blocks(
    rng: np.random.Generator, weeks: int, size: int, low: float, high: float, dark: float
) -> np.ndarray:
    """Runs of ``size`` weeks at a random level in ``[low, high]``; a share ``dark`` of the runs
    spend nothing (a paused program, a test cell, a budget freeze)."""
    levels = rng.uniform(low, high, weeks // size + 1)
    levels[rng.random(len(levels)) < dark] = 0.0
    return np.repeat(levels, size)[:weeks]


def _patterns(rng: np.random.Generator, season: np.ndarray, weeks: int) -> dict[str, np.ndarray]:
    """Weekly spend shape per channel (mean 1).

    Every channel, even the usually always-on ones (search, affiliate, email), varies on its own
    clock and goes dark now and then, independently of the season and of each other: without
    that, no model can separate a channel from the baseline it moves with (Chan & Perry 2017,
    "Challenges and opportunities in media mix modeling", sec. 3).
    """
    t = np.arange(weeks) / max(weeks - 1, 1)
    noise = {ch: np.exp(rng.normal(0.0, 0.12, weeks)) for ch in MEDIA_CHANNELS}
    pats = {
        "search": (0.7 + 0.3 * season) * _blocks(rng, weeks, 3, 0.3, 1.7, 0.25) * noise["search"],
        "social": _flights(rng, weeks, (3, 8), (2, 6)) * noise["social"],
        "display": _flights(rng, weeks, (4, 10), (3, 8)) * noise["display"],
        "video": _flights(rng, weeks, (2, 5), (5, 12)) * noise["video"],
        "affiliate": (0.6 + 0.8 * t) * _blocks(rng, weeks, 4, 0.4, 1.6, 0.25) * noise["affiliate"],
        "email": _blocks(rng, weeks, 1, 0.3, 2.0, 0.35) * noise["email"],
    }
    return {ch: p / p.mean() for ch, p in pats.items()}


def build_media(
    rng: np.random.Generator,
    start: date,
    weeks: int,
    n_customers: int,
    first_order_value: float,
) -> MediaPlan:
    """Draw weekly spend, the expected acquisitions it drives and the weekly signup counts.

    Parameters
    ----------
    rng
        Random generator for the media model.
    start, weeks
        First day and number of whole weeks of the period.
    n_customers
        Customers to acquire over the period (expected acquisitions sum to it exactly).
    first_order_value
        Expected value of a first order, for the channels' ROI.
    """
    week_start = [start + timedelta(days=7 * w) for w in range(weeks)]
    doy = np.array([(d + timedelta(days=3)).timetuple().tm_yday for d in week_start], float)
    season = _season(doy)
    trend = 1.0 + 0.25 * np.arange(weeks) / 52.0
    base_shape = trend * season
    baseline = base_shape / base_shape.sum() * (1.0 - MEDIA_SHARE) * n_customers
    media_total = MEDIA_SHARE * n_customers

    patterns = _patterns(rng, season, weeks)
    spend: dict[str, np.ndarray] = {}
    contributions: dict[str, np.ndarray] = {}
    truths: list[MediaChannelTruth] = []
    for ch in MEDIA_CHANNELS:
        theta, k_rel, shape, share, cpa, _cpm, _ctr = _CHANNELS[ch]
        contributed = share * media_total
        total = cpa * contributed
        weekly = np.round(patterns[ch] * total / patterns[ch].sum(), 2)
        stock = geometric_adstock(weekly, theta)
        half = k_rel * float(stock.mean())
        sat = hill(stock, half, shape)
        beta = contributed / float(sat.sum())
        spend[ch] = weekly
        contributions[ch] = beta * sat
        total_spend = float(weekly.sum())
        revenue = contributed * first_order_value
        truths.append(
            MediaChannelTruth(
                channel=ch,
                theta=theta,
                K=half,
                S=shape,
                beta=beta,
                total_spend=total_spend,
                contributed_acquisitions=contributed,
                contributed_revenue=revenue,
                cpa=total_spend / contributed,
                roi=revenue / total_spend,
            )
        )
    expected = baseline + sum(contributions.values())
    probs = expected / expected.sum()
    counts = rng.multinomial(n_customers, probs)
    channel_probs = np.column_stack([contributions[ch] for ch in MEDIA_CHANNELS] + [baseline])
    channel_probs = channel_probs / channel_probs.sum(axis=1, keepdims=True)

    rows = []
    for ch in MEDIA_CHANNELS:
        _t, _k, _s, _sh, _cpa, cpm, ctr = _CHANNELS[ch]
        amount = spend[ch]
        impressions = np.rint(amount / cpm * 1000.0 * np.exp(rng.normal(0, 0.05, weeks)))
        clicks = np.rint(impressions * ctr * np.exp(rng.normal(0, 0.08, weeks)))
        rows.append(
            pd.DataFrame(
                {
                    "period": np.array(week_start, dtype="datetime64[D]").astype("datetime64[us]"),
                    "channel": pd.Series([ch] * weeks, dtype="str"),
                    "amount": amount.astype(np.float64),
                    "impressions": impressions.astype(np.int64),
                    "clicks": clicks.astype(np.int64),
                }
            )
        )
    spend_frame = pd.concat(rows, ignore_index=True)
    truth = MediaTruth(
        channels=tuple(truths),
        max_lag=MAX_LAG,
        media_share=MEDIA_SHARE,
        first_order_value=first_order_value,
        week_start=tuple(week_start),
        baseline=tuple(float(v) for v in baseline),
        contributions={ch: tuple(float(v) for v in contributions[ch]) for ch in MEDIA_CHANNELS},
        expected_acquisitions=tuple(float(v) for v in expected),
        acquisitions=tuple(int(v) for v in counts),
    )
    return MediaPlan(counts=counts, channel_probs=channel_probs, spend=spend_frame, truth=truth)
