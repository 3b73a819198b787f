"""Social and content posts: a durable outbox of scheduled posts and an iCalendar export.

``SocialOutbox`` does not publish anything itself: it queues each post (network, text, link,
media, scheduled time, campaign) in an append-only JSON-lines file, fsynced before ``push``
returns, for a publisher or a person to take from. ``to_icalendar`` turns the posts into a
content calendar (one event per post) that any calendar application can subscribe to.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar

from streamwise.downstream.channels.base import (
    Channel,
    DeliveryResult,
    OutgoingMessage,
    register_channel,
)
from streamwise.errors import DeliveryError

__all__ = ["ScheduledPost", "SocialOutbox", "to_icalendar"]


@dataclass(frozen=True, slots=True)
class ScheduledPost:
    """One post waiting in the outbox.

    Parameters
    ----------
    message_id
        The ledger's id (also the calendar event's UID).
    account
        The account or page to post as (the message's recipient).
    network
        ``"linkedin"``, ``"instagram"``, ``"x"``, a blog, ...
    text
        The post's text.
    scheduled_at
        When to publish (timezone-aware, UTC in the file).
    link, media, campaign
        Optional link, media URLs or paths, and campaign id.
    queued_at
        When the post entered the outbox (the calendar's DTSTAMP).
    """

    message_id: str
    account: str
    network: str
    text: str
    scheduled_at: datetime
    link: str | None = None
    media: tuple[str, ...] = ()
    campaign: str | None = None
    queued_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """The post as JSON-ready values (times in ISO 8601)."""
        data = asdict(self)
        data["media"] = list(self.media)
        data["scheduled_at"] = self.scheduled_at.isoformat()
        data["queued_at"] = self.queued_at.isoformat() if self.queued_at else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScheduledPost:
        """Read a post back from ``to_dict``'s form."""
        return cls(
            message_id=data["message_id"],
            account=data["account"],
            network=data["network"],
            text=data["text"],
            scheduled_at=datetime.fromisoformat(data["scheduled_at"]),
            link=data.get("link"),
            media=tuple(data.get("media") or ()),
            campaign=data.get("campaign"),
            queued_at=datetime.fromisoformat(data["queued_at"]) if data.get("queued_at") else None,
        )


def _post(message: OutgoingMessage, now: datetime) -> ScheduledPost:
    """Build a post from a message's payload; raise ValueError naming what is wrong."""
    p = message.payload
    if not isinstance(p, Mapping):
        raise ValueError(f"a social payload must be a dict, not {type(p).__name__}")
    missing = [k for k in ("network", "text", "scheduled_at") if not p.get(k)]
    if missing:
        raise ValueError(f"the payload needs {', '.join(missing)}")
    when = p["scheduled_at"]
    when = datetime.fromisoformat(when) if isinstance(when, str) else when
    if not isinstance(when, datetime) or when.tzinfo is None:
        raise ValueError("scheduled_at must be a timezone-aware datetime or ISO 8601 string")
    media = p.get("media") or ()
    return ScheduledPost(
        message_id=message.message_id,
        account=message.recipient,
        network=str(p["network"]),
        text=str(p["text"]),
        scheduled_at=when.astimezone(UTC),
        link=p.get("link"),
        media=(media,) if isinstance(media, str) else tuple(str(m) for m in media),
        campaign=p.get("campaign") or message.metadata.get("campaign"),
        queued_at=now,
    )


@register_channel
class SocialOutbox(Channel):
    """Scheduled posts appended to a JSON-lines file (one post a line, fsynced per push).

    Pushing a message whose id is already in the outbox reports ``sent`` again without writing
    it twice, so a ledger that resends after a crash never queues a post twice. A line cut short
    by a crash (it was never reported as sent) is dropped when the outbox is opened.

    Parameters
    ----------
    path
        The outbox file, e.g. ``workspace.root / "outbox" / "social.jsonl"`` (created if missing).
    """

    name = "social"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._posts: dict[str, ScheduledPost] = {}
        self._recover()
        self._file: Any = open(self.path, "ab")  # noqa: SIM115 (kept open until close)

    def __repr__(self) -> str:
        return f"SocialOutbox(path={str(self.path)!r}, posts={len(self._posts)})"

    def _recover(self) -> None:
        if not self.path.exists():
            fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                self.path.touch()
                os.fsync(fd)  # the new file's name is durable too
            finally:
                os.close(fd)
            return
        raw = self.path.read_bytes()
        complete = raw[: raw.rfind(b"\n") + 1]
        if len(complete) < len(raw):  # a torn last line from a crash mid-write
            with open(self.path, "r+b") as f:
                f.truncate(len(complete))
                os.fsync(f.fileno())
        for number, line in enumerate(complete.splitlines(), start=1):
            try:
                post = ScheduledPost.from_dict(json.loads(line))
            except (ValueError, KeyError) as exc:
                raise DeliveryError(
                    f"{self.path}, line {number}: not an outbox record ({exc}); "
                    "move the file aside or fix the line"
                ) from exc
            self._posts[post.message_id] = post

    def push(self, messages: Sequence[OutgoingMessage]) -> list[DeliveryResult]:
        """Queue the posts (one write and one fsync for the batch) and report each one.

        Raises
        ------
        DeliveryError
            When the outbox is closed.
        """
        now = datetime.now(UTC)
        results: list[DeliveryResult] = []
        lines: list[bytes] = []
        with self._lock:
            if self._file is None:
                raise DeliveryError(f"the outbox {self.path} is closed; open it again")
            new: dict[str, ScheduledPost] = {}
            for message in messages:
                mid = message.message_id
                if mid in self._posts or mid in new:
                    results.append(DeliveryResult(mid, "sent", None, "already in the outbox", 0))
                    continue
                try:
                    post = _post(message, now)
                except (ValueError, TypeError) as exc:
                    results.append(DeliveryResult(mid, "failed", None, f"invalid post: {exc}", 0))
                    continue
                new[mid] = post
                lines.append(json.dumps(post.to_dict(), ensure_ascii=False).encode() + b"\n")
                results.append(DeliveryResult(mid, "sent", None, f"queued in {self.path}", 1))
            if lines:
                self._file.write(b"".join(lines))
                self._file.flush()
                os.fsync(self._file.fileno())
                self._posts.update(new)
        return results

    def scheduled_posts(
        self,
        *,
        network: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[ScheduledPost]:
        """The queued posts, by scheduled time; optionally one network or a time window
        (``since`` inclusive, ``until`` exclusive)."""
        with self._lock:
            posts = list(self._posts.values())
        return sorted(
            (
                p
                for p in posts
                if (network is None or p.network == network)
                and (since is None or p.scheduled_at >= since)
                and (until is None or p.scheduled_at < until)
            ),
            key=lambda p: (p.scheduled_at, p.message_id),
        )

    def flush(self) -> None:
        """Nothing to do: every push is already on disk."""

    def close(self) -> None:
        """Close the outbox file."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def to_icalendar(
    posts: Iterable[ScheduledPost],
    *,
    name: str = "Streamwise content calendar",
    duration: timedelta = timedelta(minutes=15),
) -> bytes:
    """A content calendar: one VEVENT per post, with a stable UID from its message id.

    Parameters
    ----------
    posts
        The posts, e.g. ``outbox.scheduled_posts()``.
    name
        The calendar's display name.
    duration
        How long each event lasts in the calendar.

    Returns
    -------
    bytes
        An RFC 5545 ``text/calendar`` document.
    """
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Streamwise//content calendar//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    for post in posts:
        event = icalendar.Event()
        event.add("uid", f"{post.message_id}@streamwise")
        event.add("dtstamp", post.queued_at or post.scheduled_at)
        event.add("dtstart", post.scheduled_at)
        event.add("dtend", post.scheduled_at + duration)
        first_line = post.text.splitlines()[0] if post.text else ""
        event.add("summary", f"[{post.network}] {first_line[:80]}")
        details = [post.text, *([post.link] if post.link else []), *post.media]
        event.add("description", "\n\n".join(details))
        if post.link:
            event.add("url", post.link)
        event.add("categories", [c for c in (post.network, post.campaign) if c])
        cal.add_component(event)
    return cal.to_ical()
