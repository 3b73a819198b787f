"""Scoring every customer and lead in the analytics database, and the plan's segment fit.

The fitted models are arithmetic on columns (:meth:`PropensityModel.log_odds_expr`), so the
whole population is scored by one ``CREATE TABLE sales_leads AS SELECT ...``: features,
contributions, log-odds, P(buy), rank and score for 10M customers without a row passing through
Python. Ranks order by P(buy) (highest first); unscored leads come last, most recently active
first; ties break on ``customer_id``, so the same data always gives the same ranks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from streamwise.downstream.sales.features import (
    BUYER_FEATURES,
    LEAD_FEATURES,
    activity_table,
    model_inputs,
)
from streamwise.downstream.sales.model import PropensityModel
from streamwise.errors import ModelError, WorkspaceError
from streamwise.plan.store import load_plan

__all__ = [
    "ALL_FEATURES",
    "PERCENTILE_FEATURES",
    "Scored",
    "contribution_column",
    "plan_targets",
    "score_all",
]

#: Every model input, buyers' first; each has a contribution column ``c_<name>``.
ALL_FEATURES = tuple(dict.fromkeys((*BUYER_FEATURES, *LEAD_FEATURES)))
#: Raw values whose rank among scored customers the reasons mention ("top 10 %").
PERCENTILE_FEATURES = ("probability_alive", "expected_purchases", "clv")
_LEVELS = [i / 100 for i in range(1, 100)]


def contribution_column(feature: str) -> str:
    """The ``sales_leads`` column holding ``feature``'s contribution to the log-odds."""
    return f"c_{feature}"


def plan_targets(workspace: Any) -> tuple[dict[str, str], set[str], list[str]]:
    """Segment → persona name, the segments the latest plan targets, and notes.

    Without a saved plan both are empty and a note says how to make one.
    """
    try:
        plan = load_plan(workspace)
    except WorkspaceError:
        return (
            {},
            set(),
            ["no saved plan: personas and target segments come from `streamwise plan build`"],
        )
    personas = {card.segment: card.name for card in plan.personas}
    targets = {t.segment for t in plan.strategy.targets if t.decision == "target"}
    return personas, targets, []


@dataclass(frozen=True)
class Scored:
    """What scoring wrote: counts and the percentiles of the CLV features."""

    counts: Mapping[str, int]
    quantiles: Mapping[str, tuple[float, ...]]


def _check_clv(backend: Any, as_of: date) -> None:
    """Refuse a ``customer_clv`` that lacks customers who have orders (it predates them)."""
    o = backend.table("orders")
    buyers = o.filter(o.order_date < ibis.timestamp(as_of + timedelta(days=1)))
    buyers = buyers.select("customer_id").distinct()
    clv = backend.table("customer_clv").select("customer_id")
    missing = int(buyers.anti_join(clv, "customer_id").count().execute())
    if missing:
        raise ModelError(
            f"customer_clv lacks {missing:,} customers who have orders (it was computed before "
            "their orders were imported); run `streamwise customers clv` again"
        )


def _scored_table(
    backend: Any,
    as_of: date,
    buyer: PropensityModel,
    lead: PropensityModel | None,
    segments: ir.Table | None,
    run_id: str,
) -> ir.Table:
    t = activity_table(backend, as_of)
    k = backend.table("customer_clv")
    clv = k.select("customer_id", "probability_alive", "expected_purchases", "clv")
    t = t.left_join(clv, "customer_id").drop("customer_id_right")
    if segments is not None:
        t = t.left_join(segments, "customer_id").drop("customer_id_right")
        t = t.mutate(in_target=t.in_target.fill_null(0))
    else:
        t = t.mutate(
            segment=ibis.null("string"), persona=ibis.null("string"), in_target=ibis.literal(0)
        )
    is_lead = t.n_orders == 0
    null = ibis.null("float64")
    b_in = model_inputs(t, buyer.features_)
    b_c = buyer.contribution_exprs(b_in)
    l_c: dict[str, Any] = {}
    l_logit: Any = null
    if lead is not None:
        l_in = model_inputs(t, lead.features_)
        l_c = lead.contribution_exprs(l_in)
        l_logit = lead.log_odds_expr(l_in)
    contributions = {
        contribution_column(f): ibis.ifelse(is_lead, l_c.get(f, null), b_c.get(f, null))
        for f in ALL_FEATURES
    }
    log_odds = ibis.ifelse(is_lead, l_logit, buyer.log_odds_expr(b_in))
    t = t.mutate(
        run_id=ibis.literal(run_id),
        is_lead=is_lead.cast("int8"),
        **contributions,
        log_odds=log_odds,
        p_buy=1.0 / (1.0 + (-log_odds).exp()),
    )
    order = [t.p_buy.desc(nulls_first=False), t.days_since_active.asc(), t.customer_id.asc()]
    score = ibis.percent_rank().over(group_by=t.p_buy.isnull(), order_by=t.p_buy) * 100
    return t.mutate(
        rank=ibis.row_number().over(order_by=order) + 1,
        score=ibis.ifelse(t.p_buy.isnull(), null, score.round(1)),
    )


def score_all(
    workspace: Any,
    as_of: date,
    buyer: PropensityModel,
    lead: PropensityModel | None,
    segments: ir.Table | None,
    run_id: str,
) -> Scored:
    """Score everyone as of the end of day ``as_of`` into ``sales_leads``.

    Raises
    ------
    ModelError
        When ``customer_clv`` is older than the orders.
    """
    backend = workspace.analytics()
    _check_clv(backend, as_of)
    expr = _scored_table(backend, as_of, buyer, lead, segments, run_id)
    backend.create_table("sales_leads", obj=expr, overwrite=True)
    s = backend.table("sales_leads")
    counted = s.aggregate(
        customers=(s.is_lead == 0).sum(),
        leads=((s.is_lead == 1) & s.p_buy.notnull()).sum(),
        unscored_leads=((s.is_lead == 1) & s.p_buy.isnull()).sum(),
    ).execute()
    counts = {k: int(counted[k].iloc[0] or 0) for k in counted.columns}
    buyers = s.filter(s.is_lead == 0)
    q = buyers.aggregate(
        **{f: buyers[f].approx_quantile(_LEVELS) for f in PERCENTILE_FEATURES}
    ).execute()
    quantiles = {f: tuple(float(v) for v in (q[f].iloc[0] or [])) for f in PERCENTILE_FEATURES}
    return Scored(counts=counts, quantiles=quantiles)
