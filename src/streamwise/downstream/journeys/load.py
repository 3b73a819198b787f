"""Read a journey from YAML and check it whole, with errors that name the YAML path and line.

Checks: the parts' own rules (:mod:`.definition`), unknown keys and step kinds (with a "did you
mean"), step ids, targets that name no step, steps no path reaches, a loop without a wait (it
would spin without end), a step with nowhere to go ("missing exit"), a journey that can never
end, audience filters that do not parse, and each send step's campaign settings.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from streamwise.downstream.journeys.definition import (
    BODIES,
    STEP_KINDS,
    Branch,
    EventCondition,
    JourneyDefinition,
    ReEntry,
    Send,
    Step,
    Trigger,
    Wait,
)
from streamwise.downstream.journeys.durations import parse_duration
from streamwise.downstream.journeys.graph import check_graph
from streamwise.errors import ConfigError

__all__ = ["Issue", "JourneyError", "load_journey", "parse_journey"]

Path = tuple[str | int, ...]
_TOP = ("name", "description", "trigger", "re_entry", "exit_on", "purchase_events", "settings",
        "steps")  # fmt: skip
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,79}$")
_STEP_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}$")


@dataclass(frozen=True)
class Issue:
    """One problem: where (a YAML path such as ``steps[2].wait`` and, from a file, its line)
    and what is wrong."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path} (line {self.line})" if self.line else self.path
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The issue, JSON-ready."""
        return {"path": self.path, "line": self.line, "message": self.message}


class JourneyError(ConfigError):
    """A journey definition with problems; ``issues`` lists every one found."""

    def __init__(self, source: str, issues: list[Issue]) -> None:
        self.source = source
        self.issues = issues
        listed = "\n".join(f"  - {i}" for i in issues)
        super().__init__(f"{source}: {len(issues)} problem(s) in the journey:\n{listed}")


def _path_text(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def _lines(text: str) -> dict[Path, int]:
    """Line (1-based) of each mapping key and sequence item of the YAML document, by path."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    out: dict[Path, int] = {}

    def walk(node: Any, path: Path) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                sub = (*path, str(key.value))
                out[sub] = key.start_mark.line + 1
                walk(value, sub)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                out[(*path, i)] = item.start_mark.line + 1
                walk(item, (*path, i))

    if root is not None:
        walk(root, ())
    return out


class _Collector:
    def __init__(self, lines: Mapping[Path, int]) -> None:
        self.lines = lines
        self.issues: list[Issue] = []

    def add(self, path: Path, message: str) -> None:
        line = None
        for n in range(len(path), -1, -1):  # the deepest part of the path the file has
            line = self.lines.get(path[:n])
            if line is not None:
                break
        self.issues.append(Issue(_path_text(path), message, line))

    def model(self, cls: type[BaseModel], data: Any, path: Path) -> Any:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                loc = tuple(p for p in err["loc"] if p not in ("function-after", "function-before"))
                msg = str(err["msg"]).removeprefix("Value error, ")
                if err["type"] == "extra_forbidden":
                    msg = _unknown(str(loc[-1]), _keys(cls), "key")
                self.add((*path, *loc) if isinstance(data, dict) else path, msg)
        return None


def _keys(cls: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in cls.model_fields.items()]


def _unknown(name: str, known: list[str], what: str) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown {what} {name!r}{hint}; known: {', '.join(known)}"


def load_journey(text: str, source: str = "journey") -> JourneyDefinition:
    """Parse and check a journey written in YAML (``source`` names it in errors).

    Raises
    ------
    JourneyError
        With every problem found, each with its YAML path and line.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise JourneyError(source, [Issue("(file)", f"not valid YAML: {exc}", line)]) from None
    return parse_journey(data, source, lines=_lines(text))


def parse_journey(
    data: Any, source: str = "journey", *, lines: Mapping[Path, int] | None = None
) -> JourneyDefinition:
    """Check a journey given as data (what :func:`load_journey` reads, or what the database
    keeps).

    Raises
    ------
    JourneyError
        With every problem found.
    """
    c = _Collector(lines or {})
    if not isinstance(data, dict):
        raise JourneyError(source, [Issue("(top)", "a journey is a mapping with name, trigger "
                                                    "and steps")])  # fmt: skip
    for key in data:
        if key not in _TOP:
            c.add((str(key),), _unknown(str(key), list(_TOP), "key"))
    for key in ("name", "trigger", "steps"):
        if key not in data:
            c.add((key,), f"missing; a journey needs {key}")
    name = str(data.get("name", ""))
    if "name" in data and not _NAME.match(name):
        c.add(("name",), "1 to 80 letters, digits, spaces, '_', '.' or '-', starting with a "
                         "letter or digit")  # fmt: skip
    trigger = c.model(Trigger, data["trigger"], ("trigger",)) if "trigger" in data else None
    if trigger is not None and trigger.filter is not None:
        _check_filter(c, trigger.filter, ("trigger", "segment" if trigger.segment else "state"))
    if trigger is not None and trigger.changes is not None:
        _check_field(c, trigger.changes, ("trigger", "changes"))
    re_entry = _re_entry(c, data.get("re_entry", "never"))
    exits = data.get("exit_on") or []
    if not isinstance(exits, list):
        c.add(("exit_on",), "a list of events, e.g. [{event: Order Completed}]")
        exits = []
    exit_on = tuple(x for i, e in enumerate(exits)
                    if (x := c.model(EventCondition, e, ("exit_on", i))) is not None)  # fmt: skip
    purchases = data.get("purchase_events")
    if purchases is not None and not (
        isinstance(purchases, list) and purchases and all(isinstance(p, str) for p in purchases)
    ):
        c.add(("purchase_events",), "a list of event names, e.g. [Order Completed]")
        purchases = None
    settings = data.get("settings") or {}
    if not isinstance(settings, dict):
        c.add(("settings",), "campaign settings: sender, tracking_base_url, channel, ...")
        settings = {}
    raw_steps = data.get("steps")
    steps = _steps(c, raw_steps)
    complete = isinstance(raw_steps, list) and len(steps) == len(raw_steps)
    definition = JourneyDefinition(
        name=name, description=str(data.get("description", "")), trigger=trigger,  # type: ignore[arg-type]
        re_entry=re_entry, exit_on=exit_on,
        purchase_events=tuple(purchases) if purchases else None, settings=settings,
        steps=tuple(steps), data=data,
    )  # fmt: skip
    if complete and not any(i.path.startswith("steps") for i in c.issues):
        for path, message in check_graph(definition):
            c.add(path, message)
        _check_sends(c, definition)
    if c.issues:
        raise JourneyError(source, c.issues)
    return definition


def _re_entry(c: _Collector, value: Any) -> ReEntry:
    if value in ("never", "after_exit"):
        return ReEntry(value)
    if isinstance(value, dict) and set(value) == {"cooldown"}:
        value = value["cooldown"]
    try:
        return ReEntry("cooldown", parse_duration(value))
    except ValueError as exc:
        c.add(("re_entry",), f"never, after_exit or a cool-down such as 30d ({exc})")
        return ReEntry()


def _steps(c: _Collector, raw: Any) -> list[Step]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not raw:
        c.add(("steps",), "a list of steps, each one of: " + ", ".join(STEP_KINDS))
        return []
    parsed: list[tuple[str, str, Any, str | None, int]] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        path: Path = ("steps", i)
        if item == "exit":
            item = {"exit": {}}
        if not isinstance(item, dict):
            c.add(path, "a step is a mapping such as {id: hello, send: {...}} (or `exit`)")
            continue
        kinds = [k for k in item if k in STEP_KINDS]
        for key in item:
            if key not in (*STEP_KINDS, "id", "next"):
                c.add((*path, str(key)), _unknown(str(key), [*STEP_KINDS, "id", "next"],
                                                  "step kind or key"))  # fmt: skip
        if len(kinds) != 1:
            if not kinds and not any(k not in ("id", "next") for k in item):
                c.add(path, "the step has no kind; give one of " + ", ".join(STEP_KINDS))
            elif len(kinds) > 1:
                c.add(path, f"one kind per step; this one has {', '.join(kinds)}")
            continue
        sid = str(item.get("id", f"step{i + 1}"))
        if not _STEP_ID.match(sid):
            c.add((*path, "id"), f"{sid!r}: letters, digits, '_', '.' or '-' (at most 80)")
        if sid in seen:
            c.add((*path, "id"), f"step id {sid!r} is used twice; ids must be unique")
        seen.add(sid)
        nxt = item.get("next")
        parsed.append((sid, kinds[0], item[kinds[0]], None if nxt is None else str(nxt), i))
    steps = []
    for n, (sid, kind, body_data, nxt, i) in enumerate(parsed):
        body = c.model(BODIES[kind], {} if body_data is None else body_data, ("steps", i, kind))
        if body is None:
            continue
        if kind in ("exit", "split") and nxt is not None:
            c.add(("steps", i, "next"), f"a{'n' if kind == 'exit' else ''} {kind} step has no "
                                        "`next`")  # fmt: skip
        following = parsed[n + 1][0] if n + 1 < len(parsed) else None
        default = None if kind in ("exit", "split") else (nxt or following)
        steps.append(Step(sid, kind, body, default, i))  # type: ignore[arg-type]
        if isinstance(body, Branch | Wait):
            _check_conditions(c, body, ("steps", i, kind))
    return steps


def _check_conditions(c: _Collector, body: Branch | Wait, path: Path) -> None:
    if isinstance(body, Branch) and body.if_.filter is not None:
        _check_filter(c, body.if_.filter, (*path, "if", "filter"))


def _check_filter(c: _Collector, text: str, path: Path) -> None:
    from streamwise.downstream.audiences.filters import FilterError, parse_filter

    try:
        parse_filter(text)
    except FilterError as exc:
        c.add(path, f"audience filter: {exc}")


def _check_field(c: _Collector, name: str, path: Path) -> None:
    from streamwise.downstream.audiences.fields import FIELDS

    known = [f.name for f in FIELDS]
    if name not in known:
        c.add(path, _unknown(name, known, "field"))


def _check_sends(c: _Collector, d: JourneyDefinition) -> None:
    """Each send step's settings must make a valid campaign (unless it copies one)."""
    from streamwise.downstream.campaigns.settings import CampaignSettings

    for step in d.of_kind("send"):
        body = step.body
        assert isinstance(body, Send)
        if body.campaign is not None:
            continue
        path: Path = ("steps", step.index, "send")
        try:
            settings = CampaignSettings(**d.send_settings(step.id))
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                where = ".".join(str(p) for p in err["loc"]) or "settings"
                c.add(path, f"campaign settings {where}: "
                            f"{str(err['msg']).removeprefix('Value error, ')}")  # fmt: skip
            continue
        channel = body.channel or "email"
        if channel == "webhook" and settings.text_message is None:
            c.add(path, "a webhook (SMS or chat) step needs settings.text_message")
        if channel == "email" and settings.text_message is not None:
            c.add(path, "text_message settings need `channel: webhook`")
