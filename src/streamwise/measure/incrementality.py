"""Incrementality from a campaign's holdout: what the campaign caused, not what it touched.

The holdout is a random share of the audience that is assigned but never sent
(:mod:`streamwise.downstream.campaigns.assignment`), so treated and held-out recipients differ
only by the message. Every conversion of a recipient within the attribution window of the
campaign's start is counted for both (the ``window`` rule of
:mod:`streamwise.downstream.tracking.engagement`), whether or not the recipient clicked — the
comparison a randomised experiment needs. Per arm the counts compress to
:class:`~streamwise.measure.experiments.ProportionStat` (recipients, converters) and
:class:`~streamwise.measure.experiments.MeanStat` (recipients, revenue, revenue squared), so
the lift is a two-sample comparison (Welch for revenue) and groups add up.

Quantities (per send: per treated recipient):

- conversion lift ``p_t - p_h`` and incremental conversions ``(p_t - p_h) * n_t``;
- revenue lift per send ``m_t - m_h`` and incremental revenue ``(m_t - m_h) * n_t``;
- iROAS = incremental revenue / cost, with ``cost = n_sent * cost_per_send``; its interval is
  the revenue interval divided by the (known) cost.

See Gordon et al. (2019), "A comparison of approaches to advertising measurement: evidence from
big field experiments at Facebook", Marketing Science 38(2), for why randomised holdouts are the
reference that observational attribution is checked against.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, case, func, literal, select

from streamwise.downstream.campaigns.assignment import HOLDOUT
from streamwise.downstream.tracking.engagement import WINDOW
from streamwise.errors import ConfigError
from streamwise.measure.experiments import MeanStat, ProportionStat, compare
from streamwise.store.models import Campaign, CampaignSend, Engagement

__all__ = [
    "LiftEstimate",
    "campaign_lift",
    "recipient_outcomes",
    "segment_map",
    "workspace_lift",
]

E = Engagement.__table__
S = CampaignSend.__table__
C = Campaign.__table__
ALL = "all"


@dataclass(frozen=True)
class LiftEstimate:
    """What one campaign caused in one group of recipients, against its holdout.

    Attributes
    ----------
    campaign_id, campaign, persona
        The campaign (``persona`` as stored with it, if any).
    group
        ``"all"``, or the segment or persona the rows are restricted to.
    treated, holdout
        Recipients in the variants together, and in the holdout.
    sent
        Messages sent (the cost base).
    treated_conversions, holdout_conversions
        Recipients who converted within the window.
    treated_revenue, holdout_revenue
        Their revenue within the window.
    conversion_lift, conversion_lift_low, conversion_lift_high, conversion_p_value
        ``p_t - p_h`` (conversions per recipient), its confidence interval and two-sided p-value.
    relative_lift
        ``p_t / p_h - 1`` (None when the holdout never converted).
    incremental_conversions, incremental_conversions_low, incremental_conversions_high
        ``conversion_lift * treated`` and its interval.
    revenue_per_send, revenue_per_send_low, revenue_per_send_high, revenue_p_value
        ``m_t - m_h`` (revenue per recipient, Welch's interval) and its p-value.
    incremental_revenue, incremental_revenue_low, incremental_revenue_high
        ``revenue_per_send * treated`` and its interval.
    cost, iroas, iroas_low, iroas_high
        ``sent * cost_per_send``; incremental revenue per unit of cost and its interval (None
        when no cost was given).
    confidence
        Level of the intervals.
    """

    campaign_id: int
    campaign: str
    persona: str | None
    group: str
    treated: int
    holdout: int
    sent: int
    treated_conversions: int
    holdout_conversions: int
    treated_revenue: float
    holdout_revenue: float
    conversion_lift: float | None
    conversion_lift_low: float | None
    conversion_lift_high: float | None
    conversion_p_value: float | None
    relative_lift: float | None
    incremental_conversions: float | None
    incremental_conversions_low: float | None
    incremental_conversions_high: float | None
    revenue_per_send: float | None
    revenue_per_send_low: float | None
    revenue_per_send_high: float | None
    revenue_p_value: float | None
    incremental_revenue: float | None
    incremental_revenue_low: float | None
    incremental_revenue_high: float | None
    cost: float | None
    iroas: float | None
    iroas_low: float | None
    iroas_high: float | None
    confidence: float

    @property
    def significant(self) -> bool:
        """Whether the conversion lift's interval excludes zero."""
        lo, hi = self.conversion_lift_low, self.conversion_lift_high
        return lo is not None and hi is not None and (lo > 0 or hi < 0)

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)


@dataclass(frozen=True)
class _Diff:
    """A difference with its interval and p-value (all None when it cannot be estimated)."""

    effect: float | None = None
    low: float | None = None
    high: float | None = None
    p_value: float | None = None


def _diff(r: Any) -> _Diff:
    return _Diff(r.effect, r.ci_low, r.ci_high, r.p_value)


def _proportion_fallback(h: ProportionStat, t: ProportionStat, alpha: float) -> _Diff:
    """Difference of two proportions when one arm has no variation (say, no held-out
    recipient converted), where the t-test of :func:`compare` (as gbstats) declines: the
    Agresti–Caffo interval (Agresti & Caffo 2000, *The American Statistician* 54(4)) and the
    score test, from statsmodels."""
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    args = (int(t.conversions), int(t.n), int(h.conversions), int(h.n))
    low, high = confint_proportions_2indep(
        *args, method="agresti-caffo", compare="diff", alpha=alpha
    )
    with np.errstate(divide="ignore", invalid="ignore"):  # its ratio summaries divide by 0
        p = test_proportions_2indep(*args, method="score", compare="diff").pvalue
    effect = t.conversions / t.n - h.conversions / h.n
    return _Diff(float(effect), float(low), float(high), float(p))


def _welch(h: MeanStat, t: MeanStat, alpha: float) -> _Diff:
    """Welch's interval when one arm has no variation (gbstats declines; the test is still
    defined by the other arm's variance; Welch 1947, *Biometrika* 34)."""
    from scipy import stats

    v_t, v_h = t.variance / t.n, h.variance / h.n
    se = math.sqrt(v_t + v_h)
    df = (v_t + v_h) ** 2 / (v_t**2 / (t.n - 1) + v_h**2 / (h.n - 1))
    effect = t.mean - h.mean
    q = float(stats.t.ppf(1 - alpha / 2, df))
    p = float(2 * stats.t.sf(abs(effect) / se, df))
    return _Diff(float(effect), effect - q * se, effect + q * se, p)


def recipient_outcomes(engine: Engine, campaign_id: int) -> pd.DataFrame:
    """Per recipient of campaign ``campaign_id``: ``customer_id, arm, sent, converted, revenue``.

    ``converted`` is 1 when the recipient had a conversion in the campaign's window, and
    ``revenue`` sums those conversions' revenue (machine requests never create conversions).
    """
    conv = (
        select(
            E.c.customer_id,
            func.count().label("conversions"),
            func.coalesce(func.sum(E.c.revenue), 0.0).label("revenue"),
        )
        .where(and_(E.c.campaign_id == campaign_id, E.c.kind == "conversion", E.c.rule == WINDOW))
        .group_by(E.c.customer_id)
        .subquery()
    )
    sent = func.max(case((S.c.status == "sent", 1), else_=0))
    query = (
        select(
            S.c.customer_id,
            func.min(S.c.arm).label("arm"),
            sent.label("sent"),
            func.max(case((conv.c.conversions > 0, 1), else_=0)).label("converted"),
            func.coalesce(func.max(conv.c.revenue), literal(0.0)).label("revenue"),
        )
        .select_from(S.outerjoin(conv, conv.c.customer_id == S.c.customer_id))
        .where(S.c.campaign_id == campaign_id)
        .group_by(S.c.customer_id)
    )
    with engine.connect() as con:
        rows = con.execute(query).all()
    frame = pd.DataFrame(rows, columns=["customer_id", "arm", "sent", "converted", "revenue"])
    return frame.astype(
        {"customer_id": str, "arm": str, "sent": "int64", "converted": "int64", "revenue": float}
    )


def _arm_stats(outcomes: pd.DataFrame, by: pd.DataFrame | None) -> pd.DataFrame:
    """Per group and side (treated/holdout): n, sent, converters, revenue sum and sum of squares,
    grouped by DuckDB (in memory)."""
    con = duckdb.connect()
    try:
        con.register("o", outcomes)
        if by is not None:
            con.register("g", by[["customer_id", "group"]].astype(str))
            source = "o JOIN g USING (customer_id)"
            group = "g.group"
        else:
            source, group = "o", f"'{ALL}'"
        return con.execute(
            f"SELECT {group} AS grp, arm = ? AS holdout, count(*) AS n, sum(sent) AS sent, "  # noqa: S608 - fixed text
            "sum(converted) AS conversions, sum(revenue) AS revenue, "
            "sum(revenue * revenue) AS revenue_sq "
            f"FROM {source} GROUP BY ALL ORDER BY 1, 2",
            [HOLDOUT],
        ).df()
    finally:
        con.close()


def _scaled(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def _estimate(
    info: dict[str, Any],
    group: str,
    treated: pd.Series | None,
    held: pd.Series | None,
    *,
    cost_per_send: float | None,
    confidence: float,
) -> LiftEstimate:
    def val(side: pd.Series | None, name: str) -> float:
        return 0.0 if side is None else float(side[name])

    n_t, n_h = int(val(treated, "n")), int(val(held, "n"))
    c_t, c_h = int(val(treated, "conversions")), int(val(held, "conversions"))
    r_t, r_h = val(treated, "revenue"), val(held, "revenue")
    sent = int(val(treated, "sent"))
    cost = None if cost_per_send is None else sent * cost_per_send
    out: dict[str, Any] = {
        **info,
        "group": group,
        "treated": n_t,
        "holdout": n_h,
        "sent": sent,
        "treated_conversions": c_t,
        "holdout_conversions": c_h,
        "treated_revenue": r_t,
        "holdout_revenue": r_h,
        "cost": cost,
        "confidence": confidence,
    }
    conv = rev = rel = _Diff()
    alpha = 1 - confidence
    if n_t >= 2 and n_h >= 2:
        p_t, p_h = ProportionStat(n=n_t, conversions=c_t), ProportionStat(n=n_h, conversions=c_h)
        conv = _diff(compare(p_h, p_t, method="frequentist", relative=False, alpha=alpha))
        if conv.effect is None:
            conv = _proportion_fallback(p_h, p_t, alpha)
        if c_h > 0:
            rel = _diff(compare(p_h, p_t, method="frequentist", relative=True, alpha=alpha))
        m_t = MeanStat(n=n_t, sum=r_t, sum_squares=val(treated, "revenue_sq"))
        m_h = MeanStat(n=n_h, sum=r_h, sum_squares=val(held, "revenue_sq"))
        if m_t.variance > 0 or m_h.variance > 0:
            rev = _diff(compare(m_h, m_t, method="frequentist", relative=False, alpha=alpha))
            if rev.effect is None:
                rev = _welch(m_h, m_t, alpha)
    out["conversion_lift"] = conv.effect
    out["conversion_lift_low"] = conv.low
    out["conversion_lift_high"] = conv.high
    out["conversion_p_value"] = conv.p_value
    out["relative_lift"] = rel.effect
    for key, src in (
        ("", "conversion_lift"),
        ("_low", "conversion_lift_low"),
        ("_high", "conversion_lift_high"),
    ):
        out[f"incremental_conversions{key}"] = _scaled(out[src], n_t)
    out["revenue_per_send"] = rev.effect
    out["revenue_per_send_low"] = rev.low
    out["revenue_per_send_high"] = rev.high
    out["revenue_p_value"] = rev.p_value
    for key in ("", "_low", "_high"):
        out[f"incremental_revenue{key}"] = _scaled(out[f"revenue_per_send{key}"], n_t)
        usable = cost is not None and cost > 0 and out[f"incremental_revenue{key}"] is not None
        out[f"iroas{key}"] = out[f"incremental_revenue{key}"] / cost if usable else None
    return LiftEstimate(**out)


def campaign_lift(
    engine: Engine,
    campaign_id: int,
    *,
    by: pd.DataFrame | None = None,
    cost_per_send: float | None = None,
    confidence: float = 0.95,
) -> list[LiftEstimate]:
    """Lift, incremental conversions and revenue, and iROAS of one campaign against its holdout.

    Parameters
    ----------
    engine
        The operational database (ledger and engagements).
    campaign_id
        The campaign.
    by
        Optional ``customer_id, group`` frame (e.g. from :func:`segment_map`): one estimate per
        group as well as the overall one; recipients without a group are left out of the groups.
    cost_per_send
        Cost of one message sent, for iROAS (default: the campaign's ``cost_per_message``
        setting; no iROAS when neither is set).
    confidence
        Level of the confidence intervals.

    Returns
    -------
    list of LiftEstimate
        The overall estimate first, then one per group (sorted by name).

    Raises
    ------
    ConfigError
        When the campaign does not exist, or has no holdout to compare with.
    """
    with engine.connect() as con:
        query = select(C.c.name, C.c.persona, C.c.settings).where(C.c.id == campaign_id)
        found = con.execute(query).first()
    if found is None:
        raise ConfigError(
            f"no campaign with id {campaign_id}; list them with `streamwise campaign list`"
        )
    if cost_per_send is None:
        stored = float((found.settings or {}).get("cost_per_message") or 0.0)
        cost_per_send = stored if stored > 0 else None
    outcomes = recipient_outcomes(engine, campaign_id)
    if not (outcomes["arm"] == HOLDOUT).any():
        raise ConfigError(
            f"campaign {found.name!r} has no holdout, so its incremental effect cannot be "
            "measured; give the next campaign a holdout (settings: holdout: 0.1)"
        )
    info = {"campaign_id": int(campaign_id), "campaign": str(found.name), "persona": found.persona}
    estimates = []
    for frame in [_arm_stats(outcomes, None)] + (
        [_arm_stats(outcomes, by)] if by is not None else []
    ):
        for group, part in frame.groupby("grp", sort=True):
            sides = {
                bool(h): row for h, row in zip(part["holdout"], part.itertuples(), strict=True)
            }
            treated = pd.Series(sides[False]._asdict()) if False in sides else None
            held = pd.Series(sides[True]._asdict()) if True in sides else None
            estimates.append(
                _estimate(
                    info,
                    str(group),
                    treated,
                    held,
                    cost_per_send=cost_per_send,
                    confidence=confidence,
                )
            )
    return estimates


def segment_map(workspace: Any) -> pd.DataFrame | None:
    """``customer_id, segment, persona`` from the workspace's behavioural clusters, their survey
    names (``segment_clusters``) and the plan's personas; None before segmentation ran."""
    from streamwise.data.tables import table_names
    from streamwise.downstream.audiences.audience import plan_personas

    con = workspace.duckdb()
    if not {"customer_segments", "segment_clusters"} <= table_names(con):
        return None
    frame = con.execute(
        "SELECT s.customer_id, c.segment FROM customer_segments s "
        "JOIN segment_clusters c ON c.cluster = s.segment"
    ).df()
    personas = plan_personas(workspace)
    frame["persona"] = frame["segment"].map(personas)
    return frame.astype({"customer_id": str})


def workspace_lift(
    workspace: Any,
    campaign_ids: Iterable[int] | None = None,
    *,
    by: str | None = "segment",
    cost_per_send: float | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Lift of every campaign with a holdout (or of ``campaign_ids``), overall and per segment
    or persona (``by``), as one table of :class:`LiftEstimate` rows."""
    if by not in (None, "segment", "persona"):
        raise ConfigError(f"by must be 'segment', 'persona' or None, not {by!r}")
    engine = workspace.operational()
    if campaign_ids is None:
        with engine.connect() as con:
            ids = [
                int(i)
                for (i,) in con.execute(
                    select(S.c.campaign_id)
                    .where(S.c.arm == HOLDOUT)
                    .distinct()
                    .order_by(S.c.campaign_id)
                )
            ]
    else:
        ids = [int(i) for i in campaign_ids]
    groups = None
    if by is not None:
        mapping = segment_map(workspace)
        if mapping is not None:
            groups = mapping[["customer_id", by]].dropna().rename(columns={by: "group"})
    rows = [
        e.to_dict()
        for cid in ids
        for e in campaign_lift(
            engine, cid, by=groups, cost_per_send=cost_per_send, confidence=confidence
        )
    ]
    columns = list(LiftEstimate.__dataclass_fields__)
    return pd.DataFrame(rows, columns=columns)
