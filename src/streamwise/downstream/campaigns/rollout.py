"""A/B test, decide, roll out: the winner of a test on a share of the audience goes to the rest.

A campaign whose settings have a ``test``
(:class:`~streamwise.downstream.campaigns.settings.ABTest`) sends its variants to ``test.share``
of its audience only (a keyed draw of its own, so the same people are in the test however often
the audience is resolved). Once results are in,
:func:`decide` compares the arms on the test's metric with the Bayesian engine of
:mod:`streamwise.measure.experiments` and checks the guardrails (a winner that raises
unsubscribes beyond the allowed rise loses); when nothing wins clearly it falls back to the
``fallback`` variant (default: the first). :func:`rollout` then creates and sends a campaign to
everyone in the audience who was not in the test (its ledger — holdout included — is excluded),
with the chosen variant's content and the test's holdout share, so every person gets at most one
message of the two campaigns and the rollout's own lift can still be measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from streamwise.downstream.campaigns.ledger import campaign_by_name
from streamwise.downstream.campaigns.settings import CampaignSettings
from streamwise.downstream.tracking.results import ArmResults, CampaignResults, campaign_results
from streamwise.errors import ConfigError
from streamwise.measure.experiments import Guardrail, ProportionStat, decide_winner
from streamwise.store.db import session_factory
from streamwise.store.models import Campaign

__all__ = ["RolloutDecision", "decide", "rollout", "rollout_name"]

#: Metric → (numerator field of ArmResults, denominator field).
METRICS = {
    "open_rate": ("unique_opens", "sent"),
    "click_rate": ("unique_clicks", "sent"),
    "conversion_rate": ("arm_conversions", "recipients"),
    "unsubscribe_rate": ("unsubscribes", "sent"),
}


@dataclass(frozen=True)
class RolloutDecision:
    """The test campaign's results and the decision on them (``decision`` is the experiments
    engine's :class:`~streamwise.measure.experiments.WinnerDecision`; ``variant`` is what the
    rollout sends: the winner, or the fallback)."""

    campaign: str
    metric: str
    results: CampaignResults
    decision: Any
    variant: str

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"campaign": self.campaign, "metric": self.metric, "variant": self.variant,
                "decision": self.decision.to_dict(), "results": self.results.to_dict()}  # fmt: skip


def rollout_name(name: str) -> str:
    """The rollout campaign's name for test campaign ``name``."""
    return f"{name} (rollout)"


def _stat(arm: ArmResults, metric: str) -> ProportionStat:
    num, den = METRICS[metric]
    n = int(getattr(arm, den))
    return ProportionStat(n=n, conversions=min(int(getattr(arm, num)), n))


def _load(workspace: Any, name: str) -> tuple[Campaign, CampaignSettings]:
    with session_factory(workspace.operational())() as session:
        c = campaign_by_name(session, name)
        session.expunge(c)
    s = CampaignSettings(**c.settings)
    if s.test is None:
        raise ConfigError(
            f"campaign {name!r} is not an A/B test; give its settings a `test` (share, metric, "
            "guardrails) to test on part of the audience first"
        )
    return c, s


def decide(workspace: Any, name: str) -> RolloutDecision:
    """Decide the A/B test campaign ``name`` from its results so far."""
    c, s = _load(workspace, name)
    test = s.test
    assert test is not None
    results = campaign_results(workspace.operational(), int(c.id))
    by_name = {a.arm: a for a in results.arms if not a.holdout}
    order = list(s.variants)
    fallback = test.fallback or order[0]

    def stats(metric: str) -> dict[str, ProportionStat]:
        return {v: _stat(by_name.get(v, ArmResults(arm=v)), metric) for v in order}

    decision = decide_winner(
        stats(test.metric),
        control=order[0],
        guardrails={
            g: Guardrail(
                stats(g),
                harmful="increase" if g == "unsubscribe_rate" else "decrease",
                tolerance=limit,
                relative=False,
            )
            for g, limit in test.guardrails.items()
        },
        method="bayesian",
        threshold=test.chance_to_win,
        min_sample=test.min_per_arm,
        fallback=fallback,
        relative=False,  # absolute rates: a relative effect over a rare control rate is unstable
    )
    variant = decision.chosen
    return RolloutDecision(campaign=c.name, metric=test.metric, results=results,
                           decision=decision, variant=variant)  # fmt: skip


def rollout(
    workspace: Any, name: str, *, variant: str | None = None, now: datetime | None = None
) -> tuple[RolloutDecision | None, int]:
    """Create the rollout campaign of A/B test ``name`` with the decided (or given) variant and
    return the decision (None when ``variant`` was given) and the new campaign's id; send it
    with ``streamwise campaign send``. The rollout is created once: a second call returns the
    existing one."""
    from streamwise.downstream.campaigns.service import create_campaign

    c, s = _load(workspace, name)
    decision = None
    if variant is None:
        decision = decide(workspace, name)
        if decision.decision.status == "insufficient_data":
            raise ConfigError(
                f"A/B test {name!r} has too few sends per arm to decide (min_per_arm "
                f"{s.test.min_per_arm if s.test else 0}); send it first, or pass --variant"
            )
        variant = decision.variant
    if variant not in s.variants:
        raise ConfigError(f"{variant!r} is not a variant of {name!r}: {', '.join(s.variants)}")
    target = rollout_name(name)
    with session_factory(workspace.operational())() as session:
        existing = session.scalar(select(Campaign.id).where(Campaign.name == target))
    if existing is not None:
        return decision, int(existing)
    chosen = s.variants[variant].model_copy(update={"weight": 1.0})
    excluded = (*s.exclude_campaigns, int(c.id))
    settings = s.model_copy(
        update={"test": None, "variants": {variant: chosen}, "exclude_campaigns": excluded}
    )
    new_id = create_campaign(
        workspace,
        target,
        audience=c.audience,
        settings=settings.model_dump(mode="json"),
        channel=c.channel,
        persona=c.persona,
        goal=c.goal,
        plan_version_id=c.plan_version_id,
    )
    return decision, new_id
