"""Pick the winning arm of a campaign A/B test, or say why none can be picked.

Pure: it takes summary statistics per arm and returns a decision, knowing nothing of databases
or campaigns. The rules, in order:

1. **Insufficient data** — any arm (primary metric or a guardrail) has fewer than
   ``min_sample`` units: no winner; send the fallback.
2. **Primary metric** — every variant is compared with the control
   (:func:`~streamwise.measure.experiments.compare`). A variant is a *candidate* when, with
   ``method="bayesian"`` (default), its chance to win is at least ``threshold`` (0.95); with
   ``"frequentist"`` or ``"sequential"``, when its Holm-adjusted p-value is below ``alpha`` and
   the effect points the right way. The control itself wins when every variant is confidently
   worse (chance to win at most ``1 - threshold``, or significantly worse).
3. **Guardrails** — for each candidate, best effect first, every guardrail metric is compared
   the same way. A guardrail fails when the metric moved the harmful way by more than its
   ``tolerance``: Bayesian, when the posterior probability of such harm is at least
   ``threshold``; frequentist or sequential, when the whole interval lies beyond the tolerance.
   A guardrail that cannot be estimated (a zero control mean, no variation) fails only when the
   observed value moved the harmful way beyond the tolerance. The first candidate that passes
   every guardrail wins; if all candidates fail, the status is ``"guardrail_failed"`` and the
   fallback is sent.
4. Otherwise the test is **inconclusive**: send the fallback (the control unless told).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from scipy import special

from streamwise.measure.experiments.compare import Stat, compare
from streamwise.measure.experiments.correction import adjust_p_values
from streamwise.measure.experiments.results import ComparisonResult, Method

__all__ = ["Guardrail", "Status", "WinnerDecision", "decide_winner"]

Status = Literal["winner", "inconclusive", "guardrail_failed", "insufficient_data"]


@dataclass(frozen=True)
class Guardrail:
    """A metric the winner must not harm, with its statistics per arm.

    Parameters
    ----------
    stats
        Statistics per arm (the same arm names as the primary metric).
    harmful
        Which direction hurts: ``"increase"`` (unsubscribe rate, complaints) or
        ``"decrease"`` (revenue, deliverability).
    tolerance
        Largest acceptable harmful change, as a relative change (0.10: may rise by up to 10 %)
        or, with ``relative=False``, in the metric's units.
    relative
        Whether ``tolerance`` is relative.

    Examples
    --------
    >>> from streamwise.measure.experiments import ProportionStat
    >>> unsubscribes = Guardrail(
    ...     {"A": ProportionStat(5_000, 15), "B": ProportionStat(5_000, 16)},
    ...     harmful="increase", tolerance=0.10)
    """

    stats: Mapping[str, Stat]
    harmful: Literal["increase", "decrease"] = "increase"
    tolerance: float = 0.0
    relative: bool = True

    def __post_init__(self) -> None:
        if self.harmful not in ("increase", "decrease"):
            raise ValueError(f"harmful must be 'increase' or 'decrease', got {self.harmful!r}")
        if not (math.isfinite(self.tolerance) and self.tolerance >= 0):
            raise ValueError(
                f"tolerance must be >= 0 (0.10 allows a 10 % harmful change), got "
                f"{self.tolerance!r}"
            )


@dataclass(frozen=True)
class WinnerDecision:
    """What to send, and why.

    Parameters
    ----------
    status
        ``"winner"``, ``"inconclusive"``, ``"guardrail_failed"`` or ``"insufficient_data"``.
    winner
        The winning arm, or None.
    fallback
        The arm to send when there is no winner (the control unless another was given).
    control
        The control arm.
    method
        The comparison method used.
    reasons
        Plain-English explanation, one sentence per finding.
    results
        Primary-metric comparison of each variant with the control.
    guardrail_results
        Guardrail name to (variant to comparison), for the candidates checked.
    """

    status: Status
    winner: str | None
    fallback: str
    control: str
    method: Method
    reasons: tuple[str, ...]
    results: Mapping[str, ComparisonResult] = field(default_factory=dict)
    guardrail_results: Mapping[str, Mapping[str, ComparisonResult]] = field(default_factory=dict)

    @property
    def chosen(self) -> str:
        """The arm to send: the winner, or else the fallback."""
        return self.winner if self.winner is not None else self.fallback

    def to_dict(self) -> dict[str, Any]:
        """The decision as plain data."""
        return {
            "status": self.status,
            "winner": self.winner,
            "fallback": self.fallback,
            "chosen": self.chosen,
            "control": self.control,
            "method": self.method,
            "reasons": list(self.reasons),
            "results": {k: v.to_dict() for k, v in self.results.items()},
            "guardrail_results": {
                g: {k: v.to_dict() for k, v in r.items()} for g, r in self.guardrail_results.items()
            },
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per variant and metric (``"primary"`` or the guardrail's name)."""
        rows = [{"metric": "primary", "arm": k, **v.to_dict()} for k, v in self.results.items()]
        for g, r in self.guardrail_results.items():
            rows += [{"metric": g, "arm": k, **v.to_dict()} for k, v in r.items()]
        return pd.DataFrame(rows)


def _pct(x: float, relative: bool) -> str:
    return f"{x:+.1%}" if relative else f"{x:+.4g}"


def _guardrail_harm(r: ComparisonResult, g: Guardrail, threshold: float) -> str | None:
    """Why the guardrail fails for this comparison, or None when it passes."""
    if r.effect is None or r.std_error is None:
        return _observed_harm(r, g)
    sign = 1.0 if g.harmful == "increase" else -1.0
    word = "rose" if g.harmful == "increase" else "fell"
    allowed = f"{g.tolerance:.1%}" if g.relative else f"{g.tolerance:.4g}"
    if r.method == "bayesian":
        # P(sign * effect > tolerance) under the Gaussian posterior N(effect, std_error**2)
        prob = float(special.ndtr((sign * r.effect - g.tolerance) / r.std_error))
        if prob >= threshold:
            return (
                f"{word} by {_pct(r.effect, r.relative)}, with a {prob:.1%} chance of more "
                f"than the {allowed} allowed"
            )
        return None
    if r.ci_low is None or r.ci_high is None:
        return None
    nearest = r.ci_low if sign > 0 else -r.ci_high
    if nearest > g.tolerance:
        return (
            f"{word} by {_pct(r.effect, r.relative)} (interval {_pct(r.ci_low, r.relative)} "
            f"to {_pct(r.ci_high, r.relative)}), beyond the {allowed} allowed"
        )
    return None


def _observed_harm(r: ComparisonResult, g: Guardrail) -> str | None:
    """Without an estimate (no variation, a zero control), fail only if the observed change is
    harmful beyond the tolerance: safety cannot be shown, and the data point the wrong way."""
    change = r.treatment_mean - r.control_mean
    if g.harmful == "decrease":
        change = -change
    limit = g.tolerance * abs(r.control_mean) if g.relative else g.tolerance
    if change > limit and change > 0:
        return (
            f"could not be estimated ({r.error_message}) and the observed value moved the "
            f"harmful way, from {r.control_mean:.4g} to {r.treatment_mean:.4g}"
        )
    return None


def decide_winner(
    arms: Mapping[str, Stat],
    *,
    control: str | None = None,
    guardrails: Mapping[str, Guardrail] | None = None,
    method: Method = "bayesian",
    threshold: float = 0.95,
    alpha: float = 0.05,
    min_sample: int = 100,
    fallback: str | None = None,
    inverse: bool = False,
    relative: bool = True,
) -> WinnerDecision:
    """Decide the winner of an A/B test on a primary metric, subject to guardrails.

    Parameters
    ----------
    arms
        Primary-metric statistics per arm name (:class:`ProportionStat`, :class:`MeanStat`, ...).
    control
        The control arm; the first arm when None.
    guardrails
        Guardrail name to :class:`Guardrail` (its stats must cover every arm).
    method
        ``"bayesian"`` (default), ``"frequentist"`` or ``"sequential"``.
    threshold
        Chance to win a Bayesian candidate needs (0.95); also the posterior probability of harm
        at which a Bayesian guardrail fails.
    alpha
        Significance level (frequentist and sequential; Holm-corrected over the variants) and
        1 minus the interval level.
    min_sample
        Units every arm needs before any decision.
    fallback
        Arm to send when there is no winner; the control when None.
    inverse
        Lower is better on the primary metric (e.g. cost per acquisition).
    relative
        Compare relative (default) or absolute effects on the primary metric.

    Returns
    -------
    WinnerDecision
    """
    names = list(arms)
    if len(names) < 2:
        raise ValueError("decide_winner needs at least two arms (a control and a variant)")
    control = names[0] if control is None else control
    for label, arm in (("control", control), ("fallback", fallback)):
        if arm is not None and arm not in arms:
            raise ValueError(f"{label} {arm!r} is not one of the arms {names}")
    if method not in ("bayesian", "frequentist", "sequential"):
        raise ValueError(
            f"method must be 'bayesian', 'frequentist' or 'sequential', got {method!r}"
        )
    if min_sample < 0:
        raise ValueError(f"min_sample must be a number of units >= 0, got {min_sample!r}")
    if not 0.5 < threshold < 1:
        raise ValueError(f"threshold must be between 0.5 and 1 (e.g. 0.95), got {threshold!r}")
    guardrails = dict(guardrails or {})
    for gname, g in guardrails.items():
        missing = [a for a in names if a not in g.stats]
        if missing:
            raise ValueError(
                f"guardrail {gname!r} has no statistics for arm(s) {missing}; pass one per arm"
            )
    fallback = control if fallback is None else fallback
    variants = [a for a in names if a != control]

    def decision(
        status: Status, winner: str | None, reasons: list[str], **kw: Any
    ) -> WinnerDecision:
        return WinnerDecision(status, winner, fallback, control, method, tuple(reasons), **kw)

    small = [
        f"arm {a!r} has {int(s.n):,} units on {metric}, fewer than the {min_sample:,} required"
        for metric, stats in [("the primary metric", arms)]
        + [(f"guardrail {g!r}", gr.stats) for g, gr in guardrails.items()]
        for a, s in stats.items()
        if a in arms and s.n < min_sample
    ]
    if small:
        return decision(
            "insufficient_data", None, [*small, f"keep collecting data; send {fallback!r}."]
        )

    options = {"method": method, "alpha": alpha}
    results = {
        v: compare(arms[control], arms[v], relative=relative, inverse=inverse, **options)
        for v in variants
    }
    reasons: list[str] = []
    good = -1.0 if inverse else 1.0
    candidates: list[str] = []
    worse: list[str] = []
    if method == "bayesian":
        for v, r in results.items():
            if r.chance_to_win is None:
                reasons.append(f"{v!r} could not be compared with {control!r}: {r.error_message}.")
                continue
            reasons.append(
                f"{v!r} vs {control!r}: {_pct(r.effect, relative)} "  # type: ignore[arg-type]
                f"with a {r.chance_to_win:.1%} chance to win."
            )
            if r.chance_to_win >= threshold:
                candidates.append(v)
            elif r.chance_to_win <= 1 - threshold:
                worse.append(v)
    else:
        tested = [v for v, r in results.items() if r.p_value is not None]
        adjusted = adjust_p_values([results[v].p_value for v in tested], "holm")
        for v, p in zip(tested, adjusted, strict=True):
            results[v] = results[v].with_adjusted_p_value(float(p), "holm")
        for v, r in results.items():
            if r.adjusted_p_value is None:
                reasons.append(f"{v!r} could not be compared with {control!r}: {r.error_message}.")
                continue
            reasons.append(
                f"{v!r} vs {control!r}: {_pct(r.effect, relative)} "  # type: ignore[arg-type]
                f"(p = {r.adjusted_p_value:.3g} after Holm's correction)."
            )
            if r.adjusted_p_value < alpha:
                (candidates if good * r.effect > 0 else worse).append(v)  # type: ignore[operator]

    if not candidates:
        if variants and len(worse) == len(variants):
            reasons.append(f"every variant is confidently worse than {control!r}: it wins.")
            return decision("winner", control, reasons, results=results)
        reasons.append(f"no variant is a clear winner; send {fallback!r}.")
        return decision("inconclusive", None, reasons, results=results)

    candidates.sort(key=lambda v: -good * results[v].effect)  # type: ignore[operator]
    checked: dict[str, dict[str, ComparisonResult]] = {g: {} for g in guardrails}
    for v in candidates:
        failures = []
        for gname, g in guardrails.items():
            r = compare(g.stats[control], g.stats[v], relative=g.relative, **options)
            checked[gname][v] = r
            harm = _guardrail_harm(r, g, threshold)
            if harm is not None:
                failures.append(f"guardrail {gname!r} {harm} for {v!r}")
            elif r.error_message is not None:
                reasons.append(f"guardrail {gname!r} could not be checked for {v!r}: "
                               f"{r.error_message}.")  # fmt: skip
        if not failures:
            reasons.append(f"{v!r} wins and passes every guardrail.")
            return decision("winner", v, reasons, results=results, guardrail_results=checked)
        reasons.extend(f + "." for f in failures)
    reasons.append(f"every candidate failed a guardrail; send {fallback!r}.")
    return decision("guardrail_failed", None, reasons, results=results, guardrail_results=checked)
