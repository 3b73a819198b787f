"""A/B test on a share of the audience, the decision with guardrails and fallback, and the
rollout of the chosen variant to everyone else — each person gets at most one of the two."""

from __future__ import annotations

import email
import shutil
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from typer.testing import CliRunner

from streamwise.cli.app import app
from streamwise.downstream.audiences import Audience, resolve
from streamwise.downstream.campaigns.assignment import HOLDOUT
from streamwise.downstream.campaigns.rollout import decide, rollout, rollout_name
from streamwise.downstream.campaigns.service import create_campaign, run_send
from streamwise.errors import ConfigError
from streamwise.store.models import Campaign, CampaignSend, Engagement
from streamwise.workspace import Workspace

from .test_send import AUDIENCE, settings

TEST = {"share": 0.5, "metric": "click_rate", "min_per_arm": 20, "chance_to_win": 0.95,
        "guardrails": {"unsubscribe_rate": 0.02}}  # fmt: skip


@pytest.fixture
def ws(demo_dir: Path, tmp_path: Path):
    shutil.copytree(demo_dir, tmp_path / "ws")
    with Workspace.open(tmp_path / "ws") as w:
        yield w


def ledger(ws: Workspace, campaign: str) -> dict[str, str]:
    """customer_id → arm of a campaign's ledger."""
    s, c = CampaignSend.__table__, Campaign.__table__
    with ws.operational().connect() as con:
        rows = con.execute(select(s.c.customer_id, s.c.arm).join(c, c.c.id == s.c.campaign_id)
                           .where(c.c.name == campaign)).all()  # fmt: skip
    return {str(cid): str(arm) for cid, arm in rows}


def react(ws: Workspace, campaign: str, kind: str, rates: dict[str, float]) -> None:
    """Every ``1/rate``-th recipient of each arm clicks (or unsubscribes): a human request."""
    arms = ledger(ws, campaign)
    with ws.operational().connect() as con:
        cid = con.execute(select(Campaign.id).where(Campaign.name == campaign)).scalar_one()
    rows = []
    for arm, rate in rates.items():
        members = sorted(c for c, a in arms.items() if a == arm)
        chosen = members[: round(rate * len(members))]
        rows += [{"kind": kind, "campaign_id": cid, "variant": arm, "customer_id": c,
                  "ts": datetime.now(UTC), "machine": False, "url": "https://shop.example/x"}
                 for c in chosen]  # fmt: skip
    if rows:
        with ws.operational().begin() as con:
            con.execute(insert(Engagement.__table__), rows)


def consented(ws: Workspace) -> set[str]:
    members = resolve(ws, Audience("x", AUDIENCE)).members
    return set(members.loc[members["email_consent"].astype(bool), "customer_id"].astype(str))


def test_the_winner_rolls_out_to_everyone_not_in_the_test(ws, smtp) -> None:
    controller, server = smtp
    create_campaign(ws, "ab", audience=AUDIENCE, settings=settings(controller.port, test=TEST))
    run_send(ws, "ab")
    test_arms = ledger(ws, "ab")
    everyone = consented(ws)
    assert 0.3 < len(test_arms) / len(everyone) < 0.7  # the test's share
    react(ws, "ab", "click", {"A": 0.05, "B": 0.6})
    d = decide(ws, "ab")
    assert (d.decision.status, d.decision.winner, d.variant) == ("winner", "B", "B"), (
        d.decision.reasons,
        d.results.to_dict(),
    )
    assert any("B" in r for r in d.decision.reasons)
    _, new_id = rollout(ws, "ab")
    assert rollout(ws, "ab")[1] == new_id  # created once
    before = len(server.messages)
    report = run_send(ws, rollout_name("ab"))
    assert report.state == "done"
    rolled = ledger(ws, rollout_name("ab"))
    assert not set(rolled) & set(test_arms)  # nobody in both
    assert set(rolled) | set(test_arms) == everyone  # everyone in one
    assert set(rolled.values()) <= {"B", HOLDOUT}
    subjects = {email.message_from_bytes(m, policy=policy.default)["Subject"]
                for m in server.messages[before:]}  # fmt: skip
    assert subjects
    assert all(s.startswith("Weekend plans") for s in subjects)
    ids = server.message_ids()
    assert len(ids) == len(set(ids))


def test_a_guardrail_stops_a_winner_that_drives_unsubscribes(ws, smtp) -> None:
    controller, _ = smtp
    create_campaign(ws, "ab", audience=AUDIENCE, settings=settings(controller.port, test=TEST))
    run_send(ws, "ab")
    react(ws, "ab", "click", {"A": 0.05, "B": 0.6})
    react(ws, "ab", "unsubscribe", {"A": 0.0, "B": 0.3})
    d = decide(ws, "ab")
    assert d.decision.status == "guardrail_failed", d.decision.reasons
    assert d.variant == "A"  # the fallback (first variant)
    assert any("unsubscribe" in r for r in d.decision.reasons)


def test_an_inconclusive_test_falls_back_and_too_few_sends_wait(ws, smtp) -> None:
    controller, _ = smtp
    fallback = {**TEST, "fallback": "B"}
    create_campaign(ws, "ab", audience=AUDIENCE, settings=settings(controller.port, test=fallback))
    with pytest.raises(ConfigError, match="too few sends"):
        rollout(ws, "ab")  # nothing sent yet
    run_send(ws, "ab")
    react(ws, "ab", "click", {"A": 0.2, "B": 0.2})
    d = decide(ws, "ab")
    assert d.decision.status == "inconclusive"
    assert d.variant == "B"
    runner = CliRunner()
    out = runner.invoke(app, ["campaign", "decide", "ab", "-w", str(ws.root)])
    assert out.exit_code == 0, out.output
    assert "inconclusive" in out.output
    assert "B" in out.output


def test_settings_refuse_a_test_without_two_variants(ws, smtp) -> None:
    controller, _ = smtp
    one = settings(controller.port, test=TEST)
    del one["variants"]["B"]
    with pytest.raises(ConfigError, match="at least two variants"):
        create_campaign(ws, "ab", audience=AUDIENCE, settings=one)
    create_campaign(ws, "plain", audience=AUDIENCE, settings=settings(controller.port))
    with pytest.raises(ConfigError, match="not an A/B test"):
        decide(ws, "plain")
