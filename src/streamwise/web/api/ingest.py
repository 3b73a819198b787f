"""Segment-style event ingestion: ``POST /v1/identify``, ``/v1/track``, ``/v1/page``,
``/v1/screen``, ``/v1/group``, ``/v1/alias`` and ``/v1/batch`` (the HTTP Tracking API's paths).

Each call needs a key with the ``ingest`` scope (``Authorization: Bearer sw_…``, or the key as
the HTTP Basic user name, as Segment's libraries send their write key). The answer
``{"success": true, "received": n, "stored": new}`` comes only after the transaction holding the
events has committed; ``stored`` counts the events that were not already stored (by
``messageId``). The handlers parse and validate the body themselves (pydantic's JSON parser,
errors naming ``batch.3.userId``) and hand the rows to the app's group-commit event writer.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field

from streamwise.downstream.tracking.events import (
    MAX_CALL_BYTES,
    AliasCall,
    BatchCall,
    EventValidationError,
    GroupCall,
    IdentifyCall,
    PageCall,
    ScreenCall,
    TrackCall,
    parse_body,
    to_rows,
)
from streamwise.downstream.tracking.writer import WriterClosedError
from streamwise.web.auth import Principal, require
from streamwise.web.problems import ProblemError, problem_responses

__all__ = ["IngestResult", "router"]

router = APIRouter(tags=["ingest"])

_require_ingest = require("ingest")
_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer sw_…`")


async def _ingest_key(request: Request, _: Annotated[object, Depends(_bearer)] = None) -> Principal:
    """``require("ingest")`` called on the event loop: its key check is a cache look-up, and
    the thread-pool hop FastAPI makes for a plain function cost a quarter of a single
    ``/v1/track`` call's time."""
    return _require_ingest(request)


IngestKey = Annotated[Principal, Depends(_ingest_key)]


class IngestResult(BaseModel):
    """The answer to an ingestion call, sent once the events are committed."""

    success: bool = Field(True, description="Always true in a 200 answer.")
    received: int = Field(description="Calls received in this request.")
    stored: int = Field(description="Of those, calls not stored before (new messageIds).")


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema with its ``$defs`` references replaced by the definitions themselves, to
    be placed in the OpenAPI document as is."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)  # type: ignore[no-any-return]


_DOCS: dict[str, tuple[type[BaseModel], str, str]] = {
    "identify": (IdentifyCall, "Identify a user", "Who the user is, with their traits."),
    "track": (TrackCall, "Track an event", "Something the user did, e.g. 'Order Completed'."),
    "page": (PageCall, "Record a page view", "A web page the user saw."),
    "screen": (ScreenCall, "Record a screen view", "A mobile screen the user saw."),
    "group": (GroupCall, "Associate a group", "The user belongs to a company, team or account."),
    "alias": (AliasCall, "Alias two ids", "previousId and userId are the same person."),
    "batch": (BatchCall, "Send a batch", "Several calls in one request (up to the body limit)."),
}


def _request_body(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _inline(model.model_json_schema())}},
        }
    }


def _answer(received: int, stored: int) -> Response:
    body = orjson.dumps({"success": True, "received": received, "stored": stored})
    return Response(body, media_type="application/json")


def _invalid(exc: EventValidationError) -> RequestValidationError:
    return RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors])


def _gunzip(body: bytes, limit: int) -> bytes:
    """A gzip body (``Content-Encoding: gzip``, as Segment's libraries may send) inflated, at
    most ``limit`` bytes of it (a small body must not inflate without bound)."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise ProblemError(
            400, "Bad request", "the body says Content-Encoding: gzip but is not gzip data"
        ) from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise ProblemError(
            413, "Request too large",
            f"the inflated body is over {limit:,} bytes; send fewer events per batch",
        )  # fmt: skip
    return out


def _endpoint(kind: str) -> Callable[[Request, IngestKey], Awaitable[Response]]:
    async def ingest(request: Request, key: IngestKey) -> Response:
        received_at = datetime.now(UTC)
        body = await request.body()
        if request.headers.get("content-encoding", "").lower() == "gzip":
            body = _gunzip(body, request.app.state.settings.max_body_bytes)
        if kind != "batch" and len(body) > MAX_CALL_BYTES:
            raise ProblemError(
                413, "Request too large",
                f"a single {kind} call may be at most 32 KB (Segment's limit), this one is "
                f"{len(body):,} bytes; send less in properties, traits or context",
            )  # fmt: skip
        try:
            calls = parse_body(kind, body)  # type: ignore[arg-type]
            rows = to_rows(calls, received_at=received_at, scrub=request.app.state.scrub,
                           loc=("batch",) if kind == "batch" else ())  # fmt: skip
        except EventValidationError as exc:
            raise _invalid(exc) from None
        if not rows:
            return _answer(0, 0)
        writer = getattr(request.app.state, "writer", None)
        if writer is None:
            raise ProblemError(
                503, "Service unavailable",
                "the event writer is not running (the server is starting or stopping); "
                "retry in a second", headers={"Retry-After": "1"},
            )  # fmt: skip
        try:
            stored = await writer.submit(rows)
        except WriterClosedError as exc:
            raise ProblemError(503, "Service unavailable", str(exc),
                               headers={"Retry-After": "1"}) from None  # fmt: skip
        except Exception as exc:
            raise ProblemError(
                503, "Service unavailable",
                f"the events were not stored (the database refused the write: "
                f"{type(exc).__name__}); nothing of this request was kept, retry it with the "
                "same messageIds",
                kind="database-unavailable", headers={"Retry-After": "1"},
            ) from None  # fmt: skip
        return _answer(len(rows), stored)

    ingest.__name__ = f"ingest_{kind}"
    return ingest


for _kind, (_model, _summary, _description) in _DOCS.items():
    router.add_api_route(
        f"/v1/{_kind}",
        _endpoint(_kind),
        methods=["POST"],
        summary=_summary,
        description=_description + " Answers once the events are committed.",
        response_model=IngestResult,
        responses=problem_responses(400, 401, 403, 413, 422, 429, 503),
        openapi_extra=_request_body(_model),
        operation_id=f"ingest_{_kind}",
    )
