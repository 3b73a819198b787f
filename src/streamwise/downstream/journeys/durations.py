"""Durations as journeys write them: ``3d``, ``12h``, ``30m``, ``45s``, ``2w`` or combined
(``1d12h``)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

__all__ = ["Duration", "format_duration", "parse_duration"]

_WHOLE = re.compile(r"^(?:\d+\s*[wdhms]\s*)+$")
_PART = re.compile(r"(\d+)\s*([wdhms])")
_UNITS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_HINT = "write it like 3d, 12h, 30m, 45s, 2w or 1d12h"


def parse_duration(value: Any) -> timedelta:
    """A positive duration from ``"3d"``, ``"1d12h"`` (or a ``timedelta``).

    Raises
    ------
    ValueError
        For anything else (a bare number is refused: 3 what?), naming the accepted forms.
    """
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, str) and _WHOLE.match(value.strip().lower()):
        seconds = sum(int(n) * _UNITS[u] for n, u in _PART.findall(value.strip().lower()))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"{value!r} has no unit; {_HINT}")
    else:
        raise ValueError(f"{value!r} is not a duration; {_HINT}")
    if seconds <= 0:
        raise ValueError(f"{value!r} is not a positive duration; {_HINT}")
    if seconds > 10 * 365 * 86_400:
        raise ValueError(f"{value!r} is longer than ten years; {_HINT}")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """``timedelta(days=1, hours=12)`` → ``"1d12h"`` (the form :func:`parse_duration` reads)."""
    left = int(value.total_seconds())
    parts = []
    for unit in "dhms":
        n, left = divmod(left, _UNITS[unit])
        if n:
            parts.append(f"{n}{unit}")
    return "".join(parts) or "0s"


#: A pydantic field type: read with :func:`parse_duration`, written back as ``"1d12h"``.
Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]
