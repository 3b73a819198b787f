"""Markov chain attribution of order 1 to 3 with exact removal effects.

Anderl, Becker, von Wangenheim & Schumann (2016), "Mapping the customer journey: Lessons learned
from graph-based online attribution modeling", International Journal of Research in Marketing
33(3), 457-474: a journey is a walk on a Markov chain from ``(start)`` through channel states to
one of two absorbing states, ``(conversion)`` and ``(null)``. Transition probabilities are the
observed transition counts of the compressed paths, normalised per state.

States of order ``k`` follow ChannelAttribution (Altomare & Loris, ``markov_model``): the path
``c1 > c2 > ... > cn`` becomes the sliding windows ``(c1..ck), (c2..ck+1), ..., (cn-k+1..cn)``;
a path shorter than ``k`` is one state, the whole path. Repeats of the same state in a row are
self-loops, which do not change absorption probabilities and are dropped (as ChannelAttribution
does).

The *removal effect* of channel ``c`` is

    RE(c) = 1 - P(conversion | c removed) / P(conversion),

where removing ``c`` sends every transition into a state that contains ``c`` (for order ``k``:
every ``k``-tuple with ``c`` in it) to ``(null)``. Both probabilities are computed exactly: with
``Q`` the transitions among transient states and ``r`` the one-step conversion probabilities,
the absorption probabilities solve ``(I - Q) x = r`` (Kemeny & Snell 1976, "Finite Markov
Chains", thm. 3.3.7), a sparse system solved once for the full chain and once per channel with
the removed states taken out. ChannelAttribution estimates the same quantity by simulating random
walks (the share of simulated conversions whose walk visits ``c``, returned unnormalised as
``removal_effects``); here there is no simulation error.

Attributed conversions are the removal effects normalised to sum to one times the observed
conversions, as ChannelAttribution's ``markov_model`` returns them. For value, each conversion
carries the mean value per conversion of the paths ending in its last state (ChannelAttribution
draws it from that state's value distribution), and the same removal computation on expected
value gives the value removal effects and the attributed value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from streamwise.errors import DataError, ModelError
from streamwise.measure.attribution.paths import ParsedPaths, parse_paths

__all__ = ["MarkovChain", "MarkovResult", "markov_chain", "markov_model", "markov_removal_effects"]

MAX_ORDER = 3


@dataclass(frozen=True, eq=False)
class MarkovChain:
    """Transition counts of the order-``k`` chain (states: 0 = start, 1..S channel states,
    ``S+1`` = conversion, ``S+2`` = null).

    Attributes
    ----------
    order, channels
        Order and channel names.
    states
        Channel indices of each channel state (``S x order``, ``-1`` past a short state's end).
    counts
        Sparse ``(S+3) x (S+3)`` transition counts (weighted by journeys).
    conv_value
        Mean value per conversion of the paths that end in each state (``S+1``; 0 where none).
    """

    order: int
    channels: tuple[str, ...]
    states: np.ndarray
    counts: sp.csr_matrix
    conv_value: np.ndarray

    @property
    def n_states(self) -> int:
        """Number of channel states ``S``."""
        return len(self.states)

    def state_names(self) -> list[str]:
        """All state names: ``(start)``, the channel states, ``(conversion)``, ``(null)``."""
        names = [
            " > ".join(self.channels[c] for c in row if c >= 0) for row in self.states.tolist()
        ]
        return ["(start)", *names, "(conversion)", "(null)"]

    def transition_matrix(self) -> pd.DataFrame:
        """Transition probabilities as ``from, to, probability`` rows (self-loops left out)."""
        coo = self.counts.tocoo()
        totals = np.asarray(self.counts.sum(axis=1)).ravel()
        names = np.array(self.state_names(), dtype=object)
        frame = pd.DataFrame(
            {
                "from": names[coo.row],
                "to": names[coo.col],
                "probability": coo.data / totals[coo.row],
            }
        )
        return frame.sort_values(["from", "to"], ignore_index=True)


@dataclass(frozen=True)
class MarkovResult:
    """Removal effects and attributed conversions and value per channel.

    Attributes
    ----------
    order
        Markov order.
    channels
        Channel names.
    removal_effects, value_removal_effects
        ``1 - P(conversion | c removed) / P(conversion)``, on conversions and on value.
    conversions, value
        Attributed: removal effects normalised to sum to one, times the totals.
    p_conversion
        Exact conversion probability of a journey under the chain.
    total_conversions, total_value
        Observed totals.
    n_states
        Number of channel states of the chain.
    """

    order: int
    channels: tuple[str, ...]
    removal_effects: tuple[float, ...]
    value_removal_effects: tuple[float, ...]
    conversions: tuple[float, ...]
    value: tuple[float, ...]
    p_conversion: float
    total_conversions: float
    total_value: float
    n_states: int

    def to_frame(self) -> pd.DataFrame:
        """One row per channel."""
        return pd.DataFrame(
            {
                "channel": list(self.channels),
                "removal_effect": self.removal_effects,
                "value_removal_effect": self.value_removal_effects,
                "conversions": self.conversions,
                "value": self.value,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data: the chain's figures and per channel its removal effects and shares."""
        return {
            "model": "markov",
            "order": self.order,
            "p_conversion": self.p_conversion,
            "total_conversions": self.total_conversions,
            "total_value": self.total_value,
            "n_states": self.n_states,
            "channels": {
                c: {
                    "removal_effect": self.removal_effects[i],
                    "value_removal_effect": self.value_removal_effects[i],
                    "conversions": self.conversions[i],
                    "value": self.value[i],
                }
                for i, c in enumerate(self.channels)
            },
        }


def _windows(p: ParsedPaths, keep: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Order-``order`` state codes (base ``n_channels + 1`` digits, 0 = none) of the kept paths,
    one after another, and the number of states per kept path."""
    n = p.lengths[keep]
    first = p.offsets[:-1][keep]
    m = np.maximum(n - order + 1, 1)
    win_path = np.repeat(np.arange(len(n)), m)
    j = np.arange(int(m.sum())) - np.repeat(np.cumsum(m) - m, m)
    start = first[win_path] + j
    base = len(p.channels) + 1
    code = np.zeros(len(start), dtype=np.int64)
    last = max(len(p.codes) - 1, 0)
    for t in range(order):
        valid = (j + t) < n[win_path]
        digit = np.where(valid, p.codes[np.minimum(start + t, last)].astype(np.int64) + 1, 0)
        code = code * base + digit
    return code, m


def markov_chain(paths: pd.DataFrame | ParsedPaths, order: int = 1) -> MarkovChain:
    """Count the transitions of the order-``order`` chain from compressed paths (vectorised).

    Parameters
    ----------
    paths
        Compressed paths (``path, conversions, nulls`` and optionally ``value``) or parsed ones.
    order
        1, 2 or 3.
    """
    if order not in range(1, MAX_ORDER + 1):
        raise ModelError(f"order must be 1, 2 or 3, not {order!r}")
    p = parse_paths(paths)
    weight = p.conversions + p.nulls
    keep = weight > 0
    if not keep.any() or p.conversions.sum() <= 0:
        raise ModelError(
            "the paths have no conversions; a Markov model needs converting and non-converting "
            "journeys (check the conversion window and the conversions table)"
        )
    code, m = _windows(p, keep, order)
    base = len(p.channels) + 1
    size = base**order
    if size <= 1 << 25:
        present = np.zeros(size + 1, dtype=bool)
        present[code] = True
        uniq = np.flatnonzero(present)
        lookup = np.cumsum(present) - 1
        state = lookup[code] + 1
    else:  # pragma: no cover - needs very many channels at order 3
        uniq, inv = np.unique(code, return_inverse=True)
        state = inv + 1
    n_s = len(uniq)
    conv_s, null_s = n_s + 1, n_s + 2
    dim = n_s + 3
    w, cv, nl, val = weight[keep], p.conversions[keep], p.nulls[keep], p.value[keep]
    ends = np.cumsum(m)
    starts = ends - m
    inner = np.ones(len(state), dtype=bool)
    inner[ends - 1] = False
    frm = np.concatenate(
        [np.zeros(len(m), np.int64), state[inner], state[ends - 1], state[ends - 1]]
    )
    to = np.concatenate(
        [state[starts], state[1:][inner[:-1]], np.full(len(m), conv_s), np.full(len(m), null_s)]
    )
    wts = np.concatenate([w, np.repeat(w, m - 1), cv, nl])
    use = (frm != to) & (wts > 0)
    frm, to, wts = frm[use], to[use], wts[use]
    key = frm * dim + to
    if dim * dim <= 1 << 24:
        flat = np.bincount(key, weights=wts, minlength=dim * dim)
        nz = np.flatnonzero(flat)
        counts = sp.csr_matrix((flat[nz], (nz // dim, nz % dim)), shape=(dim, dim))
    else:
        counts = sp.csr_matrix((wts, (frm, to)), shape=(dim, dim))
        counts.sum_duplicates()
    last = state[ends - 1]
    conv_per = np.bincount(last, weights=cv, minlength=n_s + 1)
    val_per = np.bincount(last, weights=val, minlength=n_s + 1)
    conv_value = np.divide(val_per, conv_per, out=np.zeros_like(val_per), where=conv_per > 0)
    digits = np.empty((n_s, order), dtype=np.int64)
    rest = uniq.copy()
    for t in range(order - 1, -1, -1):
        digits[:, t] = rest % base
        rest //= base
    return MarkovChain(
        order=order,
        channels=p.channels,
        states=digits - 1,
        counts=counts,
        conv_value=conv_value,
    )


def _absorb(a: sp.csr_matrix, rhs: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Absorption from the start state of the chain restricted to ``keep`` (start is kept)."""
    idx = np.flatnonzero(keep)
    sub = a[idx][:, idx].tocsc()
    try:
        sol = splu(sub).solve(np.ascontiguousarray(rhs[idx]))
    except RuntimeError as exc:  # pragma: no cover - every state reaches an end by construction
        raise ModelError(f"the Markov chain's linear system is singular ({exc})") from None
    return sol[0]


def markov_model(
    paths: pd.DataFrame | ParsedPaths | MarkovChain,
    order: int = 1,
) -> MarkovResult:
    """Markov chain attribution with exact removal effects (Anderl et al. 2016).

    Parameters
    ----------
    paths
        Compressed paths (``path, conversions, nulls``, optional ``value``; channels separated by
        ``>``), parsed paths, or a chain from :func:`markov_chain`.
    order
        Markov order, 1 to 3 (ignored for a chain).

    Returns
    -------
    MarkovResult
        Removal effects (unnormalised, as ChannelAttribution's ``removal_effects``) and
        attributed conversions and value (normalised removal effects times the totals).

    Examples
    --------
    >>> import pandas as pd
    >>> paths = pd.DataFrame({"path": ["a > b", "b"], "conversions": [1, 1], "nulls": [1, 3]})
    >>> {c: round(r, 3) for c, r in markov_removal_effects(paths).items()}
    {'a': 0.333, 'b': 1.0}
    """
    chain = paths if isinstance(paths, MarkovChain) else markov_chain(paths, order)
    counts = chain.counts
    dim = counts.shape[0]
    n_t = dim - 2  # start + channel states
    totals = np.asarray(counts.sum(axis=1)).ravel()[:n_t]
    scale = sp.diags(1.0 / totals)
    probs = (scale @ counts[:n_t]).tocsr()
    q = probs[:, :n_t]
    r = probs[:, n_t].toarray().ravel()
    rv = r * chain.conv_value
    a = (sp.identity(n_t, format="csr") - q).tocsr()
    rhs = np.column_stack([r, rv])
    keep_all = np.ones(n_t, dtype=bool)
    base = _absorb(a, rhs, keep_all)
    n_ch = len(chain.channels)
    re = np.zeros(n_ch)
    re_v = np.zeros(n_ch)
    for c in range(n_ch):
        keep = keep_all.copy()
        keep[1:] = ~(chain.states == c).any(axis=1)
        sol = _absorb(a, rhs, keep)
        re[c] = 1.0 - sol[0] / base[0] if base[0] > 0 else 0.0
        re_v[c] = 1.0 - sol[1] / base[1] if base[1] > 0 else 0.0
    re = np.clip(re, 0.0, 1.0)
    re_v = np.clip(re_v, 0.0, 1.0)
    total_conv = float(counts[:, n_t].sum())
    conv_col = counts[:n_t, n_t].toarray().ravel()
    total_value = float(np.dot(conv_col, chain.conv_value))
    share = re / re.sum() if re.sum() > 0 else re
    share_v = re_v / re_v.sum() if re_v.sum() > 0 else re_v
    return MarkovResult(
        order=chain.order,
        channels=chain.channels,
        removal_effects=tuple(float(x) for x in re),
        value_removal_effects=tuple(float(x) for x in re_v),
        conversions=tuple(float(x) for x in share * total_conv),
        value=tuple(float(x) for x in share_v * total_value),
        p_conversion=float(base[0]),
        total_conversions=total_conv,
        total_value=total_value,
        n_states=chain.n_states,
    )


def markov_removal_effects(paths: pd.DataFrame | ParsedPaths, order: int = 1) -> dict[str, float]:
    """Exact removal effect of each channel, ``1 - P(conv | c removed) / P(conv)``.

    See :func:`markov_model`; the values are not normalised (they need not sum to one).
    """
    if isinstance(paths, pd.DataFrame) and "nulls" not in paths.columns:
        raise DataError(
            "the paths have no 'nulls' column; removal effects need the non-converting journeys "
            "(build the paths with build_paths, which counts them)",
            column="nulls",
        )
    res = markov_model(paths, order)
    return dict(zip(res.channels, res.removal_effects, strict=True))
