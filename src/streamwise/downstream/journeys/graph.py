"""Checks of a journey's step graph: every target names a step, every step can be reached, every
loop waits, and there is always a way out."""

from __future__ import annotations

import difflib
from typing import Any

from streamwise.downstream.journeys.definition import (
    Branch,
    JourneyDefinition,
    Split,
    Step,
    Wait,
)

__all__ = ["check_graph", "edges"]

Path = tuple[str | int, ...]


def _where(step: Step, label: str) -> Path:
    """The YAML path of a step's target ``label``."""
    base: Path = ("steps", step.index)
    if label in ("then", "else"):
        return (*base, "branch", label)
    if label.startswith("arm "):
        return (*base, "split", label[4:], "next")
    if label == "on_timeout":
        return (*base, "wait", "on_timeout")
    return (*base, "next")


def edges(d: JourneyDefinition) -> dict[str, list[str]]:
    """Step id → the steps it can lead to (known ids only)."""
    return {s.id: [t for t in s.targets().values() if t in d.by_id] for s in d.steps}


def check_graph(d: JourneyDefinition) -> list[tuple[Path, str]]:
    """Problems of the step graph, each with its YAML path."""
    out: list[tuple[Path, str]] = []
    ids = list(d.by_id)
    for step in d.steps:
        for label, target in step.targets().items():
            if not target:
                out.append((_where(step, label) if label != "next" else ("steps", step.index),
                            f"missing exit: after step {step.id!r} there is no step to go to; "
                            "add `next: STEP` or end the steps with `- exit`"))  # fmt: skip
            elif target not in d.by_id:
                close = difflib.get_close_matches(target, ids, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                out.append((_where(step, label), f"unknown step {target!r}{hint}; steps are "
                                                 f"{', '.join(ids)}"))  # fmt: skip
    out += _references(d)
    if out:
        return out
    graph = edges(d)
    reached = _reach(graph, d.first)
    for step in d.steps:
        if step.id not in reached:
            out.append((("steps", step.index), f"step {step.id!r} is unreachable: no step leads "
                                               "to it; link it or remove it"))  # fmt: skip
    for cycle in _loops_without_wait(d, graph):
        first = d.by_id[cycle[0]]
        out.append((("steps", first.index), "loop without a wait: " + " → ".join(cycle + cycle[:1])
                    + " would run at once for ever; put a wait step in the loop"))  # fmt: skip
    exits = {s.id for s in d.of_kind("exit")}
    if not d.exit_on and not out:
        if not exits & reached:
            out.append((("steps",), "missing exit: no exit step can be reached and the journey "
                                    "has no exit_on; add `- exit`"))  # fmt: skip
        else:
            for step in d.steps:
                if step.id in reached and not _reach(graph, step.id) & exits:
                    out.append((("steps", step.index), f"missing exit: from step {step.id!r} no "
                                "path leads to an exit step, so entries would stay for ever; "
                                "add a way out or an exit_on condition"))  # fmt: skip
                    break
    return out


def _references(d: JourneyDefinition) -> list[tuple[Path, str]]:
    """Conditions that name a step must name a send step."""
    sends = [s.id for s in d.of_kind("send")]
    out: list[tuple[Path, str]] = []

    def check(value: str | None, path: Path, allow_any: bool = False) -> None:
        if value is None or (allow_any and value == "any") or value in sends:
            return
        known = ", ".join(sends) or "none"
        extra = " or `any`" if allow_any else ""
        out.append((path, f"{value!r} is not a send step of this journey; name one of: "
                          f"{known}{extra}"))  # fmt: skip

    for step in d.steps:
        b: Any = step.body
        if isinstance(b, Branch):
            check(b.if_.clicked, ("steps", step.index, "branch", "if", "clicked"), True)
            check(b.if_.opened, ("steps", step.index, "branch", "if", "opened"), True)
        elif isinstance(b, Wait) and b.until is not None:
            check(b.until.step, ("steps", step.index, "wait", "step"))
        elif isinstance(b, Split) and len({a.next for a in b.arms.values()}) < 1:
            out.append((("steps", step.index, "split"), "a split needs at least one arm"))
    for i, cond in enumerate(d.exit_on):
        check(cond.step, ("exit_on", i, "step"))
    return out


def _reach(graph: dict[str, list[str]], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in graph[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _loops_without_wait(d: JourneyDefinition, graph: dict[str, list[str]]) -> list[list[str]]:
    """Cycles among steps that are not waits (Tarjan's strongly connected components)."""
    nodes = [s.id for s in d.steps if s.kind != "wait"]
    keep = set(nodes)
    sub = {n: [m for m in graph[n] if m in keep] for n in nodes}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # recursion depth ≤ number of steps (small)
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sub[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in sub[v]:
                found.append(sorted(comp, key=lambda s: d.by_id[s].index))

    for n in nodes:
        if n not in index:
            visit(n)
    return found
