"""Segment attractiveness, targeting and how sure the targeting is.

Each segment is scored on criteria (size, value, growth, competition, fit), each raw value is
min–max scaled across segments to 0–1 (reversed where less is better), and the total is the
weighted sum — the multi-factor attractiveness matrix of GE/McKinsey in the form Kotler & Keller
(*Marketing Management*, 15th ed., ch. 9) give for segment evaluation. The top ``n_targets``
segments are targeted.

The sensitivity table answers "how far could a weight move before the targets change?". When one
criterion's weight becomes ``t`` and the others keep their proportions (scaled by
``(1 − t) / (1 − w)``), every segment's total is linear in ``t``, so the target set can change only
where two totals cross: the table lists, per criterion, the exact interval of ``t`` around the
current weight in which the targets stay the same, and the targets just outside it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np
import pandas as pd

from streamwise.errors import ConfigError
from streamwise.plan.document import Claim, Evidence, SegmentScore, Target
from streamwise.plan.profiles import SegmentProfiles

__all__ = [
    "CRITERIA",
    "DEFAULT_WEIGHTS",
    "attractiveness",
    "check_weights",
    "sensitivity",
    "targeting",
    "targets_for",
]

#: Criterion → (profile metric, higher is better, what it means).
CRITERIA: dict[str, tuple[str, bool, str]] = {
    "size": ("customer_share", True, "share of our customers in the segment"),
    "value": ("clv_mean", True, "expected 52-week CLV per customer"),
    "growth": ("market_growth", True, "annual growth of the categories the segment buys"),
    "competition": ("competitive_intensity", False,
                    "brands within reach of the segment's ideal point (less is better)"),
    "fit": ("distance_to_us", False, "distance from the segment's ideal to our brand"),
}  # fmt: skip
DEFAULT_WEIGHTS: dict[str, float] = {
    "size": 0.25, "value": 0.25, "growth": 0.2, "competition": 0.15, "fit": 0.15,
}  # fmt: skip


def check_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    """Weights for every criterion (missing ones 0 when some are given), summing to one."""
    if weights is None:
        return dict(DEFAULT_WEIGHTS)
    unknown = sorted(set(weights) - set(CRITERIA))
    if unknown:
        raise ConfigError(f"unknown criteria {unknown}; use {', '.join(CRITERIA)}")
    w = {c: float(weights.get(c, 0.0)) for c in CRITERIA}
    if any(v < 0 or not np.isfinite(v) for v in w.values()) or sum(w.values()) <= 0:
        raise ConfigError(f"weights must be ≥ 0 and not all zero; got {dict(weights)}")
    total = sum(w.values())
    return {c: v / total for c, v in w.items()}


def _raw(p: SegmentProfiles, seg: str, criterion: str) -> float | None:
    if criterion == "size":
        v = p.value(seg, "customer_share")
        return v if v is not None else p.value(seg, "respondent_share")
    if criterion == "competition":
        within, d = p.value(seg, "brands_within"), p.value(seg, "distance_to_competitor")
        radius = p.value(seg, "map_radius")
        if within is None or d is None or not radius:
            return None
        # brands within reach, ties broken by how close the nearest competitor is (0–1)
        return within + float(np.exp(-d / radius))
    return p.value(seg, CRITERIA[criterion][0])


def _scale(raw: pd.Series, higher_better: bool) -> pd.Series:
    known = raw.dropna()
    if known.empty:
        return pd.Series(0.0, index=raw.index)
    lo, hi = known.min(), known.max()
    scaled = (raw - lo) / (hi - lo) if hi > lo else raw * 0 + 0.5
    if not higher_better:
        scaled = 1 - scaled
    return scaled.fillna(0.0)


def attractiveness(
    profiles: SegmentProfiles, weights: Mapping[str, float] | None = None
) -> tuple[SegmentScore, ...]:
    """Score every segment; best first (ties by name)."""
    w = check_weights(weights)
    segs = list(profiles.segments)
    raw = pd.DataFrame({c: [_raw(profiles, s, c) for s in segs] for c in CRITERIA}, index=segs)
    raw = raw.astype(float)
    scores = pd.DataFrame({c: _scale(raw[c], CRITERIA[c][1]) for c in CRITERIA})
    total = sum(scores[c] * w[c] for c in CRITERIA)
    order = sorted(segs, key=lambda s: (-round(float(total[s]), 12), s))
    return tuple(
        SegmentScore(
            segment=s,
            raw={c: None if pd.isna(raw.at[s, c]) else float(raw.at[s, c]) for c in CRITERIA},
            scores={c: float(scores.at[s, c]) for c in CRITERIA},
            total=float(total[s]),
            rank=i + 1,
        )
        for i, s in enumerate(order)
    )


def targets_for(
    scores: tuple[SegmentScore, ...], weights: Mapping[str, float], n_targets: int
) -> tuple[str, ...]:
    """The ``n_targets`` best segments under ``weights`` (sorted by name)."""
    w = check_weights(weights)
    totals = {s.segment: sum(s.scores[c] * w[c] for c in CRITERIA) for s in scores}
    best = sorted(totals, key=lambda s: (-round(totals[s], 12), s))[:n_targets]
    return tuple(sorted(best))


def _with(weights: dict[str, float], criterion: str, t: float) -> dict[str, float]:
    rest = 1 - weights[criterion]
    out = {c: (v * (1 - t) / rest if rest > 0 else (1 - t) / (len(weights) - 1))
           for c, v in weights.items()}  # fmt: skip
    out[criterion] = t
    return out


def sensitivity(
    scores: tuple[SegmentScore, ...], weights: Mapping[str, float], n_targets: int
) -> pd.DataFrame:
    """Per criterion: the interval of its weight in which the targets stay the same.

    Returns
    -------
    pandas.DataFrame
        ``criterion, weight, stable_from, stable_to, targets, below, above``: ``below`` /
        ``above`` are the targets just under ``stable_from`` / over ``stable_to`` (empty when the
        interval reaches 0 / 1).
    """
    w = check_weights(weights)
    base = targets_for(scores, w, n_targets)
    rows = []
    for c in CRITERIA:
        # totals are a + t·b in t; crossings of any two segments are candidate breakpoints
        a = np.array([sum(s.scores[k] * _with(w, c, 0.0)[k] for k in CRITERIA) for s in scores])
        end = np.array([sum(s.scores[k] * _with(w, c, 1.0)[k] for k in CRITERIA) for s in scores])
        b = end - a
        cuts = {0.0, 1.0}
        for i in range(len(scores)):
            for j in range(i + 1, len(scores)):
                if not np.isclose(b[i], b[j], atol=1e-15):
                    t = (a[j] - a[i]) / (b[i] - b[j])
                    if 0 < t < 1:
                        cuts.add(float(t))
        grid = sorted(cuts)
        mids = [(lo + hi) / 2 for lo, hi in itertools.pairwise(grid)]
        sets = [targets_for(scores, _with(w, c, m), n_targets) for m in mids]
        here = next(i for i, (lo, hi) in enumerate(itertools.pairwise(grid))
                    if lo <= w[c] <= hi)  # fmt: skip
        lo_i = hi_i = here
        while lo_i > 0 and sets[lo_i - 1] == base:
            lo_i -= 1
        while hi_i < len(sets) - 1 and sets[hi_i + 1] == base:
            hi_i += 1
        if sets[here] != base:  # the current weight sits exactly on a tie
            lo_i = hi_i = here
        rows.append({
            "criterion": c, "weight": w[c],
            "stable_from": grid[lo_i], "stable_to": grid[hi_i + 1],
            "targets": ", ".join(base),
            "below": ", ".join(sets[lo_i - 1]) if lo_i > 0 else "",
            "above": ", ".join(sets[hi_i + 1]) if hi_i + 1 < len(sets) else "",
        })  # fmt: skip
    return pd.DataFrame(rows)


def _criterion_claim(p: SegmentProfiles, score: SegmentScore, c: str, currency: str) -> Claim:
    metric, _, meaning = CRITERIA[c]
    raw = score.raw[c]
    if c == "competition":
        ev: tuple[Evidence, ...] = tuple(
            p.evidence(score.segment, m) for m in ("brands_within", "distance_to_competitor")
        )
        near = p.label(score.segment, "distance_to_competitor")
        within = p.value(score.segment, "brands_within") or 0
        text = (
            f"{within:.0f} brands within reach of their ideal; nearest competitor {near}"
            if within
            else f"no brand within reach of their ideal (nearest: {near})"
        )
    else:
        if c == "size" and p.value(score.segment, "customer_share") is None:
            metric = "respondent_share"
        ev = (p.evidence(score.segment, metric),)
        shown = {
            "size": lambda v: f"{v:.0%} of customers",
            "value": lambda v: f"{v:,.0f} {currency} expected CLV per customer",
            "growth": lambda v: f"its categories grow {v:+.1%} a year",
            "fit": lambda v: f"our brand is {v:.2f} from their ideal on the perceptual map",
        }[c]
        text = shown(raw) if raw is not None else f"no data on {meaning}"
    return Claim(text=f"{c} {score.scores[c]:.2f}: {text}.", kind="fact", evidence=ev)


def targeting(
    profiles: SegmentProfiles,
    scores: tuple[SegmentScore, ...],
    weights: Mapping[str, float],
    *,
    n_targets: int = 2,
    maintain_value_share: float = 0.15,
    currency: str = "",
) -> tuple[Target, ...]:
    """Target the ``n_targets`` most attractive segments; keep serving ("maintain") others that
    hold at least ``maintain_value_share`` of total customer value; deprioritise the rest.

    Each decision carries its reasons: the criteria that contributed most (for targets) or least
    (for the others), each with its evidence.
    """
    w = check_weights(weights)
    chosen = set(targets_for(scores, w, n_targets))
    values = {s.segment: profiles.value(s.segment, "clv_total") or 0.0 for s in scores}
    all_value = sum(values.values()) or 1.0
    out = []
    for s in scores:
        contrib = sorted(CRITERIA, key=lambda c: -w[c] * s.scores[c])
        if s.segment in chosen:
            decision, picks = "target", contrib[:2]
        elif values[s.segment] / all_value >= maintain_value_share:
            decision, picks = "maintain", contrib[:1] + contrib[-1:]
        else:
            decision, picks = "deprioritise", contrib[-2:]
        reasons = [_criterion_claim(profiles, s, c, currency) for c in picks]
        if decision == "maintain":
            reasons.append(
                Claim(
                    text=f"holds {values[s.segment] / all_value:.0%} of expected customer value.",
                    kind="value",
                    evidence=(profiles.evidence(s.segment, "clv_total"),),
                )
            )
        out.append(Target(segment=s.segment, decision=decision, score=s.total, rank=s.rank,
                          reasons=tuple(reasons)))  # fmt: skip
    return tuple(out)
