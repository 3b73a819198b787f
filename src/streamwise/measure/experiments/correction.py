"""Several variants against one control: multiplicity-adjusted p-values.

* Holm (1979), "A simple sequentially rejective multiple test procedure", Scand. J. Statist.
  6: with ordered p-values ``p_(1) <= ... <= p_(m)``, ``p~_(i) = max_{j<=i} min(1, (m-j+1) p_(j))``;
  controls the family-wise error rate.
* Benjamini and Hochberg (1995), "Controlling the false discovery rate", JRSS B 57, eq. 1 (as
  adjusted p-values): ``p~_(i) = min_{j>=i} min(1, m p_(j) / j)``; controls the false discovery
  rate.
* Bonferroni: ``min(1, m p)``.

These equal ``statsmodels.stats.multitest.multipletests`` with ``"holm"``, ``"fdr_bh"`` and
``"bonferroni"``. Intervals are not adjusted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from streamwise.measure.experiments.bayesian import GaussianPrior
from streamwise.measure.experiments.compare import Stat, compare
from streamwise.measure.experiments.results import ComparisonResult, Method

__all__ = ["ArmComparisons", "Correction", "adjust_p_values", "compare_arms"]

Correction = Literal["holm", "bh", "bonferroni"]


def adjust_p_values(p_values: npt.ArrayLike, method: Correction = "holm") -> np.ndarray:
    """Multiplicity-adjusted p-values, in the input order.

    Parameters
    ----------
    p_values
        Unadjusted p-values, each in [0, 1].
    method
        ``"holm"`` (Holm-Bonferroni, family-wise error), ``"bh"`` (Benjamini-Hochberg, false
        discovery rate) or ``"bonferroni"``.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values.
    """
    p = np.asarray(p_values, dtype=np.float64).ravel()
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("p_values must be numbers between 0 and 1")
    m = p.size
    if m == 0:
        return p.copy()
    if method == "bonferroni":
        return np.minimum(1.0, m * p)
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    rank = np.arange(1, m + 1)
    if method == "holm":
        adjusted = np.minimum(1.0, np.maximum.accumulate((m - rank + 1) * ranked))
    elif method == "bh":
        adjusted = np.minimum(1.0, np.minimum.accumulate((m * ranked / rank)[::-1])[::-1])
    else:
        raise ValueError(f"method must be 'holm', 'bh' or 'bonferroni', got {method!r}")
    out = np.empty(m)
    out[order] = adjusted
    return out


@dataclass(frozen=True, slots=True)
class ArmComparisons:
    """Each variant against the control.

    Parameters
    ----------
    names
        Variant names (``"1"``, ``"2"``, ... when given as a sequence).
    results
        One :class:`ComparisonResult` per variant, with ``adjusted_p_value`` set when corrected.
    correction
        The correction applied, or None.
    """

    names: tuple[str, ...]
    results: tuple[ComparisonResult, ...]
    correction: Correction | None

    def __getitem__(self, name: str) -> ComparisonResult:
        return self.results[self.names.index(name)]

    def to_dict(self) -> dict[str, Any]:
        """Variant name to result dictionary, plus the correction."""
        return {
            "correction": self.correction,
            "results": {n: r.to_dict() for n, r in zip(self.names, self.results, strict=True)},
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per variant."""
        frame = pd.DataFrame([r.to_dict() for r in self.results])
        frame.insert(0, "arm", list(self.names))
        return frame


def compare_arms(
    control: Stat,
    variants: Sequence[Stat] | Mapping[str, Stat],
    *,
    correction: Correction | None = "holm",
    method: Method = "frequentist",
    relative: bool = True,
    alpha: float = 0.05,
    inverse: bool = False,
    sequential_tuning_parameter: float = 5000.0,
    prior: GaussianPrior | None = None,
) -> ArmComparisons:
    """Compare every variant with the control and adjust the p-values for multiplicity.

    Parameters
    ----------
    control
        Statistics of the control arm.
    variants
        Statistics of the variants, as a sequence or a mapping from name to statistics.
    correction
        ``"holm"``, ``"bh"``, ``"bonferroni"`` or None. Applies to p-values, so only to the
        frequentist and sequential methods; pass None with ``method="bayesian"``.
    method, relative, alpha, inverse, sequential_tuning_parameter, prior
        As :func:`~streamwise.measure.experiments.compare`.

    Returns
    -------
    ArmComparisons
        Variants whose comparison failed (``error_message``) get an adjusted p-value of None and
        do not count among the tests corrected for.
    """
    if correction is not None and method == "bayesian":
        raise ValueError(
            "correction adjusts p-values, which the Bayesian method does not produce; pass "
            "correction=None, or use method='frequentist' or 'sequential'"
        )
    named = (
        dict(variants)
        if isinstance(variants, Mapping)
        else {str(i + 1): v for i, v in enumerate(variants)}
    )
    if not named:
        raise ValueError("compare_arms needs at least one variant")
    results = [
        compare(
            control,
            stat,
            method=method,
            relative=relative,
            alpha=alpha,
            inverse=inverse,
            sequential_tuning_parameter=sequential_tuning_parameter,
            prior=prior,
        )
        for stat in named.values()
    ]
    if correction is not None:
        tested = [i for i, r in enumerate(results) if r.p_value is not None]
        adjusted = adjust_p_values([results[i].p_value for i in tested], correction)
        for i, p in zip(tested, adjusted, strict=True):
            results[i] = results[i].with_adjusted_p_value(float(p), correction)
    return ArmComparisons(tuple(named), tuple(results), correction)
