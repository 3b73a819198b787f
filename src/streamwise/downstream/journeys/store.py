"""Journeys in the operational database: create one (with a campaign row per send and notify
step), pause, resume, and load them as the worker runs them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Engine, select, update

from streamwise.downstream.campaigns.settings import CampaignSettings
from streamwise.downstream.journeys.definition import JourneyDefinition, NotifySales, Send
from streamwise.downstream.journeys.load import load_journey, parse_journey
from streamwise.errors import ConfigError
from streamwise.store.db import engine_of, needs_table, session_factory
from streamwise.store.models import Campaign, Journey

__all__ = [
    "Live",
    "create_journey",
    "journey_by_name",
    "live_journeys",
    "set_state",
    "step_campaign_name",
]


@dataclass(frozen=True)
class Live:
    """A journey as the worker runs it: its row's id, name, state and seed, the checked
    definition and the campaign id of each send and notify step."""

    id: int
    name: str
    state: str
    seed: str
    definition: JourneyDefinition
    campaigns: dict[str, int]
    updated_at: datetime

    @property
    def active(self) -> bool:
        """Whether the journey admits and advances customers."""
        return self.state == "active"


def step_campaign_name(journey: str, step: str) -> str:
    """The campaign row of a journey's send or notify step: ``JOURNEY/STEP``."""
    return f"{journey}/{step}"


def _now() -> datetime:
    return datetime.now(UTC)


def create_journey(
    target: Any, definition: JourneyDefinition | str, *, source: str = "", start: bool = True
) -> int:
    """Store a journey (``definition`` checked, or YAML text) and a campaign row (state
    ``journey``) for each send step — its settings, or a copy of the named campaign's — and each
    notify step. Returns the journey's id. ``start=False`` creates it paused.

    Raises
    ------
    ConfigError
        When a journey of that name exists, a step's campaign name is taken, or a copied
        campaign does not exist.
    """
    if isinstance(definition, str):
        source = source or definition
        definition = load_journey(definition, "journey")
    engine = engine_of(target)
    d = definition
    with (
        needs_table(engine, "journeys", "journey tables"),
        session_factory(engine)() as session,
        session.begin(),
    ):  # the journey and its step campaigns commit together
        if session.scalar(select(Journey.id).where(Journey.name == d.name)) is not None:
            raise ConfigError(
                f"a journey named {d.name!r} exists already; choose another name (journeys "
                "are not edited in place: customers may be at any of their steps)"
            )
        campaigns: dict[str, int] = {}
        for step in d.steps:
            if isinstance(step.body, Send | NotifySales):
                campaigns[step.id] = _step_campaign(session, d, step.id)
        row = Journey(
            name=d.name, state="active" if start else "paused", definition=d.to_dict(),
            source=source, seed=secrets.token_hex(16), campaigns=campaigns, rounds=0,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return int(row.id)


def _step_campaign(session: Any, d: JourneyDefinition, step_id: str) -> int:
    body = d.by_id[step_id].body
    name = step_campaign_name(d.name, step_id)
    if session.scalar(select(Campaign.id).where(Campaign.name == name)) is not None:
        raise ConfigError(f"a campaign named {name!r} exists already; rename the journey or step")
    if isinstance(body, NotifySales):
        channel, settings = "webhook", {"notify": body.model_dump(mode="json")}
    elif body.campaign is not None:  # type: ignore[union-attr]
        source = session.scalar(select(Campaign).where(Campaign.name == body.campaign))  # type: ignore[union-attr]
        if source is None or source.state == "journey":
            raise ConfigError(
                f"step {step_id!r} copies campaign {body.campaign!r}, which does not exist "  # type: ignore[union-attr]
                "(or is a journey's step); create it with `streamwise campaign create` first"
            )
        channel, settings = source.channel, dict(source.settings)
    else:
        assert isinstance(body, Send)
        channel = body.channel or "email"
        settings = CampaignSettings(**d.send_settings(step_id)).model_dump(mode="json")
    row = Campaign(name=name, channel=channel, state="journey", audience="", settings=settings,
                   seed=secrets.token_hex(16), goal=f"journey {d.name}")  # fmt: skip
    session.add(row)
    session.flush()
    return int(row.id)


def journey_by_name(target: Any, name: str) -> Journey:
    """The journey row called ``name``.

    Raises
    ------
    ConfigError
        When there is none (the message lists the journeys).
    """
    engine = engine_of(target)
    with needs_table(engine, "journeys", "journey tables"), session_factory(engine)() as session:
        row = session.scalar(select(Journey).where(Journey.name == name))
        if row is None:
            names = session.scalars(select(Journey.name).order_by(Journey.name)).all()
            known = ", ".join(names) or "none yet (create one with `streamwise journey create`)"
            raise ConfigError(f"no journey named {name!r}; journeys: {known}")
        session.expunge(row)
    return row


def set_state(target: Any, name: str, state: Literal["active", "paused"]) -> str:
    """Pause or resume a journey; returns its previous state. A paused journey admits nobody
    and advances nobody; on resume, steps that fell due meanwhile run at once."""
    engine = engine_of(target)
    row = journey_by_name(engine, name)
    with engine.begin() as con:
        con.execute(update(Journey).where(Journey.id == row.id)
                    .values(state=state, updated_at=_now()))  # fmt: skip
    return row.state


def live_journeys(engine: Engine, cache: dict[int, Live] | None = None) -> dict[int, Live]:
    """Every journey, by id, as the worker runs it (a journey unchanged since ``cache`` was
    made is taken from it rather than checked again)."""
    cache = cache or {}
    out: dict[int, Live] = {}
    with engine.connect() as con:
        rows = con.execute(select(Journey.id, Journey.name, Journey.state, Journey.seed,
                                  Journey.updated_at, Journey.campaigns)).all()  # fmt: skip
        for jid, name, state, seed, updated, campaigns in rows:
            old = cache.get(jid)
            if old is not None and old.updated_at == updated and old.state == state:
                out[jid] = old
                continue
            data = con.execute(select(Journey.definition).where(Journey.id == jid)).scalar()
            d = parse_journey(data, f"journey {name}")
            ids = {k: int(v) for k, v in campaigns.items()}
            out[jid] = Live(int(jid), name, state, seed, d, ids, updated)
    return out
