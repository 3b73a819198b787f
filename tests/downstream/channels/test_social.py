"""SocialOutbox: durable queue of scheduled posts and the iCalendar export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import icalendar
import pytest

from streamwise.downstream.channels import (
    OutgoingMessage,
    SocialOutbox,
    channel_from_config,
    channel_names,
    to_icalendar,
)
from streamwise.errors import DeliveryError

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def post(i: int, network: str = "linkedin") -> OutgoingMessage:
    payload = {
        "network": network,
        "text": f"Winter sale, day {i}\nUp to 30% off.",
        "link": f"https://shop.example/sale?d={i}",
        "media": [f"media/sale-{i}.png"],
        "scheduled_at": (START + timedelta(days=i)).isoformat(),
        "campaign": "winter-sale",
    }
    return OutgoingMessage(f"post-{i}", "@testbrand", payload)


def test_outbox_is_durable_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "outbox" / "social.jsonl"
    with SocialOutbox(path) as outbox:
        results = outbox.push([post(2), post(1), post(3, "instagram")])
        assert [r.status for r in results] == ["sent"] * 3
    with SocialOutbox(path) as outbox:
        posts = outbox.scheduled_posts()
        assert [p.message_id for p in posts] == ["post-1", "post-2", "post-3"]
        assert posts[0].media == ("media/sale-1.png",)
        assert posts[0].campaign == "winter-sale"
        assert posts[0].scheduled_at == START + timedelta(days=1)
        assert [p.message_id for p in outbox.scheduled_posts(network="instagram")] == ["post-3"]
        again = outbox.push([post(1), post(4)])  # a resend after a crash is not queued twice
        assert [(r.status, r.attempts) for r in again] == [("sent", 0), ("sent", 1)]
        assert "already" in again[0].detail
    assert len(path.read_bytes().splitlines()) == 4


def test_torn_last_line_is_dropped_on_open(tmp_path: Path) -> None:
    path = tmp_path / "social.jsonl"
    with SocialOutbox(path) as outbox:
        outbox.push([post(1)])
    with path.open("ab") as f:
        f.write(b'{"message_id": "post-2", "acc')  # a crash in the middle of a write
    with SocialOutbox(path) as outbox:
        assert [p.message_id for p in outbox.scheduled_posts()] == ["post-1"]
        outbox.push([post(2)])
    with SocialOutbox(path) as outbox:
        assert len(outbox.scheduled_posts()) == 2


def test_invalid_posts_fail_with_a_reason(tmp_path: Path) -> None:
    with SocialOutbox(tmp_path / "o.jsonl") as outbox:
        naive = {"network": "x", "text": "hi", "scheduled_at": "2026-12-01T09:00:00"}
        results = outbox.push(
            [
                OutgoingMessage("a", "@b", {"network": "x", "text": "hi"}),
                OutgoingMessage("b", "@b", naive),
                OutgoingMessage("c", "@b", b"bytes"),
            ]
        )
        assert [r.status for r in results] == ["failed"] * 3
        assert "scheduled_at" in results[0].detail
        assert "timezone" in results[1].detail
        assert outbox.scheduled_posts() == []
    with pytest.raises(DeliveryError, match="closed"):
        outbox.push([post(1)])


def test_icalendar_export_parses_back(tmp_path: Path) -> None:
    with SocialOutbox(tmp_path / "o.jsonl") as outbox:
        paris = timezone(timedelta(hours=1))
        late = OutgoingMessage(
            "post-9",
            "@b",
            {**post(9).payload, "scheduled_at": datetime(2026, 12, 24, 18, tzinfo=paris)},
        )
        outbox.push([post(1), post(2, "x"), late])
        posts = outbox.scheduled_posts()
    ical = to_icalendar(posts)
    assert to_icalendar(posts) == ical  # stable output
    events = list(icalendar.Calendar.from_ical(ical).walk("VEVENT"))
    assert len(events) == 3
    assert [str(e["uid"]) for e in events] == [
        "post-1@streamwise",
        "post-2@streamwise",
        "post-9@streamwise",
    ]
    assert events[2].decoded("dtstart") == datetime(2026, 12, 24, 17, tzinfo=UTC)
    assert str(events[1]["summary"]) == "[x] Winter sale, day 2"
    assert "https://shop.example/sale?d=1" in str(events[0]["description"])


def test_registered_channels(tmp_path: Path) -> None:
    assert {"email", "social", "webhook"} <= set(channel_names())
    outbox = channel_from_config({"type": "social", "path": str(tmp_path / "o.jsonl")})
    assert isinstance(outbox, SocialOutbox)
    outbox.close()
