"""Reacting to what customers do: the worker reads new ``tracked_events`` and ``engagements`` by
id above a cursor kept in the database (``journey_cursors``), and in one transaction admits the
customers a trigger matches, ends the entries an exit condition matches and wakes the entries
waiting for that event.

Order within a read: admissions first (an entry admitted by event *n* has mark *n*), then exits
of entries whose mark is below the exit event's id, then wakes of entries whose current step
began below it — so "Cart Abandoned" then "Order Completed" in one read still exits.

PostgreSQL hands out ids before commit, so a row can appear after a higher id was read. Each
read therefore goes back ``lookback`` ids below the cursor (1,000 by default on PostgreSQL, none
on SQLite, whose writers commit one at a time in id order) and skips what this worker has seen.
Everything done here is safe to repeat: an event admits a customer once (the trigger key is
unique), exits and wakes only touch entries older than the event.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, select, update

from streamwise.downstream.journeys.definition import EventCondition, Wait
from streamwise.downstream.journeys.match import matches, properties_of
from streamwise.downstream.journeys.schedule import (
    ACTIVE,
    Candidate,
    admit,
    get_cursor,
    marks,
    set_cursor,
)
from streamwise.downstream.journeys.store import Live
from streamwise.store.models import Campaign, Engagement, JourneyEntry, TrackedEvent

__all__ = ["ScanReport", "Watcher"]

E = JourneyEntry.__table__
T = TrackedEvent.__table__
G = Engagement.__table__
_KINDS = {"opened": ("open", "click"), "clicked": ("click",), "unsubscribed": ("unsubscribe",)}


@dataclass(frozen=True)
class ScanReport:
    """What one read did: rows read, customers admitted, entries exited and woken."""

    read: int = 0
    entered: int = 0
    exited: int = 0
    woken: int = 0


def _exit_stmt(mark: Any) -> Any:
    return (
        update(E)
        .where(E.c.journey_id == bindparam("j"), E.c.customer_id == bindparam("c"),
               ACTIVE, mark < bindparam("m"))
        .values(state="exited", due_at=None, exited_at=bindparam("now"),
                updated_at=bindparam("now"), exit_reason=bindparam("r"))
    )  # fmt: skip


def _wake_stmt(mark: Any) -> Any:
    return (
        update(E)
        .where(and_(E.c.journey_id == bindparam("j"), E.c.customer_id == bindparam("c"),
                    ACTIVE, E.c.step == bindparam("s"), E.c.woken_by.is_(None),
                    mark < bindparam("m")))
        .values(due_at=bindparam("now"), woken_by=bindparam("w"), updated_at=bindparam("now"))
    )  # fmt: skip


_EXIT = {"event": _exit_stmt(E.c.event_mark), "email": _exit_stmt(E.c.email_mark)}
_WAKE = {"event": _wake_stmt(E.c.step_event_mark), "email": _wake_stmt(E.c.step_email_mark)}


class Watcher:
    """Reads new events and engagements for the worker; keeps what it has seen above the
    lookback window so that re-reading that window costs no repeated work."""

    def __init__(self, *, lookback: int = 0, limit: int = 5000) -> None:
        self.lookback = lookback
        self.limit = limit
        self._seen: dict[str, set[int]] = {"tracked_events": set(), "engagements": set()}

    def _read(self, con: Connection, name: str, table: Any, columns: list[Any]) -> list[Any]:
        cursor = get_cursor(con, name)
        start = max(0, cursor - self.lookback)
        rows = con.execute(select(*columns).where(table.c.id > start)
                           .order_by(table.c.id).limit(self.limit)).all()  # fmt: skip
        seen = self._seen[name]
        fresh = [r for r in rows if r.id not in seen]
        if rows:
            top = max(cursor, int(rows[-1].id))
            if top > cursor:
                set_cursor(con, name, top)
            seen.update(int(r.id) for r in fresh)
            floor = top - self.lookback
            self._seen[name] = {i for i in seen if i > floor} if self.lookback else set()
        return fresh

    def scan(self, con: Connection, lives: dict[int, Live], now: datetime) -> ScanReport:
        """One read of both tables, applied in the caller's transaction."""
        active = {j: live for j, live in lives.items() if live.active}
        events = self._read(con, "tracked_events", T,
                            [T.c.id, T.c.type, T.c.user_id, T.c.event, T.c.properties])  # fmt: skip
        clicks = self._read(con, "engagements", G, [G.c.id, G.c.kind, G.c.campaign_id,
                                                    G.c.customer_id, G.c.machine])  # fmt: skip
        if not active or not (events or clicks):
            return ScanReport(len(events) + len(clicks))
        ev_now, em_now = marks(con)
        interests = {j: _interests(live) for j, live in active.items()}
        names = _campaign_ids(con, interests)
        cands: list[Candidate] = []
        exits: dict[str, list[dict[str, Any]]] = defaultdict(list)
        wakes: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in events:
            if r.type != "track" or not r.user_id or not r.event:
                continue
            props: dict[str, Any] | None = None
            for jid, listens in interests.items():
                for use, step, cond in listens:
                    if cond.event != r.event:
                        continue
                    if cond.where:
                        props = properties_of(r.properties) if props is None else props
                        if not matches(cond.where, props):
                            continue
                    if use == "trigger":
                        props = properties_of(r.properties) if props is None else props
                        ctx = {"event": props, "event_name": r.event}
                        cands.append(Candidate(jid, r.user_id, f"e{r.id}", int(r.id), em_now, ctx))
                    hit = {"j": jid, "c": r.user_id, "m": int(r.id), "now": now}
                    if use == "exit":
                        exits["event"].append(hit | {"r": f"exit_on: event {r.event}"})
                    elif use == "wake":
                        wakes["event"].append(hit | {"s": step, "w": f"event {r.event}"})
        for r in clicks:
            for jid, listens in interests.items():
                live = active[jid]
                for use, step, cond in listens:
                    if cond.email is None or r.kind not in _KINDS[cond.email]:
                        continue
                    if r.machine and r.kind != "unsubscribe":
                        continue  # privacy prefetches and link scanners are not people
                    want = (live.campaigns.get(cond.step) if cond.step
                            else names.get(cond.campaign) if cond.campaign else None)  # fmt: skip
                    if (cond.step or cond.campaign) and want != r.campaign_id:
                        continue
                    if use == "trigger":
                        ctx = {"email": {"kind": r.kind, "campaign_id": r.campaign_id}}
                        cands.append(Candidate(jid, r.customer_id, f"g{r.id}", ev_now, int(r.id),
                                               ctx))  # fmt: skip
                    hit = {"j": jid, "c": r.customer_id, "m": int(r.id), "now": now}
                    if use == "exit":
                        exits["email"].append(hit | {"r": f"exit_on: e-mail {cond.email}"})
                    elif use == "wake":
                        wakes["email"].append(hit | {"s": step, "w": f"e-mail {cond.email}"})
        entered = admit(con, cands, {j: lv.definition for j, lv in active.items()}, now)
        exited = sum(_many(con, _EXIT[k], rows) for k, rows in exits.items())
        woken = sum(_many(con, _WAKE[k], rows) for k, rows in wakes.items())
        return ScanReport(len(events) + len(clicks), entered, exited, woken)


def _many(con: Connection, stmt: Any, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    result = con.execute(stmt, rows)
    return max(0, int(result.rowcount or 0))


def _interests(live: Live) -> list[tuple[str, str | None, EventCondition]]:
    """What of a journey listens to events: its trigger, its exit conditions, its waits."""
    d = live.definition
    out: list[tuple[str, str | None, EventCondition]] = []
    cond = d.trigger.condition
    if cond is not None:
        out.append(("trigger", None, cond))
    out += [("exit", None, c) for c in d.exit_on]
    for step in d.steps:
        if isinstance(step.body, Wait) and step.body.until is not None:
            out.append(("wake", step.id, step.body.until))
    return out


def _campaign_ids(
    con: Connection, interests: dict[int, list[tuple[str, str | None, EventCondition]]]
) -> dict[str | None, int]:
    """Ids of the campaigns that e-mail conditions name."""
    wanted = {c.campaign for listens in interests.values() for _, _, c in listens if c.campaign}
    if not wanted:
        return {}
    rows = con.execute(select(Campaign.name, Campaign.id).where(Campaign.name.in_(wanted))).all()
    return {n: int(i) for n, i in rows}
