"""Customer journeys and touchpoints of the sample business (the truth of attribution models).

A journey is a sequence of 1 to 6 marketing touches. Under the prior of a customer's group
(segment, e-mail consent), the length is drawn from :data:`LENGTH_PROBS` and each touch's channel
independently from the segment's media preference (no e-mail touches without consent). A journey
converts with the noisy-OR probability

    P(convert | path) = 1 - (1 - p0) * prod_{touches} (1 - e_channel)

so that ``e_c`` is the planted effect of channel ``c`` and ``p0`` the conversion probability
without any touch. Converting journeys end shortly before real orders (every first order and a
share of repeat orders); their paths are drawn from ``P(path | converted)`` and the customers'
non-converting journeys from ``P(path | not converted)`` by rejection sampling from the prior.
Given a customer's ``C`` converting journeys, the number of non-converting ones is negative
binomial ``NB(C, m_g)``, ``m_g`` being the group's marginal conversion rate: the journeys are
then distributed exactly as an i.i.d. sequence of prior journeys cut at the ``C``-th conversion,
so empirical conversion rates per path recover the noisy-OR probabilities.

The rule that makes conversions observable: a journey converts if and only if an order of the
same customer follows its last touch within :data:`CONVERSION_WINDOW_HOURS` hours (non-converting
journeys are placed so that none does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa

from streamwise.data.sample.events import fixed_ids, take_strings
from streamwise.data.sample.names import MEDIA_CHANNELS
from streamwise.data.sample.segments import SEGMENT_SPECS

__all__ = [
    "CONVERSION_WINDOW_HOURS",
    "EFFECTS",
    "LENGTH_PROBS",
    "P0",
    "REPEAT_JOURNEY_SHARE",
    "JourneyTruth",
    "build_journeys",
    "conversion_probability",
    "group_conversion_rate",
]

DAY = 86_400
#: Conversion probability of a journey without any effective touch.
P0 = 0.02
#: Noisy-OR effect of one touch per channel (order of ``MEDIA_CHANNELS``).
EFFECTS: dict[str, float] = {
    "search": 0.10,
    "social": 0.04,
    "display": 0.02,
    "video": 0.05,
    "affiliate": 0.08,
    "email": 0.06,
}
#: Prior probability of a journey of 1, 2, ..., 6 touches.
LENGTH_PROBS = (0.35, 0.25, 0.17, 0.11, 0.07, 0.05)
#: Share of repeat orders preceded by a converting journey (every first order has one).
REPEAT_JOURNEY_SHARE = 0.22
#: An order within this many hours after a journey's last touch is its conversion.
CONVERSION_WINDOW_HOURS = 24
MAX_TOUCHES = len(LENGTH_PROBS)

_EFFECT = np.array([EFFECTS[c] for c in MEDIA_CHANNELS])
_EMAIL = MEDIA_CHANNELS.index("email")
# interaction kinds per channel and their probabilities
_INTERACTIONS = ("impression", "click", "open", "visit")
_INTERACTION_PROBS = {
    "search": (0.15, 0.85, 0.0, 0.0),
    "social": (0.60, 0.40, 0.0, 0.0),
    "display": (0.85, 0.15, 0.0, 0.0),
    "video": (0.90, 0.10, 0.0, 0.0),
    "affiliate": (0.0, 0.60, 0.0, 0.40),
    "email": (0.0, 0.35, 0.65, 0.0),
}
# cost per contact by channel and interaction
_COSTS = {
    "search": (0.02, 1.40, 0.0, 0.0),
    "social": (0.008, 0.70, 0.0, 0.0),
    "display": (0.003, 0.45, 0.0, 0.0),
    "video": (0.02, 0.90, 0.0, 0.0),
    "affiliate": (0.0, 1.20, 0.0, 1.60),
    "email": (0.0, 0.002, 0.001, 0.0),
}
_SEASONS = (
    "winter-clearance",
    "winter-clearance",
    "spring-sale",
    "spring-sale",
    "spring-sale",
    "summer-trail",
    "summer-trail",
    "summer-trail",
    "autumn-camp",
    "autumn-camp",
    "black-friday",
    "holiday-gifts",
)


@dataclass(frozen=True)
class JourneyTruth:
    """Planted truth of the journeys.

    Parameters
    ----------
    p0, effects
        Noisy-OR base rate and per-channel effects.
    length_probs
        Prior probabilities of journeys of 1..6 touches.
    repeat_journey_share
        Share of repeat orders preceded by a converting journey.
    conversion_window_hours
        Observable rule: an order of the customer within this many hours after the last touch.
    group_conversion_rates
        Marginal conversion rate under the prior per segment, for customers with and without
        e-mail consent (``{segment: {"consent": m, "no_consent": m}}``).
    marginal_conversion_rate
        Expected share of converting journeys over all journeys generated (the groups' rates
        weighted by their converting journeys).
    n_journeys, n_converting, n_touchpoints
        Counts over all chunks.
    """

    p0: float
    effects: dict[str, float]
    length_probs: tuple[float, ...]
    repeat_journey_share: float
    conversion_window_hours: int
    group_conversion_rates: dict[str, dict[str, float]]
    marginal_conversion_rate: float
    n_journeys: int
    n_converting: int
    n_touchpoints: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return asdict(self)


def conversion_probability(channels: np.ndarray) -> np.ndarray:
    """Noisy-OR conversion probability of paths (rows of channel indices, ``-1`` = no touch)."""
    miss = np.where(channels >= 0, 1.0 - _EFFECT[np.maximum(channels, 0)], 1.0)
    return 1.0 - (1.0 - P0) * miss.prod(axis=1)


def _preferences(consent: bool) -> np.ndarray:
    prefs = np.array([[s.media_preference[c] for c in MEDIA_CHANNELS] for s in SEGMENT_SPECS])
    if not consent:
        prefs[:, _EMAIL] = 0.0
    return prefs / prefs.sum(axis=1, keepdims=True)


#: Channel probabilities per group ``2 * segment + consent``.
GROUP_PREFS = np.concatenate(
    [np.stack([_preferences(False)[s], _preferences(True)[s]]) for s in range(len(SEGMENT_SPECS))]
)


def group_conversion_rate(pref: np.ndarray) -> float:
    """Exact marginal conversion rate under the prior with channel probabilities ``pref``."""
    per_touch = float(np.dot(pref, 1.0 - _EFFECT))
    lengths = np.arange(1, MAX_TOUCHES + 1)
    return 1.0 - (1.0 - P0) * float(np.dot(LENGTH_PROBS, per_touch**lengths))


GROUP_RATES = np.array([group_conversion_rate(p) for p in GROUP_PREFS])


def group_rates_by_segment() -> dict[str, dict[str, float]]:
    """The marginal conversion rates per segment and consent, for the truth."""
    return {
        s.name: {"no_consent": float(GROUP_RATES[2 * i]), "consent": float(GROUP_RATES[2 * i + 1])}
        for i, s in enumerate(SEGMENT_SPECS)
    }


def _sample_paths(
    rng: np.random.Generator, pref: np.ndarray, n: int, converting: bool, rate: float
) -> np.ndarray:
    """Rejection-sample ``n`` paths from the prior conditioned on the outcome."""
    out = np.full((n, MAX_TOUCHES), -1, dtype=np.int8)
    filled = 0
    cum = np.cumsum(pref)
    cum[-1] = 1.0
    accept_rate = rate if converting else 1.0 - rate
    while filled < n:
        need = n - filled
        batch = int(need / accept_rate * 1.15) + 64
        length = rng.choice(MAX_TOUCHES, size=batch, p=LENGTH_PROBS) + 1
        chans = np.searchsorted(cum, rng.random((batch, MAX_TOUCHES)), side="right")
        chans = np.where(np.arange(MAX_TOUCHES) < length[:, None], chans, -1).astype(np.int8)
        conv = conversion_probability(chans)
        accept = rng.random(batch) < (conv if converting else 1.0 - conv)
        kept = chans[accept][:need]
        out[filled : filled + len(kept)] = kept
        filled += len(kept)
    return out


def _campaigns(epoch: date, seconds: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Campaign index per touch (season of its month and year) and the campaign names."""
    months = (
        (np.datetime64(epoch, "s") + seconds.astype("timedelta64[s]"))
        .astype("datetime64[M]")
        .astype(np.int64)
    )
    first = (epoch.year - 1970) * 12
    rel = months - first
    years = range(epoch.year, epoch.year + int(rel.max(initial=0)) // 12 + 2)
    names = [f"{_SEASONS[m]}-{y}" for y in years for m in range(12)]
    return rel, names


def build_journeys(
    rng: np.random.Generator,
    epoch: date,
    end_second: int,
    first_journey: int,
    segment: np.ndarray,
    consent: np.ndarray,
    tz_offset: np.ndarray,
    local_seconds: Callable[[np.random.Generator, np.ndarray], np.ndarray],
    signup_second: np.ndarray,
    order_customer: np.ndarray,
    order_second: np.ndarray,
    order_first: np.ndarray,
) -> dict[str, Any]:
    """Build the journeys and touchpoints of one chunk of customers.

    Parameters
    ----------
    rng
        Random generator of this chunk's journeys.
    epoch, end_second
        Start of the period and its last second (seconds since ``epoch``).
    first_journey
        Number of the chunk's first journey (journey ids are numbered across chunks).
    segment, consent, tz_offset, signup_second
        Per customer of the chunk: segment index, e-mail consent, UTC offset in seconds and
        signup time in seconds.
    local_seconds
        ``local_seconds(rng, segment_per_row)``: draws local times of day in seconds.
    order_customer, order_second, order_first
        Per order (sorted by customer, then time): local customer index, time, first order flag.

    Returns
    -------
    dict
        ``touch`` (touchpoint columns), ``journey`` (truth columns), ``email`` (e-mail touches
        for events), ``order_campaign`` (campaign index per order, -1 for none),
        ``campaign_names`` and counts.
    """
    n_cust = len(segment)
    group = 2 * segment + consent.astype(np.int64)

    # converting journeys: every first order and a share of repeat orders
    conv_order = np.flatnonzero(order_first | (rng.random(len(order_first)) < REPEAT_JOURNEY_SHARE))
    conv_cust = order_customer[conv_order]
    per_cust = np.bincount(conv_cust, minlength=n_cust)
    n_non = rng.negative_binomial(np.maximum(per_cust, 1), GROUP_RATES[group])
    n_non = np.where(per_cust > 0, n_non, 0)
    non_cust = np.repeat(np.arange(n_cust), n_non)

    gap = np.minimum(rng.exponential(3 * 3600.0, len(conv_order)) + 60.0, 20 * 3600.0)
    conv_end = np.maximum(order_second[conv_order] - gap.astype(np.int64), 0)
    lo = np.maximum(signup_second[non_cust] - 30 * DAY, 0)
    non_end = lo + np.floor(rng.random(len(non_cust)) * (end_second + 1 - lo)).astype(np.int64)
    non_end = _avoid_orders(rng, non_cust, non_end, order_customer, order_second, end_second)

    j_cust = np.concatenate([conv_cust, non_cust])
    j_end = np.concatenate([conv_end, non_end])
    j_conv = np.concatenate([np.ones(len(conv_cust), bool), np.zeros(len(non_cust), bool)])
    j_order = np.concatenate([conv_order, np.full(len(non_cust), -1)])
    order = np.lexsort((j_end, j_cust))
    j_cust, j_end, j_conv, j_order = j_cust[order], j_end[order], j_conv[order], j_order[order]
    n_j = len(j_cust)

    # paths, per group and outcome
    paths = np.full((n_j, MAX_TOUCHES), -1, dtype=np.int8)
    j_group = group[j_cust]
    for g in range(len(GROUP_PREFS)):
        for outcome in (True, False):
            rows = np.flatnonzero((j_group == g) & (j_conv == outcome))
            if rows.size:
                paths[rows] = _sample_paths(
                    rng, GROUP_PREFS[g], rows.size, outcome, float(GROUP_RATES[g])
                )
    length = (paths >= 0).sum(axis=1)
    conv_prob = conversion_probability(paths)

    # touch times: the last touch at the journey end, earlier ones spaced back in time
    t_j = np.repeat(np.arange(n_j), length)
    pos = np.arange(len(t_j)) - np.repeat(np.cumsum(length) - length, length)
    t_chan = paths[t_j, pos].astype(np.int64)
    back = rng.exponential(1.5 * DAY, len(t_j)) + 60.0
    back[pos == np.repeat(length - 1, length)] = 0.0
    # offset of each touch before the journey end = sum of the gaps after it
    rev = back[::-1]
    rev_j = t_j[::-1]
    cum = np.cumsum(rev)
    start_idx = np.r_[0, np.flatnonzero(np.diff(rev_j)) + 1]
    base = np.repeat(cum[start_idx] - rev[start_idx], np.diff(np.r_[start_idx, len(rev)]))
    offset = (cum - base)[::-1]
    span = np.zeros(n_j)
    np.maximum.at(span, t_j, offset)
    room = j_end.astype(float)
    squeeze = np.where(span > room, room / np.maximum(span, 1.0) * 0.999, 1.0)
    t_sec = j_end[t_j] - np.floor(offset * squeeze[t_j]).astype(np.int64)

    # e-mail touches before a journey's last touch are opened at the customer's active hours
    # (same local day, not later than the journey's end)
    cust_t = j_cust[t_j]
    is_last = pos == np.repeat(length - 1, length)
    is_email = np.flatnonzero(t_chan == _EMAIL)
    movable = is_email[~is_last[is_email]]
    off = tz_offset[cust_t[movable]]
    day = np.floor_divide(t_sec[movable] + off, DAY)
    moved = day * DAY + local_seconds(rng, segment[cust_t[movable]]) - off
    ok = (moved >= 0) & (moved < j_end[t_j[movable]])
    t_sec[movable[ok]] = moved[ok]
    t_sec = np.clip(t_sec, 0, end_second)

    # unique (customer, ts, channel): the k-th duplicate of a key moves k seconds earlier (later
    # when that would fall before the period)
    for _ in range(50):
        key = (cust_t * (1 << 31) + t_sec) * 8 + t_chan
        srt = np.argsort(key, kind="stable")
        same = np.r_[False, np.diff(key[srt]) == 0]
        if not same.any():
            break
        run_start = np.maximum.accumulate(np.where(same, 0, np.arange(len(srt))))
        rank = np.arange(len(srt)) - run_start
        dup = srt[same]
        k = rank[same]
        t_sec[dup] = np.where(t_sec[dup] - k >= 0, t_sec[dup] - k, t_sec[dup] + k)
        t_sec = np.minimum(t_sec, end_second)
    else:  # pragma: no cover - needs dozens of touches in the same second
        raise RuntimeError("could not make touchpoint keys unique")

    camp_idx, campaign_names = _campaigns(epoch, t_sec)
    probs = np.array([_INTERACTION_PROBS[c] for c in MEDIA_CHANNELS])
    costs = np.array([_COSTS[c] for c in MEDIA_CHANNELS])
    icum = np.cumsum(probs, axis=1)
    icum[:, -1] = 1.0
    inter = (rng.random(len(t_chan))[:, None] >= icum[t_chan]).sum(axis=1)
    inter = np.minimum(inter, len(_INTERACTIONS) - 1)
    cost = np.round(costs[t_chan, inter] * np.exp(rng.normal(0.0, 0.2, len(t_chan))), 4)

    journey_ids = fixed_ids("J", np.arange(first_journey, first_journey + n_j), 10)
    last_touch = np.cumsum(length) - 1
    first_touch = last_touch - length + 1
    order_campaign = np.full(len(order_second), -1, dtype=np.int64)
    conv_rows = np.flatnonzero(j_conv)
    order_campaign[j_order[conv_rows]] = camp_idx[last_touch[conv_rows]]
    return {
        "touch": {
            "customer": cust_t,
            "second": t_sec,
            "channel": t_chan,
            "campaign": camp_idx,
            "interaction": inter,
            "journey_id": journey_ids.take(pa.array(t_j)),
            "cost": cost,
        },
        "journey": {
            "journey_id": journey_ids,
            "customer": j_cust,
            "converted": j_conv,
            "order": j_order,
            "n_touches": length.astype(np.int64),
            "conversion_probability": conv_prob,
            "first_second": np.minimum.reduceat(t_sec, first_touch),
            "last_second": np.maximum.reduceat(t_sec, first_touch),
        },
        "email": {
            "customer": cust_t[is_email],
            "second": t_sec[is_email],
            "campaign": take_strings(campaign_names, camp_idx[is_email]),
            "clicked": inter[is_email] == _INTERACTIONS.index("click"),
        },
        "order_campaign": order_campaign,
        "campaign_names": campaign_names,
        "interactions": _INTERACTIONS,
        "n_journeys": n_j,
        "n_converting": len(conv_rows),
        "expected_converting": float(GROUP_RATES[j_group].sum()),
    }


def _avoid_orders(
    rng: np.random.Generator,
    cust: np.ndarray,
    end: np.ndarray,
    order_customer: np.ndarray,
    order_second: np.ndarray,
    end_second: int,
) -> np.ndarray:
    """Move journey ends that fall within the conversion window before an order of the customer.

    A journey that does so is moved to just before the window (a random 0..2 days earlier), or
    just after the order when that would fall before the period; a few passes settle the rare
    ones that then meet another order.
    """
    window = CONVERSION_WINDOW_HOURS * 3600
    order_key = order_customer.astype(np.int64) * (1 << 32) + order_second
    end = end.copy()
    for _ in range(10):
        key = cust.astype(np.int64) * (1 << 32) + end
        nxt = np.searchsorted(order_key, key, side="left")
        nxt_c = np.clip(nxt, 0, len(order_key) - 1)
        hit = (
            (nxt < len(order_key))
            & (order_customer[nxt_c] == cust)
            & (order_second[nxt_c] - end <= window)
        )
        if not hit.any():
            break
        at = order_second[nxt_c[hit]]
        before = at - window - 1 - rng.integers(0, 2 * DAY, at.size)
        after = np.minimum(at + rng.integers(1, 2 * DAY, at.size), end_second)
        end[hit] = np.where(before >= 0, before, after)
    return end
