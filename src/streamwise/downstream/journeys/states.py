"""State triggers: customers enter when something computed upstream changes — they start to
match an audience filter (entered a segment, P(alive) fell below a threshold) or a field's value
or tier changes (CLV tier).

The worker evaluates a journey's state every ``every`` and whenever the analytics database
changed since the last evaluation (DuckDB: its file; a server engine: on schedule only). What it
saw is kept in ``journey_states`` (one row per customer who matched, or per customer's value),
so the next evaluation admits exactly those whose state changed. The first evaluation only
records the state, unless ``include_existing`` admits everyone who matches then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import Connection, delete, select, update

from streamwise.downstream.journeys.analytics import Analytics
from streamwise.downstream.journeys.definition import Trigger
from streamwise.downstream.journeys.schedule import (
    Candidate,
    admit,
    marks,
    upsert,
    utc,
)
from streamwise.downstream.journeys.store import Live
from streamwise.store.models import Journey, JourneyState

__all__ = ["StateReport", "current_states", "evaluate_states"]

S = JourneyState.__table__
_CHUNK = 5000


@dataclass(frozen=True)
class StateReport:
    """Journeys whose state was evaluated, customers whose state changed, customers admitted."""

    evaluated: int = 0
    changed: int = 0
    entered: int = 0


def current_states(t: Trigger, a: Analytics, now: datetime) -> dict[str, str]:
    """Customer → state now: ``"1"`` for those matching a filter; the (tiered) value of a
    ``changes`` field for those who have one."""
    from streamwise.downstream.audiences.compiler import compile_filter
    from streamwise.downstream.audiences.fields import field_table

    fields = field_table(a.backend())
    table = fields.table
    if t.filter is not None:
        ids = table.filter(compile_filter(t.filter, fields, at=now)).select("customer_id").execute()
        return dict.fromkeys(ids["customer_id"].astype(str), "1")
    assert t.changes is not None
    if t.changes not in fields.available:
        from streamwise.errors import ConfigError

        raise ConfigError(fields.missing.get(t.changes, f"unknown field {t.changes!r}"))
    col = table[t.changes]
    rows = table.filter(col.notnull()).select("customer_id", value=col).execute()
    ids = rows["customer_id"].astype(str)
    if t.tiers:
        names = sorted(t.tiers, key=lambda k: t.tiers[k])  # type: ignore[index]
        bounds = np.array([t.tiers[n] for n in names], dtype=float)
        at = np.searchsorted(bounds, rows["value"].astype(float).to_numpy(), side="right") - 1
        values = [names[i] if i >= 0 else "below " + names[0] for i in at]
    else:
        values = [str(v) for v in rows["value"]]
    return dict(zip(ids, values, strict=True))


def _due(row: Journey, every: timedelta, fingerprint: str | None, now: datetime) -> bool:
    checked = utc(row.checked_at)
    if checked is None or now >= checked + every:
        return True
    return fingerprint is not None and fingerprint != row.fingerprint


def evaluate_states(
    con: Connection, lives: Mapping[int, Live], a: Analytics, now: datetime, *, force: bool = False
) -> StateReport:
    """Evaluate the state triggers that are due (all with ``force``) and admit the customers
    whose state changed, in the caller's transaction."""
    report = StateReport()
    fingerprint = None
    for jid, live in lives.items():
        t = live.definition.trigger
        if not live.active or t.kind not in ("state", "changes"):
            continue
        row = con.execute(select(Journey.checked_at, Journey.fingerprint, Journey.rounds)
                          .where(Journey.id == jid)).one()  # fmt: skip
        fingerprint = fingerprint or a.fingerprint()
        if not force and not _due(row, t.every, fingerprint, now):  # type: ignore[arg-type]
            continue
        now_states = current_states(t, a, now)
        before = dict(con.execute(select(S.c.customer_id, S.c.value).where(S.c.journey_id == jid))
                      .all())  # fmt: skip
        first = int(row.rounds) == 0
        changed = {c: v for c, v in now_states.items() if before.get(c) != v}
        gone = [c for c in before if c not in now_states]
        if t.kind == "state":  # started to match
            enter = [c for c in changed if c not in before]
        else:  # a value that changed (a customer's first value is no change)
            enter = [c for c, v in changed.items() if (c in before or first)
                     and (not t.to or v in t.to)]  # fmt: skip
        if first and not t.include_existing:
            enter = []
        _write(con, jid, changed, gone)
        number = int(row.rounds) + 1
        ev, em = marks(con)
        cands = [Candidate(jid, c, f"s{number}", ev, em,
                           {"state": {"from": before.get(c), "to": now_states[c]}})
                 for c in enter]  # fmt: skip
        entered = admit(con, cands, {jid: live.definition}, now)
        con.execute(update(Journey).where(Journey.id == jid)
                    .values(checked_at=now, fingerprint=fingerprint, rounds=number))  # fmt: skip
        report = StateReport(report.evaluated + 1, report.changed + len(changed) + len(gone),
                             report.entered + entered)  # fmt: skip
    return report


def _write(con: Connection, jid: int, changed: dict[str, str], gone: list[str]) -> None:
    for i in range(0, len(gone), _CHUNK):
        con.execute(delete(S).where(S.c.journey_id == jid,
                                    S.c.customer_id.in_(gone[i : i + _CHUNK])))  # fmt: skip
    rows = [{"journey_id": jid, "customer_id": c, "value": v[:200]} for c, v in changed.items()]
    for i in range(0, len(rows), _CHUNK):
        upsert(con, S, rows[i : i + _CHUNK], ["journey_id", "customer_id"])
