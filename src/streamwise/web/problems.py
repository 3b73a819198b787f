"""Errors as problem details (RFC 9457): ``application/problem+json`` bodies with ``type``,
``title``, ``status``, ``detail`` and, for invalid input, ``errors`` naming each field."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from streamwise.errors import ConfigError, DataError, StreamwiseError, WorkspaceError

__all__ = ["PROBLEM_JSON", "ProblemError", "install_problem_handlers", "problem"]

PROBLEM_JSON = "application/problem+json"
_TYPES = "https://streamwise.dev/problems/"


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
