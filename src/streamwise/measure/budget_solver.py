"""Numerics behind :func:`streamwise.measure.budget.optimise_budget`.

Two stages. First an exact dynamic programme over a spend grid: the objective is (or, for the
risk-adjusted objectives, is replaced by a separable surrogate that is) a sum of one function per
key, and the budget is a sum constraint, so a max-plus convolution of the per-key value tables
finds the global optimum on the grid whatever the shape of the curves (Bellman 1957, ch. 1; the
classical resource-allocation DP). Nested group constraints ("search keys together between lo
and hi") are a tree of such convolutions. Second a local polish from the grid optimum: SLSQP
with analytic gradients for smooth objectives, pairwise transfers for a quantile, then a
projection onto the constraints by linear programming if anything is left slightly outside.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import optimize, special

from streamwise.measure.curves import HillCurve

__all__ = ["ObjectiveKind", "Program", "ValueObjective", "solve"]

ObjectiveKind = Literal["mean", "risk_adjusted", "quantile"]


class ValueObjective:
    """Money value of an allocation: mean, mean minus ``risk_aversion`` standard deviations, or a
    lower quantile of the joint posterior draws of ``sum_i value_per_unit_i * response_i(x_i)``.

    Parameters
    ----------
    curves
        One curve per key, in key order; draw counts are 1 or a common ``n_draws``.
    kind
        Which summary of the draws to maximise.
    risk_aversion
        The λ of ``mean - λ * sd`` (``kind="risk_adjusted"``).
    quantile
        The probability level of the quantile (``kind="quantile"``).
    """

    def __init__(
        self,
        curves: Sequence[HillCurve],
        kind: ObjectiveKind = "mean",
        risk_aversion: float = 1.0,
        quantile: float = 0.1,
    ) -> None:
        self.curves = list(curves)
        self.kind = kind
        self.risk_aversion = risk_aversion
        self.quantile = quantile
        self.vpu = np.array([c.value_per_unit for c in self.curves], dtype=np.float64)
        self.n_draws = max(c.n_draws for c in self.curves)
        # parameters stacked as (n_draws, n_keys), for whole-allocation evaluation at once
        n = self.n_draws
        self._beta = np.column_stack([np.broadcast_to(c.beta, n) for c in self.curves]) * self.vpu
        self._log_k = np.column_stack([np.broadcast_to(np.log(c.K), n) for c in self.curves])
        self._s = np.column_stack([np.broadcast_to(c.S, n) for c in self.curves])

    def _hill(self, x: np.ndarray) -> np.ndarray:
        """``Hill(x_i; K, S)`` per draw and key, as :meth:`HillCurve.response_draws` computes it."""
        with np.errstate(divide="ignore"):
            log_ratio = self._s * (self._log_k - np.log(np.maximum(x, 0.0)))
        return special.expit(-log_ratio)

    def draws(self, x: np.ndarray) -> np.ndarray:
        """Value per draw and key, shape ``(n_draws, n_keys)``."""
        return self._beta * self._hill(np.asarray(x, dtype=np.float64))

    def marginal_draws(self, x: np.ndarray) -> np.ndarray:
        """Marginal value per draw and key, shape ``(n_draws, n_keys)``."""
        x = np.maximum(np.asarray(x, dtype=np.float64), 1e-300)
        h = self._hill(x)
        m = self._beta * self._s * h * (1.0 - h) / x
        return np.nan_to_num(m, nan=0.0, posinf=1e12)

    def score(self, totals: np.ndarray) -> np.ndarray:
        """The objective of total value draws (along the last axis)."""
        if self.kind == "mean":
            return totals.mean(axis=-1)
        if self.kind == "risk_adjusted":
            return totals.mean(axis=-1) - self.risk_aversion * totals.std(axis=-1)
        return np.quantile(totals, self.quantile, axis=-1)

    def value(self, x: np.ndarray) -> float:
        """The objective at allocation ``x``."""
        return float(self.score(self.draws(x).sum(axis=1)))

    def gradient(self, x: np.ndarray) -> np.ndarray:
        """Gradient of a smooth objective (``mean`` or ``risk_adjusted``) at ``x``."""
        m = self.marginal_draws(x)
        grad = m.mean(axis=0)
        if self.kind == "risk_adjusted":
            t = self.draws(x).sum(axis=1)
            sd = t.std()
            if sd > 0:
                cov = (t - t.mean()) @ (m - grad) / len(t)
                grad = grad - self.risk_aversion * cov / sd
        return grad

    def table(self, i: int, spend: np.ndarray) -> np.ndarray:
        """Separable value of key ``i`` at each spend level: exact for ``mean``; for the others,
        the key's own summary (the sum of per-key standard deviations or quantiles is the
        objective of perfectly correlated keys, a conservative surrogate)."""
        c = self.curves[i]
        with np.errstate(divide="ignore"):
            work = np.subtract.outer(np.log(c.K), np.log(np.maximum(spend, 0.0)))
        work *= -c.S[:, None]
        special.expit(work, out=work)  # Hill(x; K, S) per draw and spend level
        beta = c.beta * self.vpu[i]
        if self.kind == "mean":
            return beta @ work / len(beta)
        work *= beta[:, None]
        return self.score(work.T)


@dataclass(frozen=True)
class Program:
    """Feasible set: ``lower <= x <= upper``, ``sum(x) == total`` and, for each group row
    ``masks[g]``, ``low[g] <= x[masks[g]].sum() <= high[g]``."""

    lower: np.ndarray
    upper: np.ndarray
    total: float
    masks: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    low: np.ndarray = field(default_factory=lambda: np.zeros(0))
    high: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def violation(self, x: np.ndarray) -> float:
        """Largest constraint violation at ``x`` (spend units)."""
        worst = max(abs(x.sum() - self.total), float(np.max(self.lower - x, initial=0.0)))
        worst = max(worst, float(np.max(x - self.upper, initial=0.0)))
        if len(self.masks):
            sums = self.masks.astype(float) @ x
            worst = max(worst, float(np.max(self.low - sums)), float(np.max(sums - self.high)))
        return max(worst, 0.0)

    def project(self, x0: np.ndarray) -> np.ndarray | None:
        """The feasible point nearest to ``x0`` in L1 distance (a linear programme), or None."""
        n = len(x0)
        # variables: x (n), d (n) with d >= |x - x0|; minimise sum(d)
        c = np.r_[np.zeros(n), np.ones(n)]
        eye = np.eye(n)
        a_ub = [np.c_[eye, -eye], np.c_[-eye, -eye]]
        b_ub = [x0, -x0]
        if len(self.masks):
            m = self.masks.astype(float)
            fin_hi, fin_lo = np.isfinite(self.high), np.isfinite(self.low)
            a_ub += [np.c_[m[fin_hi], np.zeros((fin_hi.sum(), n))]]
            a_ub += [np.c_[-m[fin_lo], np.zeros((fin_lo.sum(), n))]]
            b_ub += [self.high[fin_hi], -self.low[fin_lo]]
        res = optimize.linprog(
            c,
            A_ub=np.vstack(a_ub),
            b_ub=np.concatenate(b_ub),
            A_eq=np.r_[np.ones(n), np.zeros(n)][None, :],
            b_eq=[self.total],
            bounds=[(lo, hi) for lo, hi in zip(self.lower, self.upper, strict=True)]
            + [(0, None)] * n,
            method="highs",
        )
        return np.asarray(res.x[:n]) if res.status == 0 else None


@dataclass(eq=False)
class _Node:
    """A key (leaf) or a merged set of keys with its best value for each grid total."""

    table: np.ndarray
    members: frozenset[int]
    leaf: int = -1
    left: _Node | None = None
    right: _Node | None = None
    arg: np.ndarray | None = None  # units given to ``left`` for each total


def _merge(a: _Node, b: _Node, limit: int) -> _Node:
    """Max-plus convolution ``c[g] = max_k a[k] + b[g - k]`` (k over the shorter table)."""
    if len(a.table) > len(b.table):
        a, b = b, a
    la, lb = len(a.table), len(b.table)
    lc = min(la + lb - 1, limit + 1)
    # row g of the window view holds b[g - la + 1 .. g]; reversed, column k is b[g - k]
    padded = np.concatenate([np.full(la - 1, -np.inf), b.table, np.full(la, -np.inf)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, la)[:lc, ::-1]
    vals = windows + a.table[None, :]
    arg = vals.argmax(axis=1)
    return _Node(vals[np.arange(lc), arg], a.members | b.members, left=a, right=b, arg=arg)


def _backtrack(node: _Node, units: int, out: np.ndarray) -> None:
    stack = [(node, units)]
    while stack:
        nd, g = stack.pop()
        if nd.leaf >= 0:
            out[nd.leaf] = g
        elif nd.right is None:  # a group: bounds only
            stack.append((nd.left, g))  # type: ignore[arg-type]
        else:
            k = int(nd.arg[g])  # type: ignore[index]
            stack += [(nd.left, k), (nd.right, g - k)]  # type: ignore[list-item]


def laminar(masks: np.ndarray) -> np.ndarray:
    """Which group rows form a nested family (each pair disjoint or one inside the other),
    taking smaller groups first; the rest are only enforced by the local polish."""
    keep = np.zeros(len(masks), dtype=bool)
    for g in np.argsort(masks.sum(axis=1), kind="stable"):
        ok = True
        for h in np.flatnonzero(keep):
            inter = np.any(masks[g] & masks[h])
            if inter and not (np.all(masks[h] <= masks[g]) or np.all(masks[g] <= masks[h])):
                ok = False
                break
        keep[g] = ok
    return keep


def _grid_optimum(obj: ValueObjective, prog: Program, grid: int) -> tuple[np.ndarray, float]:
    """Global optimum of the separable objective on the spend grid (tree DP)."""
    rest = prog.total - prog.lower.sum()
    step = rest / grid
    caps = np.minimum(np.floor((prog.upper - prog.lower) / step + 1e-9), grid).astype(int)
    items = [
        _Node(obj.table(i, prog.lower[i] + step * np.arange(caps[i] + 1)), frozenset([i]), leaf=i)
        for i in range(len(caps))
    ]
    nested = laminar(prog.masks) if len(prog.masks) else np.zeros(0, dtype=bool)
    for g in sorted(np.flatnonzero(nested), key=lambda g: prog.masks[g].sum()):
        members = frozenset(np.flatnonzero(prog.masks[g]).tolist())
        inside = [it for it in items if it.members <= members]
        items = [it for it in items if not it.members <= members]
        node = inside[0]
        for other in inside[1:]:
            node = _merge(node, other, grid)
        base = prog.lower[list(members)].sum()
        units = np.arange(len(node.table))
        lo = math.ceil((prog.low[g] - base) / step - 1e-9)
        hi = (prog.high[g] - base) / step + 1e-9
        table = np.where((units >= lo) & (units <= hi), node.table, -np.inf)
        items.append(_Node(table, members, left=node))
    root = items[0]
    for other in items[1:]:
        root = _merge(root, other, grid)
    finite = np.flatnonzero(np.isfinite(root.table))
    out = np.zeros(len(caps), dtype=int)
    if len(finite) == 0:
        return prog.lower.copy(), step
    units = grid if grid in finite else int(finite.max())
    _backtrack(root, units, out)
    return prog.lower + step * out, step


def _slsqp(obj: ValueObjective, prog: Program, x0: np.ndarray) -> np.ndarray:
    """Local polish with SLSQP in budget shares (well scaled whatever the currency)."""
    s = prog.total
    scale = max(abs(obj.value(x0)), 1e-12)
    cons = [{"type": "eq", "fun": lambda z: z.sum() - 1.0, "jac": lambda z: np.ones_like(z)}]
    for m, lo, hi in zip(prog.masks.astype(float), prog.low, prog.high, strict=True):
        if np.isfinite(lo) and lo > 0:
            cons.append(
                {
                    "type": "ineq",
                    "fun": lambda z, m=m, lo=lo: m @ z - lo / s,
                    "jac": lambda z, m=m: m,
                }
            )
        if np.isfinite(hi):
            cons.append(
                {
                    "type": "ineq",
                    "fun": lambda z, m=m, hi=hi: hi / s - m @ z,
                    "jac": lambda z, m=m: -m,
                }
            )
    x, best = x0, -np.inf
    # a restart from where it stopped helps on very steep curves (S < 1 near zero spend)
    for _ in range(3):
        res = optimize.minimize(
            lambda z: -obj.value(z * s) / scale,
            x / s,
            jac=lambda z: -obj.gradient(z * s) * s / scale,
            method="SLSQP",
            bounds=list(zip(prog.lower / s, prog.upper / s, strict=True)),
            constraints=cons,
            options={"maxiter": 200, "ftol": 1e-12},
        )
        if not -res.fun > best + 1e-13:
            break
        x, best = np.clip(np.asarray(res.x) * s, prog.lower, prog.upper), -res.fun
    return x


def _pairwise(obj: ValueObjective, prog: Program, x: np.ndarray, step: float) -> np.ndarray:
    """Local polish for non-smooth objectives: the best transfer of ``delta`` from one key to
    another, evaluated on the joint draws for all pairs at once, with ``delta`` shrinking."""
    x = x.copy()

    masks = prog.masks.astype(float)
    delta = step
    while delta > step * 1e-3:
        for _ in range(50):
            base = obj.draws(x)
            up = obj.draws(np.minimum(x + delta, prog.upper)) - base
            down = obj.draws(np.maximum(x - delta, prog.lower)) - base
            ok = (x + delta <= prog.upper + 1e-12)[:, None] & (x - delta >= prog.lower - 1e-12)[
                None
            ]
            np.fill_diagonal(ok, False)
            if len(masks):
                sums = masks @ x
                change = delta * (masks[:, :, None] - masks[:, None, :])  # (groups, to, from)
                new = sums[:, None, None] + change
                ok &= np.all(
                    (new >= prog.low[:, None, None] - 1e-9)
                    & (new <= prog.high[:, None, None] + 1e-9),
                    axis=0,
                )
            totals = base.sum(axis=1)[None, None, :] + up.T[:, None, :] + down.T[None, :, :]
            gain = np.where(ok, obj.score(totals), -np.inf) - obj.score(base.sum(axis=1))
            i, j = np.unravel_index(np.argmax(gain), gain.shape)
            if not gain[i, j] > 1e-12 * max(1.0, abs(obj.value(x))):
                break
            x[i] += delta
            x[j] -= delta
        delta /= 4
    return x


def solve(obj: ValueObjective, prog: Program, grid: int = 1000) -> tuple[np.ndarray, str, float]:
    """Best allocation: grid DP, local polish, projection; returns ``(x, method, grid_step)``."""
    if prog.total - prog.lower.sum() <= 1e-12 * max(prog.total, 1.0):
        return prog.lower.copy(), "lower bounds", 0.0
    x, step = _grid_optimum(obj, prog, grid)
    method = "grid DP"
    tol = 1e-9 * max(prog.total, 1.0)
    if prog.violation(x) > tol:
        projected = prog.project(x)
        if projected is not None:
            x = projected
    best = obj.value(x)
    polished = False
    for start in (x, _nudge(obj, prog, x, step)):
        if start is None:
            continue
        if obj.kind == "quantile":
            candidate = _pairwise(obj, prog, start, step)
        else:
            candidate = _slsqp(obj, prog, start)
        if prog.violation(candidate) > tol:
            candidate = prog.project(candidate)
        if candidate is not None and (value := obj.value(candidate)) >= best - 1e-12 * max(
            abs(best), 1.0
        ):
            x, best, polished = candidate, value, True
    if polished:
        method += " + pairwise transfers" if obj.kind == "quantile" else " + SLSQP polish"
    return x, method, step


def _nudge(obj: ValueObjective, prog: Program, x: np.ndarray, step: float) -> np.ndarray | None:
    """A second polish start for keys held at a lower bound although their marginal return beats
    every funded key's (curves with ``S < 1`` are infinitely steep at zero, where the gradient is
    useless to SLSQP): a hundredth of a grid step moved to them from the largest key."""
    grad = obj.gradient(x) if obj.kind != "quantile" else obj.marginal_draws(x).mean(axis=0)
    at_low = x <= prog.lower + 1e-12 * max(prog.total, 1.0)
    funded = ~at_low
    if not funded.any():
        return None
    starved = at_low & (prog.upper > x) & (grad > grad[funded].max())
    if not starved.any():
        return None
    out = x.copy()
    out[starved] += step / 100
    out[int(np.argmax(np.where(funded, x, -np.inf)))] -= step / 100 * starved.sum()
    return out if prog.violation(out) <= 1e-9 * max(prog.total, 1.0) else prog.project(out)
