"""Segment-style calls: validation with field paths, clock-skew correction, PII scrubbing and the
rows they become."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest

from streamwise.downstream.tracking.events import (
    ROW_COLUMNS,
    EventValidationError,
    correct_skew,
    parse_body,
    to_rows,
)
from streamwise.downstream.tracking.privacy import Scrubber
from streamwise.store import TrackedEvent

RECEIVED = datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)


def rows(kind: str, body: dict[str, Any], scrub: Scrubber | None = None) -> list[dict[str, Any]]:
    parsed = parse_body(kind, orjson.dumps(body))  # type: ignore[arg-type]
    return to_rows(parsed, received_at=RECEIVED, scrub=scrub,
                   loc=("batch",) if kind == "batch" else ())  # fmt: skip


def errors(kind: str, body: Any) -> list[tuple[str, str]]:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    with pytest.raises(EventValidationError) as info:
        to_rows(parse_body(kind, raw), received_at=RECEIVED,  # type: ignore[arg-type]
                loc=("batch",) if kind == "batch" else ())  # fmt: skip
    return [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in info.value.errors]


def test_rows_have_exactly_the_table_columns() -> None:
    columns = tuple(c.name for c in TrackedEvent.__table__.columns if c.name != "id")
    assert columns == ROW_COLUMNS
    body = {"userId": "u1", "event": "Order Completed", "properties": {"revenue": 12.5},
            "context": {"locale": "en"}}  # fmt: skip
    (row,) = rows("track", body)
    assert tuple(row) == ROW_COLUMNS
    assert row["type"] == "track"
    assert row["event"] == "Order Completed"
    assert json.loads(row["properties"]) == {"revenue": 12.5}
    assert json.loads(row["context"]) == {"locale": "en"}
    assert row["traits"] is None
    assert row["compacted"] is False
    for key in ("timestamp", "received_at"):
        assert row[key].tzinfo is not None
        assert row[key].utcoffset() == timedelta(0)


def test_every_call_type_becomes_a_row() -> None:
    body = {"batch": [
        {"type": "identify", "userId": "u1", "traits": {"plan": "pro"}},
        {"type": "track", "anonymousId": "a1", "event": "Signed Up"},
        {"type": "page", "userId": "u1", "name": "Home", "category": "Docs"},
        {"type": "screen", "userId": "u1", "name": "Cart", "properties": {"category": "X"}},
        {"type": "group", "userId": "u1", "groupId": "acme", "traits": {"size": 40}},
        {"type": "alias", "userId": "u1", "previousId": "a1"},
    ]}  # fmt: skip
    out = rows("batch", body)
    assert [r["type"] for r in out] == ["identify", "track", "page", "screen", "group", "alias"]
    assert json.loads(out[0]["traits"]) == {"plan": "pro"}
    assert out[1]["anonymous_id"] == "a1"
    assert out[1]["user_id"] is None
    assert out[2]["name"] == "Home"
    assert json.loads(out[2]["properties"]) == {"category": "Docs"}
    assert json.loads(out[3]["properties"]) == {"category": "X"}  # the sender's own wins
    assert json.loads(out[4]["properties"]) == {"groupId": "acme"}
    assert json.loads(out[5]["properties"]) == {"previousId": "a1"}


def test_unknown_fields_are_tolerated_and_numbers_as_ids_accepted() -> None:
    (row,) = rows("identify", {"userId": 42, "writeKey": "x", "version": 2, "channel": "server"})
    assert row["user_id"] == "42"


def test_a_missing_message_id_gets_a_random_uuid() -> None:
    a, b = rows("batch", {"batch": [{"type": "track", "userId": "u", "event": "E"}] * 2})
    assert uuid.UUID(a["message_id"]).version == 4
    assert a["message_id"] != b["message_id"]
    (given,) = rows("track", {"userId": "u", "event": "E", "messageId": "m-1"})
    assert given["message_id"] == "m-1"


@pytest.mark.parametrize(
    ("kind", "body", "field", "message"),
    [
        ("track", {"event": "E"}, "userId", "userId or anonymousId is required"),
        ("track", {"userId": "", "anonymousId": None, "event": "E"}, "userId", "anonymousId"),
        ("track", {"userId": "u"}, "event", "required"),
        ("track", {"userId": "u", "event": ""}, "event", "at least 1"),
        ("group", {"userId": "u"}, "groupId", "required"),
        ("alias", {"anonymousId": "a", "previousId": "p"}, "userId", "required for alias"),
        ("identify", {"userId": "x" * 201}, "userId", "at most 200"),
        ("identify", {"userId": "a\x00b"}, "userId", "NUL"),
        ("identify", {"userId": "u", "timestamp": "yesterday"}, "timestamp", "ISO-8601"),
        ("identify", {"userId": "u", "timestamp": 1764676800}, "timestamp", "ISO-8601"),
        ("identify", {"userId": "u", "traits": [1, 2]}, "traits", "object"),
        ("identify", {"userId": "u", "type": "track"}, "type", "identify"),
    ],
)
def test_errors_name_the_field(kind: str, body: dict[str, Any], field: str, message: str) -> None:
    found = errors(kind, body)
    assert any(f == field and message in m for f, m in found), found


def test_batch_errors_name_the_item_index() -> None:
    body = {"batch": [
        {"type": "track", "userId": "u", "event": "ok"},
        {"type": "track", "userId": "u"},
        {"type": "identify"},
        {"type": "nonsense", "userId": "u"},
        {"userId": "u"},
        {"type": "page", "userId": "u", "sentAt": "soon"},
    ]}  # fmt: skip
    found = dict(errors("batch", body))
    assert set(found) == {"batch.1.event", "batch.2.userId", "batch.3.type", "batch.4.type",
                          "batch.5.sentAt"}  # fmt: skip
    assert "track" in found["batch.3.type"]


@pytest.mark.parametrize("raw", [b"not json", b"[]", b'{"batch": {}}', b""])
def test_malformed_bodies_are_refused(raw: bytes) -> None:
    with pytest.raises(EventValidationError):
        parse_body("batch", raw)


def test_skew_correction_follows_segment() -> None:
    # The device's clock is 2 h slow: it says it made the call at 09:59:55 and sent it at
    # 10:00:00; the server received it at 12:00:00, so it happened at 11:59:55.
    (row,) = rows("track", {"userId": "u", "event": "E",
                            "originalTimestamp": "2026-12-02T09:59:55Z",
                            "sentAt": "2026-12-02T10:00:00Z"})  # fmt: skip
    assert row["timestamp"] == datetime(2026, 12, 2, 11, 59, 55, tzinfo=UTC)
    assert row["original_timestamp"] == datetime(2026, 12, 2, 9, 59, 55, tzinfo=UTC)
    assert row["sent_at"] == datetime(2026, 12, 2, 10, tzinfo=UTC)
    assert row["received_at"] == RECEIVED


def test_skew_uses_timestamp_when_no_original_and_batch_sent_at() -> None:
    body = {"sentAt": "2026-12-02T08:00:30.500Z", "batch": [
        {"type": "track", "userId": "u", "event": "E", "timestamp": "2026-12-02T08:00:00Z"},
        {"type": "track", "userId": "u", "event": "E", "timestamp": "2026-12-02T08:00:00Z",
         "sentAt": "2026-12-02T08:01:00Z"},
    ]}  # fmt: skip
    a, b = rows("batch", body)
    assert a["timestamp"] == RECEIVED - timedelta(seconds=30.5)
    assert b["timestamp"] == RECEIVED - timedelta(seconds=60)


def test_without_sent_at_the_timestamp_is_kept_else_received_at() -> None:
    (kept,) = rows("track", {"userId": "u", "event": "E",
                             "timestamp": "2026-01-05T10:00:00+02:00"})  # fmt: skip
    assert kept["timestamp"] == datetime(2026, 1, 5, 8, tzinfo=UTC)  # offsets become UTC
    (naive,) = rows("track", {"userId": "u", "event": "E", "timestamp": "2026-01-05T10:00:00"})
    assert naive["timestamp"] == datetime(2026, 1, 5, 10, tzinfo=UTC)  # no offset: UTC
    (none,) = rows("track", {"userId": "u", "event": "E", "sentAt": "2026-01-05T10:00:00Z"})
    assert none["timestamp"] == RECEIVED
    assert correct_skew(RECEIVED, sent_at=None, original=None, timestamp=None) == RECEIVED


def test_skew_that_leaves_the_calendar_is_refused() -> None:
    body = {"batch": [{"type": "track", "userId": "u", "event": "E",
                       "originalTimestamp": "0001-01-01T00:00:00Z",
                       "sentAt": "9999-01-01T00:00:00Z"}]}  # fmt: skip
    assert [f for f, _ in errors("batch", body)] == ["batch.0.sentAt"]


def _pii_body() -> dict[str, Any]:
    return {"batch": [
        {"type": "identify", "userId": "u", "traits": {"email": "Ann@Example.com", "plan": "x"},
         "context": {"ip": "203.0.113.9", "traits": {"email": "ann@example.com"}}},
        {"type": "track", "userId": "u", "event": "E", "properties": {"email": "ann@example.com"}},
    ]}  # fmt: skip


def test_pii_is_hashed_consistently() -> None:
    scrub = Scrubber("hash", "secret")
    ident, track = rows("batch", _pii_body(), scrub)
    traits, context = json.loads(ident["traits"]), json.loads(ident["context"])
    expected = scrub("ann@example.com")
    assert expected is not None
    assert expected.startswith("h:")
    assert traits == {"email": expected, "plan": "x"}  # case and spaces don't matter
    assert context["traits"]["email"] == expected
    assert context["ip"] == scrub("203.0.113.9") != "203.0.113.9"
    assert json.loads(track["properties"])["email"] == expected


def test_pii_is_dropped_or_kept() -> None:
    ident, track = rows("batch", _pii_body(), Scrubber("drop", "secret"))
    assert json.loads(ident["traits"]) == {"plan": "x"}
    assert json.loads(ident["context"]) == {"traits": {}}
    assert json.loads(track["properties"]) == {}
    ident, _ = rows("batch", _pii_body(), Scrubber("keep", "secret"))
    assert json.loads(ident["context"])["ip"] == "203.0.113.9"


def test_a_call_over_32_kb_is_refused_by_index() -> None:
    big = {"type": "track", "userId": "u", "event": "E", "properties": {"blob": "x" * 33_000}}
    small = {"type": "track", "userId": "u", "event": "E"}
    assert [f for f, _ in errors("batch", {"batch": [small, big]})] == ["batch.1"]


def test_batch_context_applies_to_each_call() -> None:
    body = {"context": {"library": {"name": "analytics-python"}, "locale": "en"}, "batch": [
        {"type": "track", "userId": "u", "event": "E", "context": {"locale": "de"}},
        {"type": "track", "userId": "u", "event": "E"},
    ]}  # fmt: skip
    a, b = rows("batch", body)
    assert json.loads(a["context"]) == {"library": {"name": "analytics-python"}, "locale": "de"}
    assert json.loads(b["context"])["locale"] == "en"


def test_values_orjson_cannot_write_still_give_valid_json() -> None:
    raw = b'{"userId": "u", "event": "E", "properties": {"n": 123456789012345678901234567890}}'
    (row,) = to_rows(parse_body("track", raw), received_at=RECEIVED)
    assert json.loads(row["properties"]) == {"n": "123456789012345678901234567890"}


def test_times_in_other_zones_are_stored_in_utc() -> None:
    (row,) = rows("page", {"anonymousId": "a", "originalTimestamp": "2026-12-02T13:00:00+01:00",
                           "sentAt": "2026-12-02T13:00:00+01:00"})  # fmt: skip
    assert row["original_timestamp"] == datetime(2026, 12, 2, 12, tzinfo=UTC)
    assert row["timestamp"] == RECEIVED
    assert row["original_timestamp"].tzinfo == UTC
    assert (
        datetime(2026, 12, 2, 13, tzinfo=timezone(timedelta(hours=1))) == row["original_timestamp"]
    )
