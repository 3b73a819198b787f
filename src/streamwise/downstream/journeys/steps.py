"""What each kind of step does to a group of entries at it: an outcome and the next step for
each (``None``: the entry ends). Effects (ledger rows, attributes) go into the batch's
:class:`~.context.Run`; nothing is written here."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from streamwise.downstream.campaigns.assignment import uniform_draws
from streamwise.downstream.journeys.conditions import holds
from streamwise.downstream.journeys.context import Run
from streamwise.downstream.journeys.definition import Branch, Exit, Split, Step, Update, Wait
from streamwise.downstream.journeys.schedule import Entry
from streamwise.downstream.journeys.sends import notify, send
from streamwise.downstream.journeys.store import Live

__all__ = ["RUNNERS", "Result"]

Result = list[tuple[Entry, str, str | None]]


def _wait(step: Step, entries: list[Entry], live: Live, run: Run) -> Result:
    body = step.body
    assert isinstance(body, Wait)
    if body.until is None:
        return [(e, "waited", step.next) for e in entries]
    late = body.on_timeout or step.next
    return [(e, f"{e.woken_by} came", step.next) if e.woken_by else (e, "timed out", late)
            for e in entries]  # fmt: skip


def _branch(step: Step, entries: list[Entry], live: Live, run: Run) -> Result:
    body = step.body
    assert isinstance(body, Branch)
    yes = holds(body.if_, entries, live, run)
    other = body.else_ or step.next
    return [(e, "yes", body.then) if e.id in yes else (e, "no", other) for e in entries]


def _split(step: Step, entries: list[Entry], live: Live, run: Run) -> Result:
    body = step.body
    assert isinstance(body, Split)
    names = list(body.arms)
    weights = np.array([body.arms[n].weight for n in names], dtype=float)
    edges = np.cumsum(weights / weights.sum())
    draws = uniform_draws(f"{live.seed}:{step.id}", [e.customer_id for e in entries])
    picks = np.searchsorted(edges, draws, side="right").clip(0, len(names) - 1)
    return [(e, f"arm {names[i]}", body.arms[names[i]].next)
            for e, i in zip(entries, picks, strict=True)]  # fmt: skip


def _update(step: Step, entries: list[Entry], live: Live, run: Run) -> Result:
    body = step.body
    assert isinstance(body, Update)
    source = f"journey {live.name}"
    for e in entries:
        for name, value in body.set_.items():
            run.attributes[(e.customer_id, name)] = {
                "customer_id": e.customer_id, "name": name, "value": value, "source": source,
                "updated_at": run.now,
            }  # fmt: skip
    shown = ", ".join(f"{k}={v}" for k, v in body.set_.items())[:150]
    return [(e, f"set {shown}", step.next) for e in entries]


def _exit(step: Step, entries: list[Entry], live: Live, run: Run) -> Result:
    body = step.body
    assert isinstance(body, Exit)
    return [(e, body.reason or "exit", None) for e in entries]


#: The runner of each step kind.
RUNNERS: dict[str, Callable[[Step, list[Entry], Live, Run], Result]] = {
    "send": send, "notify_sales": notify, "wait": _wait, "branch": _branch, "split": _split,
    "update": _update, "exit": _exit,
}  # fmt: skip
