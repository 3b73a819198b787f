"""A branch's question, answered for a whole batch of entries with one query per kind.

* ``filter``: the audience filter compiled to Ibis and run in the analytics database on the
  batch's customers (never SQL from strings).
* ``bought`` / ``event``: a ``track`` event of the customer in ``tracked_events`` with an id
  above the entry's mark — received after the customer entered. The tracking server deletes
  compacted events after ``dedup_days``; a branch further from entry than that sees none.
* ``clicked`` / ``opened``: a human engagement (``machine`` false) with the step's campaign (or
  any of the journey's send steps) above the entry's e-mail mark. A click counts as an open.
* ``attribute``: the customer's attribute set by an ``update`` step.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import ibis
from sqlalchemy import false, select

from streamwise.downstream.journeys.context import Run
from streamwise.downstream.journeys.definition import Condition
from streamwise.downstream.journeys.match import matches, properties_of
from streamwise.downstream.journeys.schedule import Entry
from streamwise.downstream.journeys.store import Live
from streamwise.store.models import CustomerAttribute, Engagement, TrackedEvent

__all__ = ["holds"]

_CHUNK = 500
T = TrackedEvent.__table__
G = Engagement.__table__
A = CustomerAttribute.__table__


def _chunks(entries: list[Entry]) -> Iterable[list[Entry]]:
    for i in range(0, len(entries), _CHUNK):
        yield entries[i : i + _CHUNK]


def holds(cond: Condition, entries: list[Entry], live: Live, run: Run) -> set[int]:
    """The ids of the entries for which ``cond`` holds now."""
    if cond.filter is not None:
        return _filter(cond.filter, entries, run)
    if cond.bought is not None:
        events = live.definition.purchase_events or run.purchase_events
        yes = _events(entries, run, events, {})
        return yes if cond.bought else {e.id for e in entries} - yes
    if cond.event is not None:
        return _events(entries, run, (cond.event,), cond.where)
    if cond.clicked is not None or cond.opened is not None:
        which = cond.clicked if cond.clicked is not None else cond.opened
        steps = [s.id for s in live.definition.of_kind("send")] if which == "any" else [which]
        campaigns = [live.campaigns[s] for s in steps if s in live.campaigns]
        kinds = ("click",) if cond.clicked is not None else ("open", "click")
        return _engaged(entries, run, campaigns, kinds)
    assert cond.attribute is not None
    return _attribute(cond, entries, run)


def _filter(text: str, entries: list[Entry], run: Run) -> set[int]:
    from streamwise.downstream.audiences.compiler import compile_filter
    from streamwise.downstream.audiences.fields import field_table

    fields = field_table(run.analytics.backend())
    predicate = compile_filter(text, fields, at=run.now)
    t = fields.table.filter(predicate)
    keys = ibis.memtable({"_key": [e.customer_id for e in entries]})
    rows = t.join(keys, t.customer_id == keys._key).select("customer_id").execute()
    found = {str(x) for x in rows["customer_id"]}
    return {e.id for e in entries if e.customer_id in found}


def _events(
    entries: list[Entry], run: Run, names: Iterable[str], where: dict[str, Any]
) -> set[int]:
    out: set[int] = set()
    names = list(names)
    for part in _chunks(entries):
        low = min(e.event_mark for e in part)
        query = select(T.c.user_id, T.c.id, T.c.properties).where(
            T.c.user_id.in_([e.customer_id for e in part]), T.c.type == "track",
            T.c.event.in_(names), T.c.id > low,
        )  # fmt: skip
        seen: dict[str, list[int]] = defaultdict(list)
        for user, eid, props in run.con.execute(query):
            if not where or matches(where, properties_of(props)):
                seen[user].append(int(eid))
        out.update(e.id for e in part if any(i > e.event_mark for i in seen.get(e.customer_id, ())))
    return out


def _engaged(
    entries: list[Entry], run: Run, campaigns: list[int], kinds: tuple[str, ...]
) -> set[int]:
    out: set[int] = set()
    if not campaigns:
        return out
    for part in _chunks(entries):
        low = min(e.email_mark for e in part)
        query = select(G.c.customer_id, G.c.id).where(
            G.c.customer_id.in_([e.customer_id for e in part]), G.c.campaign_id.in_(campaigns),
            G.c.kind.in_(kinds), G.c.machine == false(), G.c.id > low,
        )  # fmt: skip
        seen: dict[str, list[int]] = defaultdict(list)
        for customer, gid in run.con.execute(query):
            seen[customer].append(int(gid))
        out.update(e.id for e in part if any(i > e.email_mark for i in seen.get(e.customer_id, ())))
    return out


def _attribute(cond: Condition, entries: list[Entry], run: Run) -> set[int]:
    values: dict[str, Any] = {}
    for part in _chunks(entries):
        query = select(A.c.customer_id, A.c.value).where(
            A.c.name == cond.attribute, A.c.customer_id.in_([e.customer_id for e in part])
        )
        values.update(dict(run.con.execute(query).all()))
    # Attributes this batch set are not written yet: they count too.
    for (customer, name), row in run.attributes.items():
        if name == cond.attribute:
            values[customer] = row["value"]

    def ok(value: Any) -> bool:
        if cond.equals is not None:
            return bool(value == cond.equals)
        if cond.in_ is not None:
            return value in cond.in_
        return value is not None

    return {e.id for e in entries if e.customer_id in values and ok(values[e.customer_id])}
