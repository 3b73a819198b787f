"""Net Promoter Score: the score, its confidence interval, by group, and the difference of two.

On the 0–10 likelihood-to-recommend scale, 9–10 are promoters, 7–8 passives and 0–6 detractors;
NPS = 100 × (share of promoters − share of detractors) (Reichheld 2003, "The one number you need
to grow", Harvard Business Review 81(12)). The counts of the three classes are multinomial, so
Var(p̂_P − p̂_D) = [p_P + p_D − (p_P − p_D)²] / n (Rocks 2016, "Interval estimation for the 'Net
Promoter Score'", The American Statistician 70(4)).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from streamwise.errors import DataError

__all__ = ["NpsDifference", "NpsResult", "nps", "nps_by", "nps_difference"]

Method = Literal["wald", "adjusted_wald"]


@dataclass(frozen=True)
class NpsResult:
    """An NPS with its interval; ``score``, ``lower``, ``upper`` and ``std_error`` in points.

    ``n`` counts the answers, ``n_effective`` is Kish's effective size (``n`` when unweighted);
    ``promoters``, ``passives`` and ``detractors`` are (weighted) shares summing to 1.
    """

    score: float
    lower: float
    upper: float
    std_error: float
    n: int
    n_effective: float
    promoters: float
    passives: float
    detractors: float
    confidence: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary."""
        return dataclasses.asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One-row data frame."""
        return pd.DataFrame([self.to_dict()])


@dataclass(frozen=True)
class NpsDifference:
    """NPS of ``a`` minus NPS of ``b`` (points), its interval, z statistic and two-sided p."""

    difference: float
    lower: float
    upper: float
    std_error: float
    z: float
    p_value: float
    confidence: float
    a: NpsResult
    b: NpsResult

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary (``a`` and ``b`` nested)."""
        return dataclasses.asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One-row data frame; the two scores as ``a_score`` and ``b_score``."""
        row = {k: v for k, v in self.to_dict().items() if k not in ("a", "b")}
        return pd.DataFrame([row | {"a_score": self.a.score, "b_score": self.b.score}])


def _bad(s: pd.Series, ok: np.ndarray, what: str, column: str | None) -> None:
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        value, label = (
            v.item() if isinstance(v, np.generic) else v for v in (s.iloc[i], s.index[i])
        )
        raise DataError(
            f"{what} {value!r} at index {label!r}; fix or drop that answer",
            row=i + 1,
            column=column,
        )


def _numbers(values: Any) -> tuple[pd.Series, np.ndarray]:
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_numeric_dtype(s) and s.dtype.kind != "b":
        return s, s.to_numpy(dtype=float, na_value=np.nan)

    def one(v: Any) -> float:
        if isinstance(v, str):
            v = v.strip()
            return float(v) if v.isascii() and v.isdigit() else np.nan
        numeric = isinstance(v, int | float | np.integer | np.floating)
        return float(v) if numeric and not isinstance(v, bool | np.bool_) else np.nan

    return s, np.fromiter((one(v) for v in s), dtype=float, count=len(s))


def _scores(scores: Any, column: str | None = None) -> np.ndarray:
    s, x = _numbers(scores)
    if len(x) == 0:
        raise DataError("no scores to compute an NPS from", column=column)
    ok = np.isfinite(x) & (np.round(x) == x) & (x >= 0) & (x <= 10)
    _bad(s, ok, "score is not a whole number from 0 to 10:", column)
    return x.astype(np.int64)


def _weights(weights: Any, n: int, column: str | None = None) -> np.ndarray:
    s, w = _numbers(weights)
    if len(w) != n:
        raise DataError(f"{len(w)} weights for {n} scores; give one weight per score")
    _bad(s, np.isfinite(w) & (w >= 0), "weight is not a non-negative number:", column)
    if w.sum() <= 0:
        raise DataError("the weights sum to zero; give at least one positive weight")
    return w


def _summarise(x: np.ndarray, w: np.ndarray | None, confidence: float, method: str) -> NpsResult:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, not {confidence}")
    w = np.ones(len(x)) if w is None else w
    total = w.sum()
    p_pro, p_det = w[x >= 9].sum() / total, w[x <= 6].sum() / total
    n_eff = total**2 / (w**2).sum()  # Kish (1965), Survey Sampling
    if method == "wald":
        m, a_pro, a_det = n_eff, p_pro, p_det
    elif method == "adjusted_wald":  # Rocks (2016): 3/4 to P and D, 3/2 to passives
        m = n_eff + 3.0
        a_pro, a_det = (n_eff * p_pro + 0.75) / m, (n_eff * p_det + 0.75) / m
    else:
        raise ValueError(f"method must be 'wald' or 'adjusted_wald', not {method!r}")
    centre = a_pro - a_det
    se = np.sqrt(max(a_pro + a_det - centre**2, 0.0) / m)
    z = stats.norm.ppf(0.5 + confidence / 2)
    return NpsResult(
        score=float(100.0 * (p_pro - p_det)),
        lower=float(max(-100.0, 100.0 * (centre - z * se))),
        upper=float(min(100.0, 100.0 * (centre + z * se))),
        std_error=float(100.0 * se),
        n=len(x),
        n_effective=float(n_eff),
        promoters=float(p_pro),
        passives=float(w[(x == 7) | (x == 8)].sum() / total),
        detractors=float(p_det),
        confidence=confidence,
        method=method,
    )


def nps(
    scores: Any, *, confidence: float = 0.95, weights: Any = None, method: Method = "wald"
) -> NpsResult:
    """Net Promoter Score of 0–10 answers with a normal-approximation confidence interval.

    Parameters
    ----------
    scores
        Whole numbers 0–10 (array, list or Series; digit strings such as ``"9"`` accepted).
    confidence
        Two-sided confidence level of the interval.
    weights
        Non-negative survey weights, one per score. Shares are weighted and the variance uses
        Kish's effective sample size n_eff = (Σw)² / Σw² (Kish 1965, Survey Sampling).
    method
        ``"wald"``: p̂_P − p̂_D ± z·√{[p̂_P + p̂_D − (p̂_P − p̂_D)²] / n} (Rocks 2016).
        ``"adjusted_wald"``: the same with 3 pseudo-answers (3/4 promoter, 3/4 detractor, 3/2
        passive): n' = n + 3, p'_P = (n_P + 3/4) / n', p'_D = (n_D + 3/4) / n', centred on
        p'_P − p'_D (Rocks 2016; Lewis & Sauro 2021, MeasuringU). Better coverage
        for small samples and extreme scores.

    Returns
    -------
    NpsResult
        ``score`` is always the unadjusted estimate; ``lower`` and ``upper`` are clipped to
        [−100, 100]; ``std_error`` is the one the interval uses.

    Raises
    ------
    DataError
        A score that is not a whole number 0–10, or a negative or non-numeric weight; the
        message names its index and value.
    """
    x = _scores(scores)
    w = None if weights is None else _weights(weights, len(x))
    return _summarise(x, w, confidence, method)


def nps_by(
    frame: pd.DataFrame,
    score: str,
    by: str | list[str],
    *,
    confidence: float = 0.95,
    weights: str | None = None,
    method: Method = "wald",
) -> pd.DataFrame:
    """NPS per group of the column(s) ``by``, plus a row ``"All"`` for every answer.

    Parameters
    ----------
    frame
        One row per answer.
    score, by, weights
        Column of 0–10 scores, grouping column(s) (segment, country, ...), optional weights.
    confidence, method
        As in :func:`nps`.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, then score, lower, upper, std_error, n, n_effective, promoters,
        passives, detractors; groups in sorted order, the ``"All"`` row last.
    """
    keys = [by] if isinstance(by, str) else list(by)
    needed = [score, *keys] + ([] if weights is None else [weights])
    missing = [c for c in needed if c not in frame]
    if missing:
        raise DataError(f"columns {missing} are not in the frame; it has {list(frame.columns)}")
    x = _scores(frame[score], column=score)
    w = None if weights is None else _weights(frame[weights], len(x), column=weights)
    rows = []
    groups = frame.groupby(keys, sort=True, dropna=False).indices
    for key, pos in [*groups.items(), (("All",) * len(keys), np.arange(len(x)))]:
        key = key if isinstance(key, tuple) else (key,)
        res = _summarise(x[pos], None if w is None else w[pos], confidence, method)
        values = {k: v for k, v in res.to_dict().items() if k not in ("confidence", "method")}
        rows.append(dict(zip(keys, key, strict=True)) | values)
    return pd.DataFrame(rows)


def nps_difference(a_scores: Any, b_scores: Any, *, confidence: float = 0.95) -> NpsDifference:
    """Difference of two NPS from independent samples (a − b), with a Wald z-test.

    SE = √(Var_a + Var_b), each variance as in :func:`nps` (Rocks 2016); the
    interval is (a − b) ± z·SE clipped to [−200, 200], z = (a − b) / SE and the p-value is
    two-sided from the standard normal. Valid only for independent samples (two waves or two
    groups of different respondents), not for the same respondents asked twice.
    """
    a = nps(a_scores, confidence=confidence)
    b = nps(b_scores, confidence=confidence)
    diff = float(a.score - b.score)
    se = float(np.hypot(a.std_error, b.std_error))
    z_crit = stats.norm.ppf(0.5 + confidence / 2)
    z = diff / se if se > 0 else (0.0 if diff == 0 else float(np.sign(diff) * np.inf))
    return NpsDifference(
        difference=diff,
        lower=float(max(-200.0, diff - z_crit * se)),
        upper=float(min(200.0, diff + z_crit * se)),
        std_error=se,
        z=float(z),
        p_value=float(2.0 * stats.norm.sf(abs(z))),
        confidence=confidence,
        a=a,
        b=b,
    )
