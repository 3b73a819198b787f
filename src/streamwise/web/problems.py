"""Errors as problem details (RFC 9457): ``application/problem+json`` bodies with ``type``,
``title``, ``status``, ``detail`` and, for invalid input, ``errors`` naming each field."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from streamwise.errors import ConfigError, DataError, StreamwiseError, WorkspaceError

__all__ = [
    "PROBLEM_JSON",
    "Problem",
    "ProblemError",
    "install_problem_handlers",
    "problem",
    "problem_responses",
]

PROBLEM_JSON = "application/problem+json"
_TYPES = "https://streamwise.dev/problems/"


class FieldProblem(BaseModel):
    """One invalid field of a request (in the ``errors`` of a 422 problem)."""

    field: str
    message: str
    type: str


class Problem(BaseModel):
    """A problem document (RFC 9457), the body of every error response."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="URI naming the kind of problem.")
    title: str = Field(description="Short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What was wrong in this request and what to do.")
    errors: list[FieldProblem] | None = Field(None, description="Invalid fields (422 only).")


_MEANINGS = {
    400: "The body is not JSON (or not UTF-8).",
    401: "No valid API key (send `Authorization: Bearer sw_…`).",
    403: "The API key lacks the scope this call needs.",
    404: "No such resource.",
    409: "The request conflicts with the resource's state.",
    413: "The request body is over the server's limit (`max_body_bytes`).",
    422: "The request is invalid; `errors` names each field.",
    429: "Over the key's rate limit; retry after `Retry-After` seconds.",
    503: "A database the call needs is busy; retry after `Retry-After` seconds.",
}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for error ``codes``, each a problem document.

    Pass the result as a route's (or router's) ``responses=`` so the generated OpenAPI says
    which errors a call can answer with (both ``application/problem+json``, which the server
    sends, and ``application/json``, which clients that ignore the suffix accept).
    """
    ref = {"$ref": "#/components/schemas/Problem"}
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        entry: dict[str, Any] = {
            "model": Problem,
            "description": _MEANINGS.get(code, "An error."),
            "content": {PROBLEM_JSON: {"schema": ref}},
        }
        if code in (429, 503):
            entry["headers"] = {
                "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
            }
        if code == 401:
            entry["headers"] = {
                "WWW-Authenticate": {"description": "The scheme.", "schema": {"type": "string"}}
            }
        out[code] = entry
    return out


class ProblemError(Exception):
    """Raise in a handler to answer with a problem document.

    Parameters
    ----------
    status
        HTTP status code.
    title
        Short, fixed summary of the problem type (e.g. ``"Invalid token"``).
    detail
        What was wrong in this request and what to do.
    kind
        Last part of the ``type`` URI (e.g. ``"invalid-token"``); from the title by default.
    headers
        Extra response headers (``Retry-After``, ``WWW-Authenticate``).
    extra
        More members of the problem document (e.g. ``errors``).
    """

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.kind = kind or title.lower().replace(" ", "-")
        self.headers = headers or {}
        self.extra = extra


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    kind: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem-details response."""
    body = {
        "type": _TYPES + (kind or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:] if len(parts) > 1 else parts
    return ".".join(parts)


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` a problem document."""

    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, kind=exc.kind, headers=exc.headers,
                       **exc.extra)  # fmt: skip

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field(e.get("loc", ())), "message": e.get("msg", "invalid"),
             "type": e.get("type", "value_error")}
            for e in exc.errors()
        ]  # fmt: skip
        where = ", ".join(sorted({e["field"] for e in errors})) or "the request"
        return problem(422, "Invalid request", f"invalid value in {where}; see errors",
                       kind="validation", errors=errors)  # fmt: skip

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not found", 405: "Method not allowed", 413: "Request too large"}
        title = titles.get(exc.status_code, "HTTP error")
        return problem(exc.status_code, title, str(exc.detail), headers=exc.headers)

    @app.exception_handler(StreamwiseError)
    async def _domain(_: Request, exc: StreamwiseError) -> JSONResponse:
        if isinstance(exc, DataError):
            extra = {"field": exc.column} if exc.column else {}
            return problem(422, "Invalid data", str(exc), kind="invalid-data", **extra)
        if isinstance(exc, ConfigError | WorkspaceError):
            return problem(409, "Not configured", str(exc), kind="configuration")
        return problem(400, "Request failed", str(exc), kind="request-failed")
