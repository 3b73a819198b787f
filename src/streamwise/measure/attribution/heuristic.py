"""Rule-based (heuristic) attribution over compressed paths, vectorised by touch position.

Each touch of a converting path gets a weight, the weights of a path sum to one, and a channel's
attributed conversions (value) are the sum over its touches of weight x the path's conversions
(value). Rules (Kannan, Reinartz & Verhoef 2016, "The path to purchase and attribution modeling",
IJRM 33(3), sec. 3; Google Analytics' rule-based models):

``first``, ``last``
    All to the first (last) touch.
``linear``
    ``1/n`` to each of the ``n`` touches (as ChannelAttribution's ``linear_touch``: a channel met
    twice gets ``2/n``).
``position``
    U-shaped: ``first`` share to the first touch, ``last`` share to the last, the rest split evenly
    over the touches in between (default 40/20/40); a path of two touches splits in the ratio
    ``first : last``, a path of one touch gives it everything.
``time_decay``
    Weight ``2 ** (-s / half_life)`` for a touch ``s`` *touches* before the last one (compressed
    paths carry no timestamps, so the half-life is measured in touches: the last touch has
    ``s = 0``), normalised per path.

The paths are exploded once into one entry per touch (flat arrays); there is no Python loop over
paths, so 10M paths take seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from streamwise.errors import ConfigError
from streamwise.measure.attribution.paths import ParsedPaths, parse_paths

__all__ = ["HEURISTICS", "HeuristicResult", "heuristic", "touch_weights"]

Heuristic = Literal["first", "last", "linear", "time_decay", "position"]
HEURISTICS: tuple[str, ...] = ("first", "last", "linear", "time_decay", "position")


@dataclass(frozen=True)
class HeuristicResult:
    """Conversions and value attributed to each channel by one rule.

    Attributes
    ----------
    model
        The rule's name.
    channels, conversions, value
        Per channel.
    params
        The rule's parameters (shares, half-life).
    """

    model: str
    channels: tuple[str, ...]
    conversions: tuple[float, ...]
    value: tuple[float, ...]
    params: tuple[tuple[str, float], ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per channel."""
        return pd.DataFrame(
            {"channel": list(self.channels), "conversions": self.conversions, "value": self.value}
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "model": self.model,
            "params": dict(self.params),
            "channels": {
                c: {"conversions": self.conversions[i], "value": self.value[i]}
                for i, c in enumerate(self.channels)
            },
        }


def touch_weights(
    p: ParsedPaths,
    model: str,
    *,
    first: float = 0.4,
    last: float = 0.4,
    half_life: float = 2.0,
) -> np.ndarray:
    """Weight of each touch (entry of ``p.codes``); the weights of each path sum to one."""
    n = p.lengths
    n_t = n[p.path_index]
    pos = p.position
    back = n_t - 1 - pos  # touches after this one
    if model == "first":
        return (pos == 0).astype(np.float64)
    if model == "last":
        return (back == 0).astype(np.float64)
    if model == "linear":
        return 1.0 / n_t
    if model == "position":
        if first < 0 or last < 0 or first + last > 1 or first + last == 0:
            raise ConfigError(
                f"position shares must be non-negative with 0 < first + last <= 1 (got first="
                f"{first}, last={last}); e.g. first=0.4, last=0.4"
            )
        middle = (1.0 - first - last) / np.maximum(n_t - 2, 1)
        w = np.where(pos == 0, first, np.where(back == 0, last, middle))
        w = np.where(n_t == 2, np.where(pos == 0, first, last) / (first + last), w)
        return np.where(n_t == 1, 1.0, w)
    if model == "time_decay":
        if not half_life > 0:
            raise ConfigError(f"half_life must be positive (in touches), not {half_life}")
        raw = np.exp2(-back / half_life)
        sums = np.add.reduceat(raw, p.offsets[:-1]) if len(raw) else raw
        return raw / np.repeat(sums, n)
    raise ConfigError(f"unknown heuristic {model!r}; use one of {', '.join(HEURISTICS)}")


def heuristic(
    paths: pd.DataFrame | ParsedPaths,
    model: Heuristic = "linear",
    *,
    first: float = 0.4,
    last: float = 0.4,
    half_life: float = 2.0,
) -> HeuristicResult:
    """Attribute conversions and value by a rule.

    Parameters
    ----------
    paths
        Compressed paths (``path, conversions``, optional ``value``) or parsed ones.
    model
        ``"first"``, ``"last"``, ``"linear"``, ``"time_decay"`` or ``"position"``.
    first, last
        Shares of the first and last touch for ``"position"`` (the middle gets the rest).
    half_life
        Half-life in touches for ``"time_decay"``.

    Examples
    --------
    >>> import pandas as pd
    >>> paths = pd.DataFrame({"path": ["a > b > c"], "conversions": [10], "nulls": [0]})
    >>> [round(x, 6) for x in heuristic(paths, "position").conversions]
    [4.0, 2.0, 4.0]
    """
    p = parse_paths(paths)
    w = touch_weights(p, model, first=first, last=last, half_life=half_life)
    path_i = p.path_index
    k = len(p.channels)
    conv = np.bincount(p.codes, weights=w * p.conversions[path_i], minlength=k)
    val = np.bincount(p.codes, weights=w * p.value[path_i], minlength=k)
    params: tuple[tuple[str, float], ...] = ()
    if model == "position":
        params = (("first", first), ("last", last))
    elif model == "time_decay":
        params = (("half_life", half_life),)
    return HeuristicResult(
        model=model,
        channels=p.channels,
        conversions=tuple(float(x) for x in conv),
        value=tuple(float(x) for x in val),
        params=params,
    )
