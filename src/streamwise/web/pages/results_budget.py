"""The budget optimiser of the Results page: a total budget per period and optional limits per
channel, read from a query (:func:`parse_budget`), split across the channels' saved response
curves by :func:`~streamwise.measure.budget.optimise_budget`, and shown beside today's split (the
mean spend of the last 13 weeks) with the expected outcome and return of each
(:func:`allocation_section`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from streamwise.errors import DataError
from streamwise.measure.budget import BudgetAllocation
from streamwise.measure.budget_solver import ObjectiveKind
from streamwise.measure.curves import HillCurve
from streamwise.reports.html import Figure, Paragraph, Section, Table
from streamwise.reports.measure_charts import budget_chart

__all__ = [
    "MAX_FACTOR",
    "MAX_TOTAL",
    "OBJECTIVES",
    "BudgetRequest",
    "allocation_section",
    "cut",
    "parse_budget",
]

#: A total (or a limit) is refused above MAX_FACTOR × today's total spend (the curves say
#: nothing that far out) and above MAX_TOTAL in any case.
MAX_FACTOR, MAX_TOTAL = 100.0, 1e12
#: The optimiser's objectives, as the form names them.
OBJECTIVES = {"mean": "expected return", "risk_adjusted": "expected return minus one sd",
              "quantile": "a pessimistic return (10th percentile)"}  # fmt: skip
_LONGEST = 40  # characters of an input repeated in a message or the form
_MONEY = "{:,.2f}"


@dataclass(frozen=True)
class BudgetRequest:
    """A budget to split: the total per period, limits per channel, the objective."""

    total: float
    bounds: tuple[tuple[str, float, float], ...] = ()
    objective: ObjectiveKind = "mean"

    def bounds_dict(self) -> dict[str, tuple[float, float]] | None:
        """Channel → (at least, at most), or None without limits."""
        return {ch: (lo, hi) for ch, lo, hi in self.bounds} or None

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)


def cut(text: str) -> str:
    """``text``, cut to a length fit to repeat in a message."""
    return text if len(text) <= _LONGEST else text[:_LONGEST] + "…"


def _amount(raw: str, what: str, limit: float) -> float:
    try:
        value = float(raw.replace(",", "")) if len(raw) <= _LONGEST else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise DataError(f"{what} {cut(raw)!r} is not a number; enter an amount per period "
                        "such as 1500")  # fmt: skip
    if value < 0:
        raise DataError(f"{what} {cut(raw)!r} is negative; enter zero or more")
    if value > limit:
        raise DataError(f"{what} {cut(raw)!r} is beyond what the response curves can tell: at "
                        f"most {limit:,.0f} per period ({MAX_FACTOR:.0f} × today's spend, "
                        f"{MAX_TOTAL:,.0f} at most)")  # fmt: skip
    return value


def parse_budget(query: Mapping[str, str], channels: Sequence[str], today: float) -> BudgetRequest:
    """The budget a query asks for: ``total`` (default: ``today``'s), ``min.<channel>`` and
    ``max.<channel>`` (optional limits), ``objective`` (``mean``, ``risk_adjusted``,
    ``quantile``).

    Raises
    ------
    DataError
        A value that is not a number, is negative or absurdly large, a limit for a channel
        without a response curve, a lower limit above the upper one, or an unknown objective.
    """
    limit = min(MAX_FACTOR * today, MAX_TOTAL) if today > 0 else MAX_TOTAL
    raw = (query.get("total") or "").strip()
    if not raw and today <= 0:
        raise DataError("Enter a total budget per period: the workspace has no spend to start "
                        "from")  # fmt: skip
    total = _amount(raw, "The total budget", limit) if raw else today
    if total <= 0:
        raise DataError("The total budget must be more than zero")
    limits: dict[str, dict[str, float]] = {}
    for key, value in query.items():
        side, dot, channel = key.partition(".")
        if side not in ("min", "max") or not dot:
            continue
        if channel not in channels:
            raise DataError(f"{cut(key)!r}: no response curve for channel {cut(channel)!r}; "
                            f"use one of {', '.join(channels)}")  # fmt: skip
        if value.strip():
            what = f"{channel}: at {'least' if side == 'min' else 'most'}"
            limits.setdefault(channel, {})[side] = _amount(value.strip(), what, limit)
    bounds = []
    for channel in channels:
        given = limits.get(channel)
        if not given:
            continue
        lo, hi = given.get("min", 0.0), given.get("max", total)
        if lo > hi:
            raise DataError(f"{channel}: at least {lo:,.2f} is more than at most {hi:,.2f}")
        bounds.append((channel, lo, hi))
    objective = query.get("objective") or "mean"
    if objective not in OBJECTIVES:
        raise DataError(f"Objective {cut(objective)!r}: use one of {', '.join(OBJECTIVES)}")
    return BudgetRequest(total, tuple(bounds), cast(ObjectiveKind, objective))


def _split_value(curves: Mapping[str, HillCurve], spend: Mapping[str, float],
                 interval: float) -> tuple[float, float, float, float]:  # fmt: skip
    """Expected outcome and value of a split, with the value's central interval (joint draws)."""
    outcome = sum(c.response_draws([spend[k]])[:, 0] for k, c in curves.items())
    value = sum(c.value_per_unit * c.response_draws([spend[k]])[:, 0] for k, c in curves.items())
    lo, hi = np.quantile(value, [(1 - interval) / 2, (1 + interval) / 2])
    return float(np.mean(outcome)), float(np.mean(value)), float(lo), float(hi)


def allocation_section(result: BudgetAllocation, curves: Mapping[str, HillCurve],
                       currency: str = "") -> Section:  # fmt: skip
    """The optimised split beside today's: a chart, the expected outcome and return of both, and
    the spend per channel.

    Parameters
    ----------
    result
        What :func:`~streamwise.measure.budget.optimise_budget` returned, given today's split
        as ``current`` (without one, today's split counts as nothing spent).
    curves
        The response curves it was optimised on.
    currency
        Shown with the money columns.
    """
    frame = result.to_frame()
    today = result.current or dict.fromkeys(result.allocation, 0.0)
    spent = sum(today.values())
    now = _split_value(curves, today, result.interval)
    level = f"{result.interval:.0%} interval"
    money = f" ({currency})" if currency else ""
    lo, hi = result.value_interval
    summary = pd.DataFrame({
        "split": ["today's", "recommended"],
        f"spend per period{money}": [spent, result.total],
        "expected outcome": [now[0], result.outcome],
        f"expected return{money}": [now[1], result.value],
        level: [f"{now[2]:,.2f} … {now[3]:,.2f}", f"{lo:,.2f} … {hi:,.2f}"],
    })  # fmt: skip
    current = frame["key"].map(today)
    shown = pd.DataFrame({
        "channel": frame["key"], "today": current, "recommended": frame["spend"],
        "change": frame["spend"] - current, "share": frame["share"],
        "expected outcome": frame["response"], "ROI": frame["roi"],
        "marginal ROI": frame["marginal_roi"],
        "limits": [f"{a:,.2f} – {b:,.2f}" for a, b in zip(frame["lower"], frame["upper"],
                                                         strict=True)],
    })  # fmt: skip
    lead = (f"Spent this way, {result.total:,.2f}{' ' + currency if currency else ''} per "
            "period is expected to return "
            f"**{result.value:,.2f}** ({level} {lo:,.2f} to {hi:,.2f}); today's split of "
            f"{spent:,.2f} returns {now[1]:,.2f}. {result.describe_uplift()}")  # fmt: skip
    chart = budget_chart(shown.rename(columns={"today": "current"})[
        ["channel", "current", "recommended"]])  # fmt: skip
    blocks: list[Any] = [
        Figure(chart, caption="Spend per period by channel, today and recommended."),
        Table(summary, caption="Expected outcome and return per period",
              formats={f"spend per period{money}": _MONEY, "expected outcome": _MONEY,
                       f"expected return{money}": _MONEY}),
        Table(shown, caption="Spend per period by channel",
              formats={"today": _MONEY, "recommended": _MONEY, "change": "{:+,.2f}",
                       "share": "{:.1%}", "expected outcome": _MONEY, "ROI": "{:.2f}",
                       "marginal ROI": "{:.2f}"}),
    ]  # fmt: skip
    if result.active:
        blocks.append(Paragraph("At a limit: " + "; ".join(result.active) + "."))
    blocks.append(Paragraph(
        f"Objective: {OBJECTIVES.get(result.objective, result.objective)}; {result.method}. "
        "Return is the outcome times its value per unit, per period of steady spend; ROI is "
        "return per unit of spend, marginal ROI what the next unit of spend brings.",
        "caveat"))  # fmt: skip
    return Section(f"Best split of {result.total:,.2f} per period", lead=lead, blocks=blocks,
                   id="allocation")  # fmt: skip
