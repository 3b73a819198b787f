"""What journeys are doing: entries by state, who is at each step now, what each step did, and
each send step's ledger."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func, select

from streamwise.downstream.journeys.durations import format_duration
from streamwise.downstream.journeys.load import parse_journey
from streamwise.downstream.journeys.schedule import ACTIVE
from streamwise.downstream.journeys.store import journey_by_name
from streamwise.downstream.journeys.templates import describe_trigger
from streamwise.store.db import engine_of, needs_table
from streamwise.store.models import CampaignSend, Journey, JourneyEntry, JourneyStep

__all__ = ["JourneyReport", "JourneySummary", "StepReport", "journey_report", "list_journeys"]

E = JourneyEntry.__table__
L = JourneyStep.__table__
S = CampaignSend.__table__


@dataclass(frozen=True)
class JourneySummary:
    """One journey in a list: name, state, trigger, entries by state."""

    name: str
    state: str
    trigger: str
    entries: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """The summary, JSON-ready."""
        return asdict(self)


@dataclass(frozen=True)
class StepReport:
    """One step: its kind, active entries at it now, runs by outcome, and (send and notify
    steps) its ledger rows by status."""

    step: str
    kind: str
    waiting: int
    outcomes: dict[str, int]
    ledger: dict[str, int]

    @property
    def runs(self) -> int:
        """How many times the step ran."""
        return sum(self.outcomes.values())

    def to_dict(self) -> dict[str, Any]:
        """The step, JSON-ready."""
        return {**asdict(self), "runs": self.runs}


@dataclass(frozen=True)
class JourneyReport:
    """A journey: its definition in words, entries by state, each step, recent failures."""

    name: str
    state: str
    description: str
    trigger: str
    re_entry: str
    entries: dict[str, int]
    steps: tuple[StepReport, ...]
    failures: tuple[tuple[str, str], ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per step: step, kind, waiting, runs, outcomes, ledger."""
        return pd.DataFrame(
            [{"step": s.step, "kind": s.kind, "waiting": s.waiting, "runs": s.runs,
              "outcomes": s.outcomes, "ledger": s.ledger} for s in self.steps],
            columns=["step", "kind", "waiting", "runs", "outcomes", "ledger"],
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The report, JSON-ready."""
        return {**asdict(self), "steps": [s.to_dict() for s in self.steps]}


def list_journeys(target: Any) -> list[JourneySummary]:
    """Every journey with its entries by state."""
    engine = engine_of(target)
    with needs_table(engine, "journeys", "journey tables"), engine.connect() as con:
        rows = con.execute(select(Journey.id, Journey.name, Journey.state, Journey.definition)
                           .order_by(Journey.name)).all()  # fmt: skip
        counts: dict[int, dict[str, int]] = {}
        for jid, state, n in con.execute(
            select(E.c.journey_id, E.c.state, func.count()).group_by(E.c.journey_id, E.c.state)
        ):
            counts.setdefault(jid, {})[state] = int(n)
    out = []
    for jid, name, state, data in rows:
        d = parse_journey(data, f"journey {name}")
        out.append(JourneySummary(name, state, describe_trigger(d), counts.get(jid, {})))
    return out


def journey_report(target: Any, name: str) -> JourneyReport:
    """The report of the journey ``name``.

    Raises
    ------
    ConfigError
        When there is no such journey.
    """
    engine = engine_of(target)
    row = journey_by_name(engine, name)
    d = parse_journey(row.definition, f"journey {name}")
    jid = int(row.id)
    with engine.connect() as con:
        by_state = select(E.c.state, func.count()).where(E.c.journey_id == jid)
        entries = {s: int(n) for s, n in con.execute(by_state.group_by(E.c.state))}
        waiting = dict(con.execute(
            select(E.c.step, func.count()).where(E.c.journey_id == jid, ACTIVE)
            .group_by(E.c.step)).all())  # fmt: skip
        outcomes: dict[str, dict[str, int]] = {}
        for step, outcome, n in con.execute(
            select(L.c.step, L.c.outcome, func.count()).where(L.c.journey_id == jid)
            .group_by(L.c.step, L.c.outcome)
        ):  # fmt: skip
            outcomes.setdefault(step, {})[outcome] = int(n)
        ledgers: dict[int, dict[str, int]] = {}
        ids = [int(v) for v in row.campaigns.values()]
        if ids:
            for cid, status, n in con.execute(
                select(S.c.campaign_id, S.c.status, func.count()).where(S.c.campaign_id.in_(ids))
                .group_by(S.c.campaign_id, S.c.status)
            ):  # fmt: skip
                ledgers.setdefault(int(cid), {})[status] = int(n)
        failed = con.execute(
            select(E.c.customer_id, E.c.exit_reason)
            .where(E.c.journey_id == jid, E.c.state == "failed").order_by(E.c.id.desc()).limit(10)
        ).all()  # fmt: skip
    steps = tuple(
        StepReport(s.id, s.kind, int(waiting.get(s.id, 0)), outcomes.get(s.id, {}),
                   ledgers.get(int(row.campaigns.get(s.id, -1)), {}))
        for s in d.steps
    )  # fmt: skip
    r = d.re_entry
    again = format_duration(r.cooldown) + " after exit" if r.cooldown else r.mode.replace("_", " ")
    return JourneyReport(name, row.state, d.description, describe_trigger(d), again, entries,
                         steps, tuple((c, str(reason or "")) for c, reason in failed))  # fmt: skip
