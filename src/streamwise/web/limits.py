"""Request size limit as ASGI middleware: a body over the limit is refused with 413 before it
is read whole (by ``Content-Length`` when sent, else while it streams in)."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException

from streamwise.web.problems import PROBLEM_JSON

__all__ = ["BodyLimit"]

_Scope = dict[str, Any]


def _detail(max_bytes: int) -> str:
    return (
        f"the request body is over {max_bytes} bytes; send fewer events per batch (or raise "
        "max_body_bytes in streamwise.toml)"
    )


class _TooLargeError(StarletteHTTPException):
    """Raised from ``receive`` when a streamed body passes the limit. An HTTP exception, so
    that FastAPI's body parsing passes it on (it turns other errors into a 400) and the app's
    handler answers it as a 413 problem."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, detail=_detail(max_bytes))


class BodyLimit:
    """Refuse request bodies larger than ``max_bytes`` with a 413 problem document."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Any) -> None:
        body = json.dumps({
            "type": "https://streamwise.dev/problems/request-too-large",
            "title": "Request too large", "status": 413,
            "detail": _detail(self.max_bytes),
        }).encode()  # fmt: skip
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", PROBLEM_JSON.encode()),
                                (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: _Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await self._refuse(send)
                    return
        seen = 0
        started = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLargeError(self.max_bytes)
            return message

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLargeError:
            if not started:
                await self._refuse(send)
