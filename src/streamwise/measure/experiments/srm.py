"""Sample-ratio mismatch: did the arms receive the traffic split they were meant to?

A chi-square goodness-of-fit test of the observed units per arm against the configured weights
(Pearson 1900; Fabijan et al. 2019, "Diagnosing sample ratio mismatch in online controlled
experiments", KDD, section 3), as gbstats ``check_srm`` (gbstats 0.8.0, ``gbstats/utils.py``)::

    X**2 = sum_i (o_i - e_i)**2 / e_i,   e_i = w_i / sum(w) * sum(o),   p = P(chi2_{k-1} > X**2)

Arms with zero weight are left out of the sum (as gbstats) but count in the ``k - 1`` degrees of
freedom. A mismatch means the assignment or the logging is broken: do not trust the results.
GrowthBook flags ``p < 0.001``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from scipy import special

__all__ = ["SrmResult", "srm_check"]


@dataclass(frozen=True, slots=True)
class SrmResult:
    """Outcome of a sample-ratio-mismatch check.

    Parameters
    ----------
    p_value
        Chi-square goodness-of-fit p-value (1 when no units were observed).
    statistic
        The chi-square statistic.
    dof
        Degrees of freedom (arms minus one).
    observed, expected
        Units per arm, observed and expected under the weights.
    threshold
        The p-value below which a mismatch is flagged.
    mismatch
        ``p_value < threshold``.
    """

    p_value: float
    statistic: float
    dof: int
    observed: tuple[float, ...]
    expected: tuple[float, ...]
    threshold: float
    mismatch: bool

    def to_dict(self) -> dict[str, Any]:
        """All fields as a plain dictionary."""
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per arm: observed, expected, and the shared test columns."""
        return pd.DataFrame(
            {
                "arm": range(len(self.observed)),
                "observed": self.observed,
                "expected": self.expected,
                "p_value": self.p_value,
                "mismatch": self.mismatch,
            }
        )


def srm_check(
    observed: Sequence[float], weights: Sequence[float], *, threshold: float = 0.001
) -> SrmResult:
    """Chi-square test that ``observed`` units per arm follow the split ``weights``.

    Parameters
    ----------
    observed
        Units per arm.
    weights
        Intended traffic share per arm (any positive scale: ``[0.5, 0.5]`` or ``[1, 1]``).
    threshold
        Flag a mismatch when the p-value is below it (GrowthBook: 0.001).

    Returns
    -------
    SrmResult

    Examples
    --------
    >>> round(srm_check([10_000, 10_300], [0.5, 0.5]).p_value, 5)
    0.03524
    """
    obs = [float(o) for o in observed]
    w = [float(x) for x in weights]
    if len(obs) != len(w):
        raise ValueError(
            f"srm_check got {len(obs)} observed counts but {len(w)} weights; pass one weight "
            "per arm"
        )
    if len(obs) < 2:
        raise ValueError("srm_check needs at least two arms")
    if any(not math.isfinite(o) or o < 0 for o in obs):
        raise ValueError(f"observed counts must be finite and >= 0, got {list(observed)!r}")
    if any(not math.isfinite(x) or x < 0 for x in w) or sum(w) <= 0:
        raise ValueError(
            f"weights must be >= 0 with a positive total, got {list(weights)!r}; pass the "
            "intended traffic share of each arm"
        )
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be between 0 and 1 (e.g. 0.001), got {threshold!r}")
    total, total_weight = sum(obs), sum(w)
    expected = tuple(x / total_weight * total for x in w)
    dof = len(obs) - 1
    if total == 0:
        return SrmResult(1.0, 0.0, dof, tuple(obs), expected, threshold, False)
    statistic = sum((o - e) ** 2 / e for o, e, x in zip(obs, expected, w, strict=True) if x > 0)
    p_value = float(special.chdtrc(dof, statistic))
    return SrmResult(p_value, statistic, dof, tuple(obs), expected, threshold, p_value < threshold)
