"""Exact Shapley value attribution over channel coalitions (Zhao, Mahboobi & Bagheri 2018).

Zhao, Mahboobi & Bagheri (2018), "Shapley value methods for attribution modeling in online
advertising", arXiv:1804.05327. A path's *coalition* is the set of distinct channels on it. With
``R(T)`` the conversions (or value) of the paths whose channel set is exactly ``T``, the
characteristic function is

    v(S) = sum_{T subset of or equal to S} R(T),

the conversions of the journeys that touched only channels in ``S`` (Zhao et al., sec. 3). Then
``v`` is a sum of unanimity games with dividends ``R(T)`` and the Shapley value reduces to their
simplified formula (eq. 6 there)

    phi_j = sum_{T containing j} R(T) / |T|,

a sum over the coalitions that actually occur. ``method="full"`` evaluates the textbook formula

    phi_j = sum_{S not containing j} |S|! (n - |S| - 1)! / n! * (v(S + j) - v(S))

over all ``2**n`` coalitions instead (``v`` by a subset-sum transform over bitmasks), which is
the same number and serves as a check; it is meant for up to about 20 channels.
The values are efficient: they sum to ``v(all channels)``, the total conversions.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial
from typing import Any, Literal

import numpy as np
import pandas as pd

from streamwise.errors import ConfigError, ModelError
from streamwise.measure.attribution.paths import ParsedPaths, parse_paths

__all__ = ["MAX_FULL_CHANNELS", "ShapleyResult", "coalition_values", "shapley_values"]

#: Most channels for ``method="full"`` (``2**n`` coalitions).
MAX_FULL_CHANNELS = 22
_MAX_MASK_CHANNELS = 62


@dataclass(frozen=True)
class ShapleyResult:
    """Shapley values of the channels on conversions and on value.

    Attributes
    ----------
    channels, conversions, value
        Per channel.
    method
        ``"simplified"`` or ``"full"``.
    total_conversions, total_value
        ``v(all channels)``.
    """

    channels: tuple[str, ...]
    conversions: tuple[float, ...]
    value: tuple[float, ...]
    method: str
    total_conversions: float
    total_value: float

    def to_frame(self) -> pd.DataFrame:
        """One row per channel."""
        return pd.DataFrame(
            {"channel": list(self.channels), "conversions": self.conversions, "value": self.value}
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "model": "shapley",
            "method": self.method,
            "total_conversions": self.total_conversions,
            "total_value": self.total_value,
            "channels": {
                c: {"conversions": self.conversions[i], "value": self.value[i]}
                for i, c in enumerate(self.channels)
            },
        }


def _coalitions(p: ParsedPaths) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct coalition bitmasks and their conversions and value ``R(T)``."""
    if len(p.channels) > _MAX_MASK_CHANNELS:
        raise ModelError(
            f"Shapley values need at most {_MAX_MASK_CHANNELS} channels, the paths have "
            f"{len(p.channels)}; group rare channels together first"
        )
    bits = np.left_shift(np.int64(1), p.codes.astype(np.int64))
    masks = np.bitwise_or.reduceat(bits, p.offsets[:-1]) if len(bits) else np.zeros(0, np.int64)
    uniq, inv = np.unique(masks, return_inverse=True)
    conv = np.bincount(inv, weights=p.conversions, minlength=len(uniq))
    val = np.bincount(inv, weights=p.value, minlength=len(uniq))
    return uniq, conv, val


def coalition_values(paths: pd.DataFrame | ParsedPaths) -> pd.DataFrame:
    """``R(T)`` per occurring coalition: ``coalition`` (sorted channels joined by ``" + "``),
    ``size``, ``conversions``, ``value``."""
    p = parse_paths(paths)
    masks, conv, val = _coalitions(p)
    names = [" + ".join(c for i, c in enumerate(p.channels) if (int(m) >> i) & 1) for m in masks]
    size = [bin(int(m)).count("1") for m in masks]
    return pd.DataFrame({"coalition": names, "size": size, "conversions": conv, "value": val})


def _popcount(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.uint64)
    return np.bitwise_count(x).astype(np.int64)


def _full(masks: np.ndarray, r: np.ndarray, n: int) -> np.ndarray:
    """Textbook Shapley values from ``R`` on ``masks`` over all ``2**n`` coalitions."""
    v = np.zeros(1 << n)
    np.add.at(v, masks, r)
    for i in range(n):  # subset-sum (zeta) transform: v(S) = sum_{T subset S} R(T)
        step = 1 << i
        v = v.reshape(-1, 2 * step)
        v[:, step:] += v[:, :step]
        v = v.reshape(-1)
    all_s = np.arange(1 << n, dtype=np.int64)
    size = _popcount(all_s)
    weight = np.array(
        [factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)] + [0.0]
    )[size]
    phi = np.zeros(n)
    for j in range(n):
        bit = 1 << j
        without = all_s[(all_s & bit) == 0]
        phi[j] = float(np.dot(weight[without], v[without | bit] - v[without]))
    return phi


def shapley_values(
    paths: pd.DataFrame | ParsedPaths,
    *,
    method: Literal["simplified", "full"] = "simplified",
) -> ShapleyResult:
    """Exact Shapley values of the channels (Zhao et al. 2018), on conversions and value.

    Parameters
    ----------
    paths
        Compressed paths (``path, conversions``, optional ``value``) or parsed ones. The order of
        touches and repeats do not matter, only each path's set of channels.
    method
        ``"simplified"`` (the sum over occurring coalitions, any number of channels up to 62) or
        ``"full"`` (all ``2**n`` coalitions, up to :data:`MAX_FULL_CHANNELS` channels).

    Examples
    --------
    >>> import pandas as pd
    >>> paths = pd.DataFrame({"path": ["a > b", "a"], "conversions": [4, 2], "nulls": [0, 0]})
    >>> shapley_values(paths).conversions
    (4.0, 2.0)
    """
    if method not in ("simplified", "full"):
        raise ConfigError(f"unknown Shapley method {method!r}; use 'simplified' or 'full'")
    p = parse_paths(paths)
    n = len(p.channels)
    masks, conv, val = _coalitions(p)
    if method == "full":
        if n > MAX_FULL_CHANNELS:
            raise ModelError(
                f"method='full' visits 2**n coalitions and takes at most {MAX_FULL_CHANNELS} "
                f"channels, the paths have {n}; use method='simplified'"
            )
        phi_c, phi_v = _full(masks, conv, n), _full(masks, val, n)
    else:
        size = np.maximum(_popcount(masks), 1)
        member = ((masks[:, None] >> np.arange(n, dtype=np.int64)[None, :]) & 1).astype(bool)
        phi_c = (conv / size) @ member if n else np.zeros(0)
        phi_v = (val / size) @ member if n else np.zeros(0)
    return ShapleyResult(
        channels=p.channels,
        conversions=tuple(float(x) for x in phi_c),
        value=tuple(float(x) for x in phi_v),
        method=method,
        total_conversions=float(conv.sum()),
        total_value=float(val.sum()),
    )
