"""Send windows in each recipient's own time zone, and UTM tagging of links."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from streamwise.errors import ConfigError

__all__ = ["next_send_time", "utm_tag"]


def _zone(name: str | None, default: str) -> ZoneInfo:
    for candidate in (name, default):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def next_send_time(
    now: datetime,
    timezone: str | None,
    *,
    start: time,
    end: time,
    weekdays: frozenset[int] = frozenset(range(7)),
    default_timezone: str = "UTC",
) -> datetime:
    """The first moment at or after ``now`` (aware) inside the recipient's local window.

    ``start``/``end`` are local wall-clock times (``end`` may be before ``start`` for a window
    across midnight); ``weekdays`` are local days (Monday = 0). An unknown time zone falls back to
    ``default_timezone``. Returns an aware UTC datetime.
    """
    if now.tzinfo is None:
        raise ConfigError("now must be an aware datetime (UTC)")
    if start == end:
        raise ConfigError("the send window is empty: start equals end")
    if not weekdays:
        raise ConfigError("the send window has no weekday")
    tz = _zone(timezone, default_timezone)
    local = now.astimezone(tz)
    for day in range(8):
        d = (local + timedelta(days=day)).date()
        opens = datetime.combine(d, start, tzinfo=tz)
        closes = datetime.combine(d, end, tzinfo=tz)
        if end < start:
            closes += timedelta(days=1)
        # a window opened the day before may still be open now (across midnight)
        candidates = [(opens, closes)]
        if end < start:
            candidates.insert(0, (opens - timedelta(days=1), closes - timedelta(days=1)))
        for o, c in candidates:
            if o.weekday() not in weekdays:
                continue
            if o <= local < c:
                return now.astimezone(UTC)
            if local < o:
                return o.astimezone(UTC)
    raise ConfigError("no send time found in the next week; check the window")  # unreachable


def utm_tag(
    url: str, *, source: str, medium: str, campaign: str, content: str | None = None
) -> str:
    """``url`` with ``utm_source``, ``utm_medium``, ``utm_campaign`` (and ``utm_content``) set,
    keeping its other query parameters and fragment; non-http(s) links are left alone."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return url
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.startswith("utm_")]  # fmt: skip
    tags = {"utm_source": source, "utm_medium": medium, "utm_campaign": campaign}
    if content:
        tags["utm_content"] = content
    query += list(tags.items())
    return urlunsplit(parts._replace(query=urlencode(query)))
