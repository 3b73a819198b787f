"""Variant and holdout assignment: random, reproducible and persisted.

Each recipient's draw is a keyed hash of (campaign seed, recipient id) mapped to [0, 1) — the
same person always lands in the same arm of the same campaign, whichever order recipients are
processed in, on any machine, and a resumed send finds the same arms. The holdout is drawn first
(it receives nothing, for incrementality later); the rest split across variants by their weights.
The assignment is also stored with each ledger row, so it never has to be recomputed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from streamwise.errors import ConfigError

__all__ = ["HOLDOUT", "assign", "uniform_draws"]

HOLDOUT = "holdout"


def uniform_draws(seed: str, ids: Sequence[str] | pd.Series) -> np.ndarray:
    """One number in [0, 1) per id from BLAKE2b keyed by ``seed`` (64 bits of each digest)."""
    key = seed.encode()[:64]
    out = np.empty(len(ids), dtype=np.float64)
    for i, rid in enumerate(ids):
        digest = hashlib.blake2b(str(rid).encode(), key=key, digest_size=8).digest()
        out[i] = int.from_bytes(digest, "big") / 2.0**64
    return out


def assign(
    ids: Sequence[str] | pd.Series,
    *,
    seed: str,
    variants: Mapping[str, float],
    holdout: float = 0.0,
) -> pd.Series:
    """The arm of each recipient: a variant name or :data:`HOLDOUT`.

    Parameters
    ----------
    ids
        Recipient ids (customer ids).
    seed
        The campaign's seed (stored with the campaign).
    variants
        Variant name → weight (need not sum to one; at least one positive).
    holdout
        Share of recipients held out (0 ≤ holdout < 1).
    """
    if not 0 <= holdout < 1:
        raise ConfigError(f"holdout must be in [0, 1), not {holdout}")
    if not variants or any(w < 0 for w in variants.values()) or sum(variants.values()) <= 0:
        raise ConfigError(f"variants need non-negative weights, one positive; got {dict(variants)}")
    if HOLDOUT in variants:
        raise ConfigError(f"{HOLDOUT!r} is reserved for the holdout group; rename the variant")
    u = uniform_draws(seed, ids)
    names = list(variants)
    weights = np.array([variants[n] for n in names], dtype=float)
    edges = np.cumsum(weights / weights.sum())
    rest = (u - holdout) / (1 - holdout)  # the draw rescaled within the non-held-out part
    arm = np.searchsorted(edges, rest, side="right").clip(0, len(names) - 1)
    labels = np.where(u < holdout, HOLDOUT, np.array(names, dtype=object)[arm])
    return pd.Series(labels, index=pd.Index(list(ids), name="customer_id"), name="arm")
