"""Segment-style calls (the HTTP Tracking API): validation, clock-skew correction, PII scrubbing
and the rows the event writer stores.

The six calls are ``identify``, ``track``, ``page``, ``screen``, ``group`` and ``alias``; ``batch``
carries up to 500 KB of them (the server's body limit caps it). Field names are Segment's
(camelCase: ``messageId``, ``userId``, ``anonymousId``, ``originalTimestamp``, ``sentAt`` ...).
Unknown top-level fields are accepted and ignored, as Segment does.

Rules, as Segment documents them:

- every call needs ``userId`` or ``anonymousId`` (``alias`` needs ``userId`` and ``previousId``);
  ``track`` needs ``event``; ``group`` needs ``groupId``;
- ids and names are at most 200 characters; one call is at most 32 KB;
- ``messageId`` de-duplicates retries; a call without one gets a random UUID (it can't be
  de-duplicated);
- clock skew: ``timestamp = receivedAt − (sentAt − originalTimestamp)`` when ``sentAt`` is given
  (``originalTimestamp`` is the sender's ``originalTimestamp``, else its ``timestamp``), else the
  ``timestamp`` as given, else ``receivedAt``. Times must be ISO-8601 strings; one without an
  offset is read as UTC.

``group`` and ``alias`` have no column of their own for ``groupId`` and ``previousId``: they are
stored in ``properties`` (``{"groupId": ...}``, ``{"previousId": ...}``), and a page's or
screen's ``category`` goes into its ``properties`` too.
"""

# Field names are Segment's camelCase, as senders send them.
# ruff: noqa: N815

from __future__ import annotations

import contextlib
import json
import math
import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from streamwise.downstream.tracking.privacy import Scrubber
from streamwise.errors import DataError

__all__ = [
    "CALL_TYPES",
    "MAX_CALL_BYTES",
    "ROW_COLUMNS",
    "AliasCall",
    "BatchCall",
    "Call",
    "CallType",
    "EventValidationError",
    "GroupCall",
    "IdentifyCall",
    "PageCall",
    "ScreenCall",
    "TrackCall",
    "correct_skew",
    "parse_body",
    "to_rows",
]

CallType = Literal["identify", "track", "page", "screen", "group", "alias"]
CALL_TYPES: tuple[str, ...] = get_args(CallType)
MAX_CALL_BYTES = 32 * 1024
# The keys of a row dict: the ``tracked_events`` columns except the generated ``id``.
ROW_COLUMNS: tuple[str, ...] = (
    "message_id", "type", "user_id", "anonymous_id", "event", "name", "properties", "traits",
    "context", "timestamp", "original_timestamp", "sent_at", "received_at", "compacted",
)  # fmt: skip


class EventValidationError(DataError):
    """Calls that failed validation; ``errors`` lists each problem as ``{"loc", "msg", "type"}``
    with ``loc`` a path such as ``("batch", 3, "userId")``."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        first = errors[0] if errors else {"loc": (), "msg": "invalid"}
        field = ".".join(str(p) for p in first["loc"])
        super().__init__(f"{first['msg']} ({len(errors)} problem(s))", column=field or None)


# What an ISO-8601 time may look like (a date, optionally a time and an offset); the JSON schema
# carries the same pattern, so what it allows and what is accepted agree.
_ISO_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?)?$"
)


def _clean(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("nul_character", "must not contain the NUL character (\\u0000)")
    return value


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


def _time(value: Any) -> datetime:
    """An ISO-8601 string (or a datetime) as a timezone-aware UTC datetime."""
    parsed: datetime | None = value if isinstance(value, datetime) else None
    if isinstance(value, str) and len(value) <= 64 and _ISO_TIME.fullmatch(value):
        with contextlib.suppress(ValueError):
            parsed = datetime.fromisoformat(value.upper())  # RFC 3339 allows "t" and "z"
    if parsed is None:
        shown = value[:40] if isinstance(value, str) else type(value).__name__
        raise PydanticCustomError(
            "iso_datetime",
            "must be an ISO-8601 date-time string such as 2026-12-02T10:15:00.000Z, got {value}",
            {"value": shown},
        )
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError("iso_datetime", "is out of range once converted to UTC") from None


# Ids are strings; numbers are accepted too (stored as text), and the schema says so.
_ID_SCHEMA = {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 200}, {"type": "number"}]}
Id = Annotated[
    str, StringConstraints(min_length=1, max_length=200), AfterValidator(_clean),
    WithJsonSchema(_ID_SCHEMA),
]  # fmt: skip
Who = Annotated[
    Annotated[str, StringConstraints(max_length=200), AfterValidator(_clean),
              WithJsonSchema({"anyOf": [{"type": "string", "maxLength": 200},
                                        {"type": "number"}]})]
    | None,
    BeforeValidator(_blank_is_none),
]  # fmt: skip
IsoTime = Annotated[
    datetime, BeforeValidator(_time),
    WithJsonSchema({"type": "string", "pattern": _ISO_TIME.pattern,
                    "description": "ISO-8601 date-time; UTC when it has no offset"}),
]  # fmt: skip
Json = dict[str, Any]


class _Call(BaseModel):
    """What every call has."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    messageId: Id | None = Field(None, description="Unique id of the call; retries reuse it.")
    anonymousId: Who = Field(None, description="Pseudonymous id (device or cookie).")
    userId: Who = Field(
        None, validate_default=True, description="Your id of the user; or give anonymousId."
    )
    context: Json | None = Field(None, description="Context: ip, library, page, traits ...")
    integrations: Json | None = None
    timestamp: IsoTime | None = Field(None, description="When it happened (ISO-8601).")
    originalTimestamp: IsoTime | None = Field(None, description="Sender's clock at the call.")
    sentAt: IsoTime | None = Field(None, description="Sender's clock when it was sent.")

    @field_validator("userId")
    @classmethod
    def _someone(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and "anonymousId" in info.data and info.data["anonymousId"] is None:
            raise PydanticCustomError("missing_identity", "userId or anonymousId is required")
        return value


class IdentifyCall(_Call):
    """``identify``: who the user is and their traits."""

    type: Literal["identify"] = "identify"
    traits: Json | None = None


class TrackCall(_Call):
    """``track``: something the user did."""

    type: Literal["track"] = "track"
    event: Id = Field(description="The action, e.g. 'Order Completed'.")
    properties: Json | None = None


class PageCall(_Call):
    """``page``: a web page view."""

    type: Literal["page"] = "page"
    name: Id | None = None
    category: Id | None = None
    properties: Json | None = None


class ScreenCall(_Call):
    """``screen``: a mobile screen view."""

    type: Literal["screen"] = "screen"
    name: Id | None = None
    category: Id | None = None
    properties: Json | None = None


class GroupCall(_Call):
    """``group``: the user belongs to a group (company, team, account)."""

    type: Literal["group"] = "group"
    groupId: Id
    traits: Json | None = None


class AliasCall(_Call):
    """``alias``: ``previousId`` and ``userId`` are the same person."""

    type: Literal["alias"] = "alias"
    previousId: Id
    userId: Who = Field(None, validate_default=True, description="The new id (required).")

    @field_validator("userId")
    @classmethod
    def _someone(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            raise PydanticCustomError("missing", "userId is required for alias")
        return value


Call = Annotated[
    IdentifyCall | TrackCall | PageCall | ScreenCall | GroupCall | AliasCall,
    Discriminator("type"),
]
_MODELS: dict[str, type[_Call]] = {
    "identify": IdentifyCall, "track": TrackCall, "page": PageCall, "screen": ScreenCall,
    "group": GroupCall, "alias": AliasCall,
}  # fmt: skip


class BatchCall(BaseModel):
    """``batch``: several calls in one request; ``context`` and ``sentAt`` apply to each call
    that lacks its own (a call's own context keys win)."""

    model_config = ConfigDict(extra="ignore")

    batch: list[Call]
    context: Json | None = None
    integrations: Json | None = None
    sentAt: IsoTime | None = None


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors with the batch item's type tag taken out of the path
    (``batch.3.track.event`` becomes ``batch.3.event``) and union tag errors pointing at
    ``type``."""
    out = []
    for err in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = tuple(err["loc"])
        if len(loc) >= 3 and loc[0] == "batch" and loc[2] in _MODELS:
            loc = loc[:2] + loc[3:]
        if err["type"] in {"union_tag_invalid", "union_tag_not_found"}:
            loc = (*loc, "type")
            err["msg"] = "must be one of " + ", ".join(CALL_TYPES)
        out.append({"loc": loc, "msg": err["msg"], "type": err["type"]})
    return out


def parse_body(kind: CallType | Literal["batch"], body: bytes | str) -> BatchCall:
    """Validate a request body for the endpoint ``kind``; a single call comes back as a batch
    of one.

    Raises
    ------
    EventValidationError
        With every problem and the path of its field (``batch.3.userId``).
    """
    try:
        if kind == "batch":
            return BatchCall.model_validate_json(body)
        call = _MODELS[kind].model_validate_json(body)
    except ValidationError as exc:
        raise EventValidationError(_errors(exc)) from None
    return BatchCall.model_construct(batch=[call], context=None, integrations=None, sentAt=None)


def correct_skew(
    received_at: datetime,
    *,
    sent_at: datetime | None,
    original: datetime | None,
    timestamp: datetime | None,
) -> datetime:
    """Segment's clock-skew rule: ``received_at − (sent_at − original)`` when both are known,
    else ``timestamp``, else ``received_at``.

    Raises
    ------
    OverflowError
        When the corrected time is outside the years 1–9999.
    """
    if sent_at is not None and original is not None:
        return received_at - (sent_at - original)
    return timestamp if timestamp is not None else received_at


def _scrub_email(obj: Json | None, scrub: Scrubber) -> Json | None:
    if not obj or "email" not in obj:
        return obj
    out = dict(obj)
    value = scrub(None if out["email"] is None else str(out["email"]))
    if value is None:
        del out["email"]
    else:
        out["email"] = value
    return out


def _scrub_context(context: Json | None, scrub: Scrubber) -> Json | None:
    if not context:
        return context
    out = context
    if "ip" in context:
        out = dict(context)
        value = scrub(None if context["ip"] is None else str(context["ip"]))
        if value is None:
            del out["ip"]
        else:
            out["ip"] = value
    traits = context.get("traits")
    if isinstance(traits, dict) and "email" in traits:
        out = out if out is not context else dict(context)
        out["traits"] = _scrub_email(traits, scrub)
    return out


def _safe(value: Any) -> Any:
    """``value`` with integers beyond 64 bits as strings and non-finite floats as null (what
    orjson cannot write)."""
    if isinstance(value, dict):
        return {str(k): _safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_safe(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _dumps(value: Json | None) -> str | None:
    if value is None:
        return None
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(_safe(value), ensure_ascii=False, allow_nan=False)


def to_rows(
    body: BatchCall,
    *,
    received_at: datetime,
    scrub: Scrubber | None = None,
    loc: tuple[str, ...] = ("batch",),
) -> list[dict[str, Any]]:
    """The ``tracked_events`` rows of validated calls: keys :data:`ROW_COLUMNS`, JSON fields as
    text, times timezone-aware UTC, personal fields scrubbed as ``scrub`` says.

    Parameters
    ----------
    body
        From :func:`parse_body`.
    received_at
        When the request arrived (timezone-aware).
    scrub
        The workspace's PII policy for ``context.ip``, ``context.traits.email``,
        ``traits.email`` and ``properties.email``; ``None`` keeps them.
    loc
        Path prefix of a call in error messages (``("batch",)`` gives ``batch.3.sentAt``; an
        empty prefix names the fields of a single call).

    Raises
    ------
    EventValidationError
        When a call is over 32 KB or its times cannot be corrected for skew.
    """
    received_at = received_at.astimezone(UTC)
    if scrub is not None and scrub.policy == "keep":
        scrub = None
    shared = body.context
    shared_size = len(_dumps(shared) or "") if shared else 0
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for i, call in enumerate(body.batch):
        where = (*loc, i) if loc else ()
        original = call.originalTimestamp or call.timestamp
        sent = call.sentAt or body.sentAt
        try:
            ts = correct_skew(received_at, sent_at=sent, original=original,
                              timestamp=call.timestamp)  # fmt: skip
        except OverflowError:
            errors.append({"loc": (*where, "sentAt"), "type": "skew_out_of_range",
                           "msg": "sentAt and originalTimestamp are too far apart to correct "
                                  "for clock skew; send times from the same clock"})  # fmt: skip
            continue
        context = call.context
        if shared:
            context = {**shared, **context} if context else shared
        properties = getattr(call, "properties", None)
        traits = getattr(call, "traits", None)
        event = name = None
        if isinstance(call, TrackCall):
            event = call.event
        elif isinstance(call, PageCall | ScreenCall):
            name = call.name
            if call.category is not None and "category" not in (properties or {}):
                properties = {**(properties or {}), "category": call.category}
        elif isinstance(call, GroupCall):
            properties = {"groupId": call.groupId}
        elif isinstance(call, AliasCall):
            properties = {"previousId": call.previousId}
        if scrub is not None:
            context = _scrub_context(context, scrub)
            traits = _scrub_email(traits, scrub)
            properties = _scrub_email(properties, scrub)
        props_text, traits_text, context_text = _dumps(properties), _dumps(traits), _dumps(context)
        size = sum(len(t) for t in (props_text, traits_text, context_text) if t)
        if size > MAX_CALL_BYTES + (shared_size if shared else 0):
            errors.append({"loc": where, "type": "too_large",
                           "msg": f"the call is {size:,} bytes; a call may be at most 32 KB "
                                  "(Segment's limit)"})  # fmt: skip
            continue
        rows.append({
            "message_id": call.messageId or str(uuid.uuid4()),
            "type": call.type, "user_id": call.userId, "anonymous_id": call.anonymousId,
            "event": event, "name": name,
            "properties": props_text, "traits": traits_text, "context": context_text,
            "timestamp": ts, "original_timestamp": original, "sent_at": sent,
            "received_at": received_at, "compacted": False,
        })  # fmt: skip
    if errors:
        raise EventValidationError(errors)
    return rows
