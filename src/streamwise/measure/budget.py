"""Budget allocation across channels (or channel/segment pairs) from their response curves.

:func:`optimise_budget` splits a total spend per period across :class:`~streamwise.measure.curves.
HillCurve` response curves to maximise the expected outcome value (or a risk-adjusted version of
it) under bounds, fixed spends, group constraints and a limit on change from the current
allocation, and returns a :class:`BudgetAllocation` that compares the result with the current
allocation on the joint posterior draws.

Why not a gradient method from an equal split? A Hill curve ``beta * x**S / (x**S + K**S)`` with
``S > 1`` is S-shaped: convex below its inflection point, concave above. The sum of such curves is
not concave, so a local optimiser can stop at a stationary point that is far from the best
allocation. The equal split is such a point whenever curves are alike (equal marginal returns
satisfy the first-order conditions), and with spend in large currency units the gradient is tiny
there too; pymc-marketing's ``BudgetOptimizer`` (SLSQP started from an equal split) returns the
equal split for these reasons (pymc-labs/pymc-marketing issues #1624 and #1681). Streamwise first
solves the problem exactly on a fine spend grid by dynamic programming (exact for a separable
objective under a sum constraint, whatever the curves' shapes) and only then polishes locally.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from streamwise.errors import ConfigError
from streamwise.measure.budget_solver import ObjectiveKind, Program, ValueObjective, solve
from streamwise.measure.curves import HillCurve

__all__ = ["BudgetAllocation", "GroupConstraint", "optimise_budget", "segment_key"]


def segment_key(channel: str, segment: str) -> str:
    """The curve key of a channel within a segment, ``"channel/segment"``."""
    return f"{channel}/{segment}"


@dataclass(frozen=True)
class GroupConstraint:
    """Spend on a set of keys together between limits, in money or as a share of the total.

    Parameters
    ----------
    members
        Keys or key prefixes: ``"search"`` matches the key ``"search"`` and every
        ``"search/<segment>"`` key.
    low, high
        Limits on the group's summed spend.
    min_share, max_share
        Limits as shares of the total (``min_share=0.2`` is "at least 20% of the budget").
    name
        Label in reports; defaults to the members joined by ``+``.
    """

    members: tuple[str, ...] | str
    low: float = 0.0
    high: float = math.inf
    min_share: float = 0.0
    max_share: float = 1.0
    name: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.members, str):
            object.__setattr__(self, "members", (self.members,))
        if not self.name:
            object.__setattr__(self, "name", "+".join(self.members))

    def limits(self, total: float) -> tuple[float, float]:
        """The group's spend limits for a given total."""
        return max(self.low, self.min_share * total), min(self.high, self.max_share * total)


@dataclass(frozen=True, eq=False)
class BudgetAllocation:
    """The optimised allocation, what it is expected to return, and how it compares.

    Money values are outcome units times each curve's ``value_per_unit``; intervals are central
    posterior intervals of the sum over keys, computed per joint draw.
    """

    allocation: dict[str, float]
    total: float
    objective: str
    objective_value: float
    outcome: float
    outcome_interval: tuple[float, float]
    value: float
    value_interval: tuple[float, float]
    interval: float
    response: dict[str, float]
    roi: dict[str, float]
    marginal_roi: dict[str, float]
    bounds: dict[str, tuple[float, float]]
    active: tuple[str, ...]
    method: str
    grid_step: float
    current: dict[str, float] | None = None
    current_value: float | None = None
    uplift: float | None = None
    uplift_interval: tuple[float, float] | None = None
    probability_better: float | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row per key: spend, share, expected response and value, ROI, marginal ROI,
        bounds, and the current spend and change when a current allocation was given."""
        keys = list(self.allocation)
        frame = pd.DataFrame(
            {
                "key": keys,
                "channel": [k.split("/", 1)[0] for k in keys],
                "segment": [k.split("/", 1)[1] if "/" in k else None for k in keys],
                "spend": [self.allocation[k] for k in keys],
                "share": [self.allocation[k] / self.total if self.total else 0.0 for k in keys],
                "response": [self.response[k] for k in keys],
                "roi": [self.roi[k] for k in keys],
                "marginal_roi": [self.marginal_roi[k] for k in keys],
                "lower": [self.bounds[k][0] for k in keys],
                "upper": [self.bounds[k][1] for k in keys],
            }
        )
        if self.current is not None:
            frame["current"] = [self.current[k] for k in keys]
            frame["change"] = frame["spend"] - frame["current"]
        return frame

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready)."""
        out: dict[str, Any] = {
            "total": self.total,
            "objective": self.objective,
            "objective_value": self.objective_value,
            "allocation": dict(self.allocation),
            "outcome": self.outcome,
            "outcome_interval": list(self.outcome_interval),
            "value": self.value,
            "value_interval": list(self.value_interval),
            "interval": self.interval,
            "response": dict(self.response),
            "roi": dict(self.roi),
            "marginal_roi": dict(self.marginal_roi),
            "bounds": {k: list(v) for k, v in self.bounds.items()},
            "active": list(self.active),
            "method": self.method,
            "grid_step": self.grid_step,
        }
        if self.current is not None:
            out |= {
                "current": dict(self.current),
                "current_value": self.current_value,
                "uplift": self.uplift,
                "uplift_interval": list(self.uplift_interval or ()),
                "probability_better": self.probability_better,
            }
        return out

    def summary(self) -> dict[str, float]:
        """Headline numbers: expected outcome and value with interval bounds, the objective, and
        the comparison with the current allocation when one was given."""
        out = {
            "objective_value": self.objective_value,
            "outcome": self.outcome,
            "outcome_low": self.outcome_interval[0],
            "outcome_high": self.outcome_interval[1],
            "value": self.value,
            "value_low": self.value_interval[0],
            "value_high": self.value_interval[1],
        }
        if self.uplift is not None and self.uplift_interval is not None:
            out |= {
                "current_value": float(self.current_value or 0.0),
                "uplift": self.uplift,
                "uplift_low": self.uplift_interval[0],
                "uplift_high": self.uplift_interval[1],
                "probability_better": float(self.probability_better or 0.0),
            }
        return out

    def describe_uplift(self) -> str:
        """One sentence on the expected gain over the current allocation, for reports."""
        pct = f"{self.interval:.0%}"
        if self.uplift is None or self.uplift_interval is None:
            return f"Expected value {self.value:,.2f} per period."
        lo, hi = self.uplift_interval
        return (
            f"Expected value {self.uplift:+,.2f} per period against the current split ({pct} "
            f"interval {lo:+,.2f} to {hi:+,.2f}); better in {self.probability_better:.0%} of "
            f"posterior draws."
        )

    def __str__(self) -> str:
        pct = f"{self.interval:.0%}"
        lines = [
            f"Budget {self.total:,.2f} per period, objective {self.objective} ({self.method})",
            f"Expected outcome {self.outcome:,.2f} ({pct} interval {self.outcome_interval[0]:,.2f}"
            f" to {self.outcome_interval[1]:,.2f}); value {self.value:,.2f}",
        ]
        if self.uplift is not None and self.uplift_interval is not None:
            lines.append(self.describe_uplift())
        frame = self.to_frame()
        cols = ["key", "spend", "share", "roi", "marginal_roi"]
        cols += ["current", "change"] if self.current is not None else []
        lines.append(frame[cols].to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
        if self.active:
            lines.append("Binding: " + "; ".join(self.active))
        return "\n".join(lines)


def _check_keys(given: Mapping[str, Any] | None, keys: Sequence[str], what: str) -> None:
    unknown = sorted(set(given or {}) - set(keys))
    if unknown:
        raise ConfigError(
            f"{what} name unknown keys {unknown}; use keys of the curves: {sorted(keys)}"
        )


def _resolve(members: Sequence[str], keys: Sequence[str], name: str) -> np.ndarray:
    mask = np.zeros(len(keys), dtype=bool)
    for member in members:
        hit = np.array([k == member or k.startswith(member + "/") for k in keys])
        if not hit.any():
            raise ConfigError(
                f"group {name!r}: {member!r} matches no curve key; use a key or a channel prefix"
                f" of {sorted(keys)}"
            )
        mask |= hit
    return mask


def _feasibility(prog: Program, keys: Sequence[str], names: Sequence[str]) -> None:
    lo_sum, hi_sum = prog.lower.sum(), prog.upper.sum()
    tol = 1e-9 * max(prog.total, 1.0)
    if lo_sum > prog.total + tol:
        worst = sorted(zip(prog.lower, keys, strict=True), reverse=True)[:3]
        raise ConfigError(
            f"the lower bounds (bounds, fixed spends, max_change, minimum shares) add up to "
            f"{lo_sum:,.2f}, more than the total {prog.total:,.2f}; lower them (largest: "
            + ", ".join(f"{k}={v:,.2f}" for v, k in worst)
            + f") or raise the total to at least {lo_sum:,.2f}"
        )
    if hi_sum < prog.total - tol:
        raise ConfigError(
            f"the upper bounds add up to {hi_sum:,.2f}, less than the total {prog.total:,.2f}, "
            f"so the budget cannot be spent; raise upper bounds (or max_change) or lower the "
            f"total to at most {hi_sum:,.2f}"
        )
    for m, lo, hi, name in zip(prog.masks, prog.low, prog.high, names, strict=True):
        if lo > prog.upper[m].sum() + tol or hi < prog.lower[m].sum() - tol or lo > hi + tol:
            raise ConfigError(
                f"group {name!r} must spend between {lo:,.2f} and {hi:,.2f}, but its keys' own "
                f"bounds allow {prog.lower[m].sum():,.2f} to {prog.upper[m].sum():,.2f}; "
                f"change the group limits or the keys' bounds"
            )
    if len(prog.masks) and prog.project(prog.lower + 0.0) is None:
        raise ConfigError(
            f"the groups {list(names)} cannot all be met together with the bounds and the total "
            f"{prog.total:,.2f}; loosen one of the group limits"
        )


def _bounds(
    keys: Sequence[str],
    total: float,
    bounds: Mapping[str, tuple[float, float]] | None,
    fixed: Mapping[str, float] | None,
    current: Mapping[str, float] | None,
    max_change: float | None,
) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    n = len(keys)
    lower, upper = np.zeros(n), np.full(n, float(total))
    lo_src, hi_src = ["zero"] * n, ["total"] * n
    for i, k in enumerate(keys):
        if bounds and k in bounds:
            lo, hi = (float(v) for v in bounds[k])
            if not (0 <= lo <= hi):
                raise ConfigError(f"bounds[{k!r}] = ({lo}, {hi}): need 0 <= lower <= upper")
            lower[i], upper[i] = lo, min(hi, total)
            lo_src[i], hi_src[i] = "bounds", "bounds"
        if max_change is not None and current is not None:
            lo, hi = current[k] * (1 - max_change), current[k] * (1 + max_change)
            if lo > lower[i]:
                lower[i], lo_src[i] = lo, "max_change"
            if hi < upper[i]:
                upper[i], hi_src[i] = hi, "max_change"
            if lower[i] > upper[i] + 1e-12:
                raise ConfigError(
                    f"{k}: max_change={max_change} allows {lo:,.2f} to {hi:,.2f} but its bounds "
                    f"are {bounds[k] if bounds and k in bounds else (0, total)}; "
                    f"widen max_change or the bounds"
                )
        if fixed and k in fixed:
            v = float(fixed[k])
            if v < 0 or (bounds and k in bounds and not bounds[k][0] <= v <= bounds[k][1]):
                raise ConfigError(f"fixed[{k!r}] = {v} is negative or outside its bounds")
            lower[i] = upper[i] = v
            lo_src[i], hi_src[i] = "fixed", "fixed"
    return lower, upper, lo_src, hi_src


def optimise_budget(
    curves: Mapping[str, HillCurve],
    total: float,
    *,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    fixed: Mapping[str, float] | None = None,
    groups: Sequence[GroupConstraint] = (),
    objective: ObjectiveKind = "mean",
    risk_aversion: float = 1.0,
    quantile: float = 0.1,
    current: Mapping[str, float] | None = None,
    max_change: float | None = None,
    interval: float = 0.9,
    grid: int = 1000,
) -> BudgetAllocation:
    """Split ``total`` spend per period across response curves to maximise outcome value.

    Parameters
    ----------
    curves
        Response curve per key; keys are channels or ``"channel/segment"`` (see
        :func:`segment_key`). Curves with draws must share one draw count (joint draws).
    total
        Spend per period to allocate, all of it.
    bounds
        ``(lower, upper)`` spend per key; others may take 0 to ``total``.
    fixed
        Keys whose spend is set, not optimised.
    groups
        :class:`GroupConstraint` limits on sums of keys; a one-key group is a bound (e.g.
        "tv at least 20% of the budget": ``GroupConstraint("tv", min_share=0.2)``).
    objective
        ``"mean"``: expected value; ``"risk_adjusted"``: mean minus ``risk_aversion`` standard
        deviations of the total value over draws; ``"quantile"``: the ``quantile`` of the total
        value over draws (e.g. 0.1, a value exceeded with 90% probability).
    risk_aversion, quantile
        Parameters of the risk-adjusted objectives.
    current
        Current spend per key (every key), to compare against.
    max_change
        Keep each key within ``current * (1 ± max_change)``; needs ``current``.
    interval
        Width of the central posterior intervals reported.
    grid
        Grid points for the exact stage: the solution is the global optimum of the separable
        objective up to ``(total - sum of lower bounds) / grid`` per key, polished locally.

    Returns
    -------
    BudgetAllocation

    Raises
    ------
    ConfigError
        On a negative total, unknown keys, inconsistent bounds, or constraints no allocation
        can meet (the message names the constraint and what to change).

    Notes
    -----
    Hill curves with ``S > 1`` are S-shaped, so the objective is not concave and a local
    optimiser started from an equal split can stop there (pymc-marketing issues #1624, #1681).
    Here a dynamic programme over a grid of ``grid`` spend steps finds the global optimum of the
    separable objective (the posterior-mean value, or for the risk-adjusted objectives the sum of
    per-key risk-adjusted values, a conservative surrogate), with nested groups solved as a tree
    of max-plus convolutions; SLSQP (pairwise transfers for a quantile) then polishes it on the
    exact objective within the constraints, kept only if it improves. Groups that cross (overlap
    without nesting) are enforced by the polish and a final projection only.
    """
    keys = list(curves)
    if not keys:
        raise ConfigError("no response curves given; pass at least one curve")
    if not (math.isfinite(total) and total >= 0):
        raise ConfigError(f"total must be a finite non-negative spend, got {total}")
    if objective not in ("mean", "risk_adjusted", "quantile"):
        raise ConfigError(f"objective {objective!r}: use 'mean', 'risk_adjusted' or 'quantile'")
    if not 0 < quantile < 1 or risk_aversion < 0 or not 0 < interval < 1 or grid < 2:
        raise ConfigError("need 0 < quantile < 1, risk_aversion >= 0, 0 < interval < 1, grid >= 2")
    draws = {c.n_draws for c in curves.values()} - {1}
    if len(draws) > 1:
        raise ConfigError(
            f"curves have different draw counts {sorted(draws)}; pass curves from one posterior "
            f"(equal draws, or point curves with one)"
        )
    _check_keys(bounds, keys, "bounds")
    _check_keys(fixed, keys, "fixed")
    _check_keys(current, keys, "current")
    if current is not None and (missing := sorted(set(keys) - set(current))):
        raise ConfigError(f"current has no spend for {missing}; give every key (0 if unfunded)")
    if max_change is not None and (current is None or max_change < 0):
        raise ConfigError("max_change needs current spend per key and must be >= 0")

    lower, upper, lo_src, hi_src = _bounds(keys, total, bounds, fixed, current, max_change)
    masks, low, high, names = [], [], [], []
    for g in groups:
        mask = _resolve(g.members, keys, g.name)
        lo, hi = g.limits(total)
        if mask.sum() == 1:  # a one-key group is a bound
            i = int(np.flatnonzero(mask)[0])
            if lo > lower[i]:
                lower[i], lo_src[i] = lo, g.name
            if hi < upper[i]:
                upper[i], hi_src[i] = hi, g.name
            if lower[i] > upper[i] + 1e-12:
                raise ConfigError(
                    f"group {g.name!r} asks {keys[i]} for {lo:,.2f} to {hi:,.2f}, outside its "
                    f"other bounds; change one of them"
                )
            continue
        masks.append(mask)
        low.append(lo)
        high.append(hi)
        names.append(g.name)
    prog = Program(
        lower,
        upper,
        float(total),
        np.array(masks, dtype=bool).reshape(len(masks), len(keys)),
        np.array(low, dtype=float),
        np.array(high, dtype=float),
    )
    _feasibility(prog, keys, names)

    obj = ValueObjective(
        [curves[k] for k in keys], objective, risk_aversion=risk_aversion, quantile=quantile
    )
    x, method, step = solve(obj, prog, grid)
    x = _exact_total(x, prog)
    return _report(keys, obj, prog, x, lo_src, hi_src, names, method, step, current, interval)


def _exact_total(x: np.ndarray, prog: Program) -> np.ndarray:
    """Snap spends within rounding of a bound onto it, then put the residual on the keys with
    most room, so the spend sums to the total."""
    tol = 1e-9 * max(prog.total, 1.0)
    x = np.clip(x, prog.lower, prog.upper)
    x = np.where(x - prog.lower <= tol, prog.lower, np.where(prog.upper - x <= tol, prog.upper, x))
    for _ in range(3):
        residual = prog.total - x.sum()
        room = prog.upper - x if residual > 0 else x - prog.lower
        interior = (x > prog.lower) & (x < prog.upper)
        if room[interior].sum() > abs(residual):
            room = np.where(interior, room, 0.0)
        if abs(residual) <= 1e-12 * max(prog.total, 1.0) or room.sum() <= 0:
            break
        x = np.clip(x + residual * room / room.sum(), prog.lower, prog.upper)
    return x


def _report(
    keys: list[str],
    obj: ValueObjective,
    prog: Program,
    x: np.ndarray,
    lo_src: list[str],
    hi_src: list[str],
    names: list[str],
    method: str,
    step: float,
    current: Mapping[str, float] | None,
    interval: float,
) -> BudgetAllocation:
    q = [(1 - interval) / 2, (1 + interval) / 2]
    vals = obj.draws(x)
    outcome = vals / obj.vpu  # outcome units per draw and key
    tot_val, tot_out = vals.sum(axis=1), outcome.sum(axis=1)
    resp = outcome.mean(axis=0)
    marg = obj.marginal_draws(x).mean(axis=0)
    tol = 1e-6 * max(prog.total, 1.0)
    active: list[str] = []
    for i, k in enumerate(keys):
        if prog.lower[i] == prog.upper[i]:
            why = lo_src[i] if lo_src[i] != "zero" else hi_src[i]
            active.append(f"{k} held at {x[i]:,.2f} ({why})")
        elif x[i] <= prog.lower[i] + tol and lo_src[i] != "zero":
            active.append(f"{k} at its lower bound {prog.lower[i]:,.2f} ({lo_src[i]})")
        elif x[i] >= prog.upper[i] - tol and hi_src[i] != "total":
            active.append(f"{k} at its upper bound {prog.upper[i]:,.2f} ({hi_src[i]})")
    for m, lo, hi, name in zip(prog.masks, prog.low, prog.high, names, strict=True):
        s = x[m].sum()
        if s <= lo + tol and lo > 0:
            active.append(f"group {name} at its minimum {lo:,.2f}")
        elif s >= hi - tol:
            active.append(f"group {name} at its maximum {hi:,.2f}")
    extra: dict[str, Any] = {}
    if current is not None:
        cur = np.array([current[k] for k in keys], dtype=float)
        cur_val = obj.draws(cur).sum(axis=1)
        diff = tot_val - cur_val
        scale = max(np.abs(tot_val).max(), 1e-300)
        ties = np.abs(diff) <= 1e-12 * scale
        extra = {
            "current": dict(zip(keys, cur.tolist(), strict=True)),
            "current_value": float(cur_val.mean()),
            "uplift": float(diff.mean()),
            "uplift_interval": tuple(float(v) for v in np.quantile(diff, q)),
            "probability_better": float(np.mean(diff > 0) + 0.5 * np.mean(ties)),
        }
    with np.errstate(divide="ignore", invalid="ignore"):
        roi = np.where(x > 0, obj.vpu * resp / x, np.nan)
    return BudgetAllocation(
        allocation=dict(zip(keys, x.tolist(), strict=True)),
        total=prog.total,
        objective=obj.kind,
        objective_value=obj.value(x),
        outcome=float(tot_out.mean()),
        outcome_interval=tuple(float(v) for v in np.quantile(tot_out, q)),  # type: ignore[arg-type]
        value=float(tot_val.mean()),
        value_interval=tuple(float(v) for v in np.quantile(tot_val, q)),  # type: ignore[arg-type]
        interval=interval,
        response=dict(zip(keys, resp.tolist(), strict=True)),
        roi=dict(zip(keys, roi.tolist(), strict=True)),
        marginal_roi=dict(zip(keys, marg.tolist(), strict=True)),
        bounds={
            k: (float(lo), float(hi))
            for k, lo, hi in zip(keys, prog.lower, prog.upper, strict=True)
        },
        active=tuple(active),
        method=method,
        grid_step=step,
        **extra,
    )
