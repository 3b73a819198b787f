"""Does an event's ``properties`` satisfy a ``where``? (``{plan: pro}``, ``{plan: [pro, team]}``,
``{amount: {gte: 20}}``, dotted names for nested properties.)"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lookup", "matches", "properties_of"]

_MISSING = object()
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le,
}  # fmt: skip


def properties_of(text: str | None) -> dict[str, Any]:
    """An event's ``properties`` column (JSON text) as a dict (``{}`` when empty or broken)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def lookup(properties: Mapping[str, Any], name: str) -> Any:
    """The property ``name`` (dots reach into nested objects); a sentinel when missing."""
    if name in properties:
        return properties[name]
    value: Any = properties
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return a == b


def _test(value: Any, cond: Any) -> bool:
    if isinstance(cond, Mapping):
        for op, want in cond.items():
            if op == "exists":
                if (value is not _MISSING) != bool(want):
                    return False
            elif (
                value is _MISSING
                or (op == "eq" and not _equal(value, want))
                or (op == "ne" and _equal(value, want))
                or (op == "in" and not any(_equal(value, w) for w in (want or [])))
            ):
                return False
            elif op in _COMPARE:
                try:
                    if not _COMPARE[op](value, want):
                        return False
                except TypeError:  # "abc" > 3: not a match rather than an error
                    return False
        return True
    if value is _MISSING:
        return False
    if isinstance(cond, list):
        return any(_equal(value, c) for c in cond)
    return _equal(value, cond)


def matches(where: Mapping[str, Any], properties: Mapping[str, Any]) -> bool:
    """Whether every condition of ``where`` holds for ``properties`` (an empty ``where``
    always holds)."""
    return all(_test(lookup(properties, name), cond) for name, cond in where.items())
