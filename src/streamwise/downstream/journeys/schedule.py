"""The durable schedule: journey entries admitted, claimed when due, moved on in bulk.

Every active entry is one row of ``journey_entries``: the step it is at and when that step is
due. A worker claims up to a batch of due entries in one transaction — ``SELECT … FOR UPDATE
SKIP LOCKED`` on PostgreSQL, so workers never claim the same entry; on SQLite the transaction
starts with ``BEGIN IMMEDIATE`` (one writer at a time, one worker) — runs their steps, and in
the same transaction records each step run (``journey_steps``, unique per entry and step
number), makes its effects (send-ledger rows, attributes) and writes where each entry is now.
A crash before the commit leaves nothing of it; after, all of it. All of it is SQLAlchemy Core
on sets of rows (executemany, ``INSERT … ON CONFLICT``), not ORM objects.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, literal_column, select

from streamwise.downstream.journeys.bulk import insert_rows, update_rows
from streamwise.downstream.journeys.definition import JourneyDefinition, Wait
from streamwise.store.models import (
    Engagement,
    JourneyCursor,
    JourneyEntry,
    JourneyStep,
    TrackedEvent,
)

__all__ = [
    "ACTIVE",
    "Candidate",
    "Entry",
    "admit",
    "arrival",
    "claim",
    "get_cursor",
    "insert_steps",
    "marks",
    "save",
    "set_cursor",
    "upsert",
    "utc",
]

E = JourneyEntry.__table__
L = JourneyStep.__table__
#: ``state = 'active'`` with the value in the SQL text, not a parameter: PostgreSQL can use a
#: partial index (``WHERE state = 'active'``) only when it sees the value, and a prepared
#: statement's generic plan does not.
ACTIVE = E.c.state == literal_column("'active'")
_CHUNK = 500  # ids per IN (...) list


def utc(value: datetime | None) -> datetime | None:
    """``value`` as an aware UTC time (SQLite gives naive times back; they are UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Candidate:
    """Someone a trigger would admit: the journey, the customer, what admitted them (unique per
    journey and customer: ``e123`` for tracked event 123, ``g45`` for engagement 45, ``s7``
    for the 7th state evaluation), the marks to count "since entry" from, and the context the
    templates see (the event's properties, a state's old and new value)."""

    journey_id: int
    customer_id: str
    trigger_key: str
    event_mark: int
    email_mark: int
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Entry:
    """A claimed active entry while its batch runs (changed in place, then saved)."""

    id: int
    journey_id: int
    customer_id: str
    step: str
    seq: int
    entered_at: datetime
    event_mark: int
    email_mark: int
    step_event_mark: int
    step_email_mark: int
    woken_by: str | None
    context: dict[str, Any]
    state: str = "active"
    due_at: datetime | None = None
    exit_reason: str | None = None


def marks(con: Connection) -> tuple[int, int]:
    """The highest ``tracked_events`` and ``engagements`` ids now (0 when empty)."""
    ev = con.execute(select(func.max(TrackedEvent.__table__.c.id))).scalar() or 0
    em = con.execute(select(func.max(Engagement.__table__.c.id))).scalar() or 0
    return int(ev), int(em)


def arrival(d: JourneyDefinition, step_id: str, now: datetime) -> datetime:
    """When an entry that reaches ``step_id`` now is due there: after the wait, or now."""
    body = d.by_id[step_id].body
    return now + body.delay if isinstance(body, Wait) else now


def admit(
    con: Connection,
    candidates: Iterable[Candidate],
    definitions: Mapping[int, JourneyDefinition],
    now: datetime,
) -> int:
    """Admit the candidates the re-entry rules allow (never while active; ``never``: not after
    an earlier entry; a cool-down: not before it has passed since the last exit); the first
    candidate of a customer wins. Returns how many entered. The database refuses a second
    active entry and a repeated trigger (``ON CONFLICT DO NOTHING``), so this is safe to repeat."""
    grouped: dict[int, dict[str, Candidate]] = defaultdict(dict)
    for c in candidates:
        if c.journey_id in definitions:
            grouped[c.journey_id].setdefault(c.customer_id, c)
    admitted = 0
    for jid, by_customer in grouped.items():
        d = definitions[jid]
        history = _history(con, jid, list(by_customer))
        rows = []
        for cid, c in by_customer.items():
            active, count, last_exit = history.get(cid, (False, 0, None))
            if active or (count and d.re_entry.mode == "never"):
                continue
            cool = d.re_entry.cooldown
            if count and cool is not None and last_exit is not None and last_exit + cool > now:
                continue
            rows.append({
                "journey_id": jid, "customer_id": cid, "state": "active", "step": d.first,
                "seq": 0, "due_at": arrival(d, d.first, now), "woken_by": None,
                "trigger_key": c.trigger_key, "event_mark": c.event_mark,
                "email_mark": c.email_mark, "step_event_mark": c.event_mark,
                "step_email_mark": c.email_mark, "context": c.context, "entered_at": now,
                "updated_at": now, "exited_at": None, "exit_reason": None,
            })  # fmt: skip
        for i in range(0, len(rows), 5000):
            admitted += len(insert_rows(con, E, rows[i : i + 5000], returning=["id"], conflict=()))
    return admitted


def _history(
    con: Connection, journey_id: int, customers: list[str]
) -> dict[str, tuple[bool, int, datetime | None]]:
    """Per customer: has an active entry, how many entries, when the last one ended."""
    out: dict[str, tuple[bool, int, datetime | None]] = {}
    active = func.max((E.c.state == "active").cast(E.c.seq.type))
    for i in range(0, len(customers), _CHUNK):
        part = customers[i : i + _CHUNK]
        rows = con.execute(
            select(E.c.customer_id, active, func.count(), func.max(E.c.exited_at))
            .where(E.c.journey_id == journey_id, E.c.customer_id.in_(part))
            .group_by(E.c.customer_id)
        ).all()
        for cid, act, n, last in rows:
            out[cid] = (bool(act), int(n), utc(last))
    return out


_COLUMNS = (E.c.id, E.c.journey_id, E.c.customer_id, E.c.step, E.c.seq, E.c.entered_at,
            E.c.event_mark, E.c.email_mark, E.c.step_event_mark, E.c.step_email_mark,
            E.c.woken_by, E.c.context)  # fmt: skip


def claim(
    con: Connection, journeys: Iterable[int], now: datetime, limit: int, *,
    paused: Iterable[int] = (),
) -> list[Entry]:  # fmt: skip
    """Lock and return up to ``limit`` due active entries of ``journeys`` (earliest first, in
    the order of the due index); on PostgreSQL rows another transaction holds are skipped,
    never waited for. ``paused`` journeys' entries are left alone (naming the few paused
    journeys, rather than the running ones, keeps the due index the plan's only choice)."""
    ids = list(journeys)
    if not ids:
        return []
    query = select(*_COLUMNS).where(ACTIVE, E.c.due_at <= now)
    skip = list(paused)
    if skip:
        query = query.where(E.c.journey_id.not_in(skip))
    query = query.order_by(E.c.due_at, E.c.id).limit(limit)
    if con.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    out = []
    for r in con.execute(query):
        out.append(Entry(int(r.id), int(r.journey_id), r.customer_id, r.step, int(r.seq),
                         utc(r.entered_at), int(r.event_mark), int(r.email_mark),  # type: ignore[arg-type]
                         int(r.step_event_mark), int(r.step_email_mark), r.woken_by,
                         dict(r.context or {})))  # fmt: skip
    return out


def save(con: Connection, entries: list[Entry], now: datetime) -> None:
    """Write where each entry is now (one statement)."""
    update_rows(con, E, [
        {"id": e.id, "step": e.step, "seq": e.seq, "state": e.state,
         "due_at": e.due_at if e.state == "active" else None, "woken_by": None,
         "step_event_mark": e.step_event_mark, "step_email_mark": e.step_email_mark,
         "updated_at": now, "exited_at": None if e.state == "active" else now,
         "exit_reason": e.exit_reason}
        for e in entries
    ], "id")  # fmt: skip


def insert_steps(con: Connection, rows: list[dict[str, Any]]) -> dict[tuple[int, int], int]:
    """Record step runs (``entry_id``, ``journey_id``, ``customer_id``, ``seq``, ``step``,
    ``kind``, ``outcome``, ``at``); returns the id of each by (entry id, seq)."""
    out: dict[tuple[int, int], int] = {}
    for i in range(0, len(rows), 5000):
        part = rows[i : i + 5000]
        for rid, entry_id, seq in insert_rows(con, L, part, returning=["id", "entry_id", "seq"]):
            out[(int(entry_id), int(seq))] = int(rid)
    return out


def upsert(con: Connection, table: Any, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """Insert ``rows``, replacing the other columns where the ``keys`` exist already."""
    for i in range(0, len(rows), 5000):
        insert_rows(con, table, rows[i : i + 5000], conflict=keys, replace=True)


def get_cursor(con: Connection, name: str) -> int:
    """How far the worker has read ``name`` (0 at first)."""
    t = JourneyCursor.__table__
    return int(con.execute(select(t.c.value).where(t.c.name == name)).scalar() or 0)


def set_cursor(con: Connection, name: str, value: int) -> None:
    """Remember how far ``name`` has been read."""
    upsert(con, JourneyCursor.__table__, [{"name": name, "value": value}], ["name"])
