"""The campaigns' A/B tests as the Results page shows them: per variant the recipients, sends,
opens, clicks and conversions, each variant's difference from the first (the control) with its 95%
credible interval and chance to beat it, a sample-ratio check of the split against the variants'
weights (:func:`~streamwise.measure.experiments.srm_check`) and the verdict of
:func:`~streamwise.measure.experiments.decide_winner`.

A campaign with an A/B ``test`` in its settings is decided as ``streamwise campaign decide``
decides it (its metric, guardrails and thresholds:
:func:`~streamwise.downstream.campaigns.rollout.decide`); any other campaign that sent several
variants is decided on its conversion rate (conversions of the arm's recipients within the
attribution window, per recipient) with the default rules of an A/B test
(:class:`~streamwise.downstream.campaigns.settings.ABTest`: 95% chance to win, 200 recipients per
variant, unsubscribes may not rise by more than 0.2 points).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pydantic import ValidationError
from sqlalchemy import func, select

from streamwise.downstream.campaigns.assignment import HOLDOUT
from streamwise.downstream.campaigns.rollout import METRICS, decide
from streamwise.downstream.campaigns.settings import ABTest, CampaignSettings
from streamwise.downstream.tracking.results import ArmResults, CampaignResults, campaign_results
from streamwise.measure.experiments import (
    ComparisonResult,
    Guardrail,
    ProportionStat,
    SrmResult,
    WinnerDecision,
    compare,
    decide_winner,
    srm_check,
)
from streamwise.reports.html import Heading, Items, Paragraph, Section, Table
from streamwise.store.models import Campaign, CampaignSend

__all__ = [
    "EXPERIMENT_HINT",
    "Experiment",
    "campaign_experiments",
    "experiment",
    "experiments_section",
]

_S, _C = CampaignSend.__table__, Campaign.__table__
_METRIC_NAMES = {"open_rate": "open rate", "click_rate": "click rate",
                 "conversion_rate": "conversion rate"}  # fmt: skip
_PER = {"sent": "message sent", "recipients": "recipient"}
_VERDICTS = {
    "winner": "{winner} wins",
    "inconclusive": "no clear winner yet; send {fallback}",
    "guardrail_failed": "the best variant failed a guardrail; send {fallback}",
    "insufficient_data": "too few recipients to decide (at least {min_sample:,} per variant)",
}
EXPERIMENT_HINT = (
    "Give a campaign two or more variants (Campaigns › a draft › Variants, or `variants:` in its "
    "settings) and send it; add a `test` (share, metric, guardrails) to test on part of the "
    "audience first, then `streamwise campaign decide NAME` and `streamwise campaign rollout "
    "NAME` send the winner to the rest."
)


@dataclass(frozen=True)
class Experiment:
    """A campaign's variants compared: arms, differences from the control, split check, verdict.

    Attributes
    ----------
    campaign, campaign_id, state
        The campaign.
    metric
        What the verdict is on: the A/B test's metric, or ``conversion_rate``.
    tested
        Whether the campaign's settings have an A/B ``test`` (its rules decide).
    arms
        The variants' results, the control first (the holdout left out).
    weights
        Each variant's intended share of the recipients (its ``weight``).
    comparisons
        Variant → its difference from the control on ``metric`` (absolute, Bayesian, 95%).
    srm
        The sample-ratio check of the recipients per variant against ``weights``.
    decision
        The winner, or why there is none.
    min_sample
        Recipients every variant needs before a decision.
    """

    campaign: str
    campaign_id: int
    state: str
    metric: str
    tested: bool
    arms: tuple[ArmResults, ...]
    weights: tuple[float, ...]
    comparisons: Mapping[str, ComparisonResult]
    srm: SrmResult | None
    decision: WinnerDecision
    min_sample: int

    @property
    def control(self) -> str:
        """The arm the others are compared with."""
        return self.decision.control

    @property
    def verdict(self) -> str:
        """The verdict in a few words; a sample-ratio mismatch overrides the decision."""
        if self.srm is not None and self.srm.mismatch:
            return "do not trust this test: the split is not what the weights asked for"
        d = self.decision
        return _VERDICTS[d.status].format(winner=d.winner, fallback=d.fallback,
                                          min_sample=self.min_sample)  # fmt: skip

    def rate(self, arm: ArmResults) -> float | None:
        """The arm's ``metric``: numerator over denominator, None without a denominator."""
        num, den = METRICS[self.metric]
        n = getattr(arm, den)
        return getattr(arm, num) / n if n else None

    def to_frame(self) -> pd.DataFrame:
        """One row per variant: weight, counts, rate, difference from the control, interval,
        chance to beat the control."""
        rows = []
        for arm, weight in zip(self.arms, self.weights, strict=True):
            r = self.comparisons.get(arm.arm)
            rows.append({"variant": arm.arm, "weight": weight, "recipients": arm.recipients,
                         "sent": arm.sent, "opened": arm.unique_opens,
                         "clicked": arm.unique_clicks, "converted": arm.arm_conversions,
                         "rate": self.rate(arm),
                         "difference": _difference(r),
                         "low": r.ci_low if r else None, "high": r.ci_high if r else None,
                         "chance_to_win": r.chance_to_win if r else None})  # fmt: skip
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"campaign": self.campaign, "campaign_id": self.campaign_id, "state": self.state,
                "metric": self.metric, "tested": self.tested, "verdict": self.verdict,
                "arms": self.to_frame().to_dict("records"),
                "srm": self.srm.to_dict() if self.srm else None,
                "decision": self.decision.to_dict()}  # fmt: skip


def _difference(r: ComparisonResult | None) -> float | None:
    """The estimated difference, or the observed one when none could be estimated."""
    if r is None:
        return None
    return r.effect if r.effect is not None else r.treatment_mean - r.control_mean


def _stat(arm: ArmResults, metric: str) -> ProportionStat:
    num, den = METRICS[metric]
    n = int(getattr(arm, den))
    return ProportionStat(n=n, conversions=min(int(getattr(arm, num)), n))


def _default_decision(order: list[str], arms: dict[str, ArmResults], test: ABTest) -> Any:
    """The decision :func:`~streamwise.downstream.campaigns.rollout.decide` would make under
    ``test``, for a campaign whose settings have no test of their own."""

    def stats(metric: str) -> dict[str, ProportionStat]:
        return {v: _stat(arms[v], metric) for v in order}

    guardrails = {
        g: Guardrail(stats(g), harmful="increase" if g == "unsubscribe_rate" else "decrease",
                     tolerance=limit, relative=False)
        for g, limit in test.guardrails.items()
    }  # fmt: skip
    return decide_winner(stats(test.metric), control=order[0], guardrails=guardrails,
                         method="bayesian", threshold=test.chance_to_win,
                         min_sample=test.min_per_arm, relative=False)  # fmt: skip


def experiment(workspace: Any, results: CampaignResults, weights: Mapping[str, float],
               test: ABTest | None = None) -> Experiment:  # fmt: skip
    """The :class:`Experiment` of a campaign's results.

    Parameters
    ----------
    workspace
        The workspace (only read when ``test`` is given: the decision is then
        :func:`~streamwise.downstream.campaigns.rollout.decide`'s on the stored campaign).
    results
        The campaign's results per arm (two or more variants with recipients).
    weights
        Variant → its weight in the campaign's settings, in the settings' order (the first is
        the control); a variant in the ledger but not here counts with weight zero.
    test
        The campaign's A/B test, or None: decided on the conversion rate by the default rules.
    """
    arms = {a.arm: a for a in results.arms if not a.holdout}
    order = [v for v in weights if v in arms] + sorted(set(arms) - set(weights))
    if test is not None:
        rules, decision = test, decide(workspace, results.campaign).decision
    else:
        rules = ABTest(share=0.5, metric="conversion_rate")
        decision = _default_decision(order, arms, rules)
    stats = {v: _stat(arms[v], rules.metric) for v in order}
    comparisons = {
        v: decision.results.get(v) or compare(stats[order[0]], stats[v], method="bayesian",
                                              relative=False)
        for v in order[1:]
    }  # fmt: skip
    shares = tuple(float(weights.get(v, 0.0)) for v in order)
    srm = srm_check([arms[v].recipients for v in order], shares) if sum(shares) > 0 else None
    return Experiment(results.campaign, results.campaign_id, results.state, rules.metric,
                      test is not None, tuple(arms[v] for v in order), shares, comparisons,
                      srm, decision, rules.min_per_arm)  # fmt: skip


def _design(raw: Mapping[str, Any] | None) -> tuple[dict[str, float], ABTest | None]:
    """Variant weights and the A/B test of stored campaign settings (weights alone, and no
    test, when the settings no longer validate)."""
    try:
        settings = CampaignSettings(**(raw or {}))
    except ValidationError:
        variants = (raw or {}).get("variants") or {}
        return {str(v): float((d or {}).get("weight", 1.0)) for v, d in variants.items()}, None
    return {v: d.weight for v, d in settings.variants.items()}, settings.test


def campaign_experiments(workspace: Any, limit: int = 20) -> list[Experiment]:
    """The latest ``limit`` campaigns whose ledger has two or more variants, newest first."""
    engine = workspace.operational()
    arms = func.count(func.distinct(_S.c.arm))
    with engine.connect() as con:
        rows = con.execute(
            select(_C.c.id, _C.c.settings)
            .where(_C.c.id.in_(select(_S.c.campaign_id).where(_S.c.arm != HOLDOUT)
                               .group_by(_S.c.campaign_id).having(arms >= 2)))
            .order_by(_C.c.id.desc())
            .limit(limit)
        ).all()  # fmt: skip
    out = []
    for cid, raw in rows:
        weights, test = _design(raw)
        out.append(experiment(workspace, campaign_results(engine, int(cid)), weights, test))
    return out


def _interval(low: float | None, high: float | None) -> str:
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return "–"
    return f"{low:+.2%} … {high:+.2%}"


def _experiment_blocks(e: Experiment) -> list[Any]:
    frame = e.to_frame()
    metric = _METRIC_NAMES.get(e.metric, e.metric.replace("_", " "))
    shown = pd.DataFrame({
        "variant": frame["variant"], "weight": frame["weight"],
        "recipients": frame["recipients"], "sent": frame["sent"], "opened": frame["opened"],
        "clicked": frame["clicked"], "converted": frame["converted"], metric: frame["rate"],
        f"difference from {e.control}": frame["difference"],
        "95% interval": [_interval(lo, hi) for lo, hi in zip(frame["low"], frame["high"],
                                                            strict=True)],
        f"chance to beat {e.control}": frame["chance_to_win"],
    })  # fmt: skip
    how = "its A/B test's rules" if e.tested else "the default A/B rules (no `test` in settings)"
    blocks: list[Any] = [
        Heading(f"{e.campaign} ({e.state})"),
        Table(shown, caption=f"Variants of {e.campaign}: {metric} per "
              f"{_PER[METRICS[e.metric][1]]}, difference from {e.control} (absolute)",
              formats={"weight": "{:g}", metric: "{:.2%}",
                       f"difference from {e.control}": "{:+.2%}",
                       f"chance to beat {e.control}": "{:.0%}"}),
        Paragraph(f"**Verdict: {e.verdict}.** Decided on {metric} by {how}."),
    ]  # fmt: skip
    if e.srm is not None:
        obs = " : ".join(f"{o:,.0f}" for o in e.srm.observed)
        exp = " : ".join(f"{x:,.0f}" for x in e.srm.expected)
        text = (f"Sample ratio: {obs} recipients against {exp} expected from the weights "
                f"(χ² p = {e.srm.p_value:.3g}): ")  # fmt: skip
        if e.srm.mismatch:
            blocks.append(Paragraph(text + "**mismatch**; check how recipients were assigned "
                                    "before reading the results.", "caveat"))  # fmt: skip
        else:
            blocks.append(Paragraph(text + "the split is as intended."))
    unsure = [f"{v}: {r.error_message}" for v, r in e.comparisons.items() if not r.ok]
    if unsure:
        blocks.append(Paragraph("No interval (the difference shown is the observed one) for "
                                + "; ".join(unsure) + ".", "caveat"))  # fmt: skip
    blocks.append(Items(e.decision.reasons))
    return blocks


def experiments_section(experiments: Sequence[Experiment]) -> Section:
    """The experiments as a report section; without any, what to do to get one."""
    if not experiments:
        return Section("Experiments", lead="No campaign has sent two or more variants yet.",
                       blocks=[Paragraph(EXPERIMENT_HINT, "hint")], id="experiments")  # fmt: skip
    winners = [e.campaign for e in experiments if e.decision.status == "winner"
               and not (e.srm and e.srm.mismatch)]  # fmt: skip
    lead = f"{len(experiments)} campaign(s) sent two or more variants. "
    lead += (f"A clear winner in {', '.join(f'**{c}**' for c in winners)}." if winners
             else "None has a clear winner yet.")  # fmt: skip
    blocks = [b for e in experiments for b in _experiment_blocks(e)]
    blocks.append(Paragraph(
        "Differences are in rate points with 95% credible intervals (Gaussian posterior, as "
        "GrowthBook's engine); a variant wins when its chance to beat the control reaches the "
        "test's threshold (95% by default) and it passes the guardrails.", "caveat"))  # fmt: skip
    return Section("Experiments", lead=lead, blocks=blocks, id="experiments")
