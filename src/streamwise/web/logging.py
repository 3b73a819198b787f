"""The request log: one line per request with the method, the route *template*, the status and
the duration, and nothing else.

The path a client sent is never logged: it can hold a tracking token (``/c/{token}``), and the
query string can hold an e-mail address or a key. Headers (``Authorization``), bodies and client
addresses are not logged either. ``streamwise serve`` turns uvicorn's own access log off, so
this is the only per-request log line.
"""

from __future__ import annotations

import logging
import time
from typing import Any

__all__ = ["ACCESS_LOGGER", "RequestLog", "route_template"]

#: The logger the request lines go to (INFO).
ACCESS_LOGGER = "streamwise.web.access"
_UNMATCHED = "(no route)"


def route_template(scope: dict[str, Any]) -> str:
    """The template of the route that answered (``/c/{token}``), or ``(no route)``."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(template) if template else _UNMATCHED


class RequestLog:
    """ASGI middleware that logs ``METHOD /route/{template} STATUS DURATION``.

    Parameters
    ----------
    app
        The ASGI application to wrap (outermost, so that refusals by inner middleware such as
        the body limit are logged too).
    logger
        Where to log; :data:`ACCESS_LOGGER` by default.
    """

    def __init__(self, app: Any, logger: logging.Logger | None = None) -> None:
        self.app = app
        self.log = logger or logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless the app answers: an exception that escapes is a 500

        async def watch(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            millis = (time.perf_counter() - started) * 1000
            method = str(scope.get("method", "?"))
            template = route_template(scope)
            self.log.info(
                "%s %s %d %.1fms",
                method,
                template,
                status,
                millis,
                extra={"method": method, "route": template, "status": status,
                       "duration_ms": round(millis, 3)},
            )  # fmt: skip
