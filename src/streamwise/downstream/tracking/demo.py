"""Close the loop in the demo: the sample business's recipients react to the e-mail they got,
through the real tracking server, and the results are measured and compacted.

The reactions are drawn from planted rates (:mod:`streamwise.data.sample.recipients`) and sent
over HTTP to ``streamwise serve``'s app on a loopback port; what comes back is read from the
server's own tables (:func:`~streamwise.downstream.tracking.results.campaign_results`), so the
demo (and its test) can check that the measured rates recover the planted ones.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from streamwise.data.sample.recipients import PLANTED_REACTIONS, ReactionTruth, plan_reactions
from streamwise.downstream.campaigns.assignment import HOLDOUT
from streamwise.downstream.tracking.compact import CompactionResult, compact
from streamwise.downstream.tracking.replay import replay_reactions
from streamwise.downstream.tracking.results import CampaignResults, campaign_results
from streamwise.store.models import Campaign, CampaignSend

__all__ = ["LoopResult", "close_the_loop"]


@dataclass(frozen=True)
class LoopResult:
    """What the recipients did and what the server measured.

    Attributes
    ----------
    requests
        HTTP answers by ``"<kind> <status>"`` (e.g. ``"open 200"``, ``"click 302"``).
    planned
        Reactions replayed by kind, humans and machines apart (``"open machine"``).
    results
        Per campaign, as the tracking server measured it.
    compaction
        The move of events and engagement into the analytics database.
    truth
        The planted rates.
    """

    requests: Counter[str]
    planned: Counter[str]
    results: tuple[CampaignResults, ...]
    compaction: CompactionResult
    truth: ReactionTruth


def _ledger(engine: Any, names: Sequence[str]) -> tuple[dict[str, int], list[str], datetime]:
    """Campaign ids by name, the held-out customers and the last send time."""
    with engine.connect() as con:
        ids = {n: int(i) for n, i in con.execute(
            select(Campaign.name, Campaign.id).where(Campaign.name.in_(names)))}  # fmt: skip
        mine = CampaignSend.campaign_id.in_(list(ids.values()))
        arm_is_holdout = CampaignSend.arm == HOLDOUT
        held = list(con.execute(select(CampaignSend.customer_id).where(mine, arm_is_holdout)))
        last = con.execute(select(func.max(CampaignSend.sent_at)).where(mine)).scalar()
    last = last or datetime.now(UTC)
    return ids, [c for (c,) in held], last if last.tzinfo else last.replace(tzinfo=UTC)


def close_the_loop(
    workspace: Any,
    messages: Sequence[bytes],
    campaigns: Sequence[str],
    *,
    public_base: str = "https://t.northwind.example",
    truth: ReactionTruth = PLANTED_REACTIONS,
    seed: int = 42,
) -> LoopResult:
    """Replay the recipients' reactions to ``messages`` against the workspace's server, then
    compact and measure.

    Parameters
    ----------
    workspace
        The demo workspace (its campaigns have been sent).
    messages
        The raw messages the SMTP server accepted.
    campaigns
        The names of the campaigns that sent them.
    public_base
        The campaigns' ``tracking_base_url``.
    truth, seed
        The planted rates and the seed of the draws.
    """
    from streamwise.web.auth import create_key, revoke_key
    from streamwise.web.local import LocalServer

    engine = workspace.operational()
    ids, held, last_sent = _ledger(engine, campaigns)
    reactions = plan_reactions(messages, held, truth=truth, seed=seed)
    planned = Counter(f"{r.kind} {'machine' if r.machine else 'human'}" for r in reactions)
    row, key = create_key(engine, "demo reactions", "ingest")
    # Nobody opens a message within seconds of its sending (the "too fast" machine rule).
    wait = 2.5 - (datetime.now(UTC) - last_sent).total_seconds()
    if wait > 0:
        time.sleep(wait)
    try:
        with LocalServer(workspace) as server:
            requests = replay_reactions(
                reactions, server_url=server.url, public_base=public_base, ingest_key=key
            )
    finally:
        revoke_key(engine, row.prefix)
    compaction = compact(engine, workspace.duckdb())
    results = tuple(campaign_results(engine, ids[name]) for name in campaigns if name in ids)
    return LoopResult(requests, planned, results, compaction, truth)
