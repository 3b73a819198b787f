"""E-mail tracking endpoints: the open pixel, click redirects and unsubscribing.

These routes take no API key: the signed token in the path is the credential (see
:mod:`~streamwise.downstream.tracking.tokens`). They are thin: verify the token, describe the
request, call :mod:`~streamwise.downstream.tracking.engagement`, answer.

* ``GET|HEAD /o/{token}`` always answers the 1×1 transparent GIF (200, never cached), so that
  no reader ever sees a broken image; only a valid ``open`` token is recorded.
* ``GET|HEAD /c/{token}`` redirects (302) to the URL signed into a valid ``click`` token and
  nowhere else: query parameters are ignored, and a token whose payload was edited fails its
  signature. An invalid token gets a 400 page, an expired one a 410 page.
* ``GET /u/{token}`` shows what unsubscribing will do, with a button; it changes nothing
  (link scanners fetch it).
* ``POST /u/{token}`` with the form field ``List-Unsubscribe=One-Click`` (RFC 8058 one-click
  from the mailbox provider, or the page's button) unsubscribes and answers 200.
"""

from __future__ import annotations

import base64
import logging
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from streamwise.downstream.tracking.bots import BotSettings, RequestInfo
from streamwise.downstream.tracking.engagement import record, subscription, unsubscribe
from streamwise.downstream.tracking.tokens import InvalidToken, TokenData, TokenKind, verify_token
from streamwise.web.email_pages import page

__all__ = ["PIXEL", "router"]

log = logging.getLogger("streamwise.web.email")

router = APIRouter(tags=["e-mail tracking"])

#: The smallest transparent GIF: 1×1, one transparent colour (GIF89a).
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
_NO_CACHE = {
    "Cache-Control": "no-store, no-cache, must-revalidate, max-age=0, private",
    "Pragma": "no-cache",
    "Expires": "0",
    "X-Robots-Tag": "noindex, nofollow",
}
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,4000}\.[A-Za-z0-9_-]{1,200}$")
_HEADERS_READ = ("purpose", "sec-purpose", "x-moz", "x-purpose")
_HTML = {"text/html": {"schema": {"type": "string"}}}


def _verify(request: Request, token: str, kind: TokenKind) -> TokenData:
    """The token's data, or :class:`InvalidToken` (also for text that is not a token at all)."""
    if not _TOKEN.match(token):
        raise InvalidToken(
            "the token is not '<payload>.<signature>' in base64url", reason="malformed"
        )
    return verify_token(request.app.state.secret, token, kind=kind)


def _describe(request: Request, kind: str, url: str | None = None) -> RequestInfo:
    headers = {name: request.headers.get(name, "") for name in _HEADERS_READ}
    return RequestInfo(
        kind=kind,  # type: ignore[arg-type]
        at=datetime.now(UTC),
        method=request.method,
        user_agent=request.headers.get("user-agent"),
        ip=request.client.host if request.client else None,
        headers={k: v for k, v in headers.items() if v},
        url=url,
    )


def _settings(request: Request) -> BotSettings | None:
    return getattr(request.app.state, "bot_settings", None)


def _record(request: Request, data: TokenData) -> None:
    """Record an open or click; a failure is logged, never shown to the reader."""
    try:
        record(
            request.app.state.engine,
            data,
            _describe(request, data.kind, data.url),
            scrub=request.app.state.scrub,
            settings=_settings(request),
        )
    except Exception:  # the pixel must render and the link must work even if the DB is down
        log.exception("could not record the %s of campaign %s", data.kind, data.campaign_id)


def _bad_link(exc: InvalidToken, what: str) -> HTMLResponse:
    if exc.reason == "expired":
        return page(
            "message",
            410,
            title="This link has expired",
            text=f"This {what} link is too old to be used.",
            hint="Use the link in a more recent message from us.",
        )
    return page(
        "message",
        400,
        title="This link is not valid",
        text=f"This {what} link is incomplete or was changed on its way to you.",
        hint="Open the link from the original message again, or copy all of it.",
    )


# --- open pixel -----------------------------------------------------------------------------

_PIXEL_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A 1×1 transparent GIF, whatever the token (only a valid open token "
        "is recorded).",
        "content": {"image/gif": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _pixel(request: Request, token: str) -> Response:
    try:
        data = _verify(request, token, "open")
    except InvalidToken:
        data = None
    if data is not None:
        _record(request, data)
    return Response(PIXEL, media_type="image/gif", headers=_NO_CACHE)


@router.get("/o/{token}", summary="Open pixel", response_class=Response, responses=_PIXEL_DOC)
def open_pixel(request: Request, token: str) -> Response:
    """Record an open of the message whose ``open`` token this is, and answer the pixel."""
    return _pixel(request, token)


@router.head(
    "/o/{token}", summary="Open pixel (HEAD)", response_class=Response, responses=_PIXEL_DOC
)
def open_pixel_head(request: Request, token: str) -> Response:
    """As GET; recorded as a machine's open (rule ``head_request``)."""
    return _pixel(request, token)


# --- click redirect -------------------------------------------------------------------------

_CLICK_DOC: dict[int | str, dict[str, Any]] = {
    302: {"description": "Redirect to the URL signed into the token (``Location``)."},
    400: {
        "description": "Not a valid click token (malformed, altered, another kind).",
        "content": _HTML,
    },
    410: {"description": "The click token has expired.", "content": _HTML},
}

# Keep URL syntax as it is; percent-encode what a header cannot carry (non-ASCII, controls).
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~-._"


def _click(request: Request, token: str) -> Response:
    try:
        data = _verify(request, token, "click")
    except InvalidToken as exc:
        return _bad_link(exc, "tracked")
    target = quote(data.url or "", safe=_URL_SAFE)
    if not target.lower().startswith(("http://", "https://")):  # never signed so; refuse anyway
        return _bad_link(InvalidToken("no http(s) target", reason="malformed"), "tracked")
    _record(request, data)
    headers = {
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex, nofollow",
    }
    return RedirectResponse(target, status_code=302, headers=headers)


@router.get(
    "/c/{token}",
    summary="Click redirect",
    status_code=302,
    response_class=Response,
    responses=_CLICK_DOC,
)
def click(request: Request, token: str) -> Response:
    """Record a click and redirect to the link's target; query parameters are ignored."""
    return _click(request, token)


@router.head(
    "/c/{token}",
    summary="Click redirect (HEAD)",
    status_code=302,
    response_class=Response,
    responses=_CLICK_DOC,
)
def click_head(request: Request, token: str) -> Response:
    """As GET; recorded as a machine's click (rule ``head_request``)."""
    return _click(request, token)


# --- unsubscribe ----------------------------------------------------------------------------

_UNSUB_DOC: dict[int | str, dict[str, Any]] = {
    200: {"description": "An HTML page.", "content": _HTML},
    400: {
        "description": "Not a valid unsubscribe token, or (POST) no "
        "List-Unsubscribe=One-Click in the body.",
        "content": _HTML,
    },
    404: {"description": "No message of this token in the send ledger.", "content": _HTML},
    410: {"description": "The unsubscribe token has expired.", "content": _HTML},
    503: {"description": "The unsubscribe could not be saved; try again.", "content": _HTML},
}
_ONE_CLICK_SCHEMA = {
    "type": "object",
    "properties": {"List-Unsubscribe": {"type": "string", "enum": ["One-Click"]}},
    "required": ["List-Unsubscribe"],
}
_UNKNOWN = {
    "title": "We could not find this subscription",
    "text": "This link belongs to a message we no longer know about.",
    "hint": "Use the unsubscribe link of a more recent message, or reply to it.",
}


@router.get(
    "/u/{token}", summary="Unsubscribe page", response_class=HTMLResponse, responses=_UNSUB_DOC
)
def preferences(request: Request, token: str) -> Response:
    """What unsubscribing will do, with a button that POSTs; opening the page changes nothing."""
    try:
        data = _verify(request, token, "unsubscribe")
    except InvalidToken as exc:
        return _bad_link(exc, "unsubscribe")
    try:
        found = subscription(request.app.state.engine, data)
    except Exception:
        log.exception("could not read the subscription of campaign %s", data.campaign_id)
        return _unavailable()
    if found is None:
        return page("message", 404, **_UNKNOWN)
    if found.suppressed in {"unsubscribe", "complaint"}:
        return page(
            "unsubscribed",
            title="You are unsubscribed",
            address=found.masked,
            sender=found.sender,
            changed=False,
        )
    return page(
        "preferences",
        title="Unsubscribe",
        address=found.masked,
        sender=found.sender,
        campaign=found.campaign,
    )


async def _one_click(request: Request) -> bool:
    """Whether the body carries ``List-Unsubscribe=One-Click`` (urlencoded or multipart)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        try:
            form = await request.form()
        except Exception:  # a malformed multipart body is simply not a one-click request
            return False
        values = [str(v) for v in form.getlist("List-Unsubscribe")]
    else:
        body = (await request.body()).decode("utf-8", errors="replace")
        values = parse_qs(body, keep_blank_values=True).get("List-Unsubscribe", [])
    return any(v.strip().lower() == "one-click" for v in values)


def _unavailable() -> HTMLResponse:
    response = page(
        "message",
        503,
        title="Please try again",
        text="We could not save your request just now.",
        hint="Try again in a minute; nothing was changed.",
    )
    response.headers["Retry-After"] = "60"
    return response


@router.post(
    "/u/{token}",
    summary="Unsubscribe (RFC 8058 one-click)",
    response_class=HTMLResponse,
    responses=_UNSUB_DOC,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {"schema": _ONE_CLICK_SCHEMA},
                "multipart/form-data": {"schema": _ONE_CLICK_SCHEMA},
            },
        }
    },
)
async def unsubscribe_now(request: Request, token: str) -> Response:
    """Unsubscribe the token's recipient: their address goes on the suppression list, so the
    next send skips it. Idempotent; answers 200 without redirecting."""
    try:
        data = _verify(request, token, "unsubscribe")
    except InvalidToken as exc:
        return _bad_link(exc, "unsubscribe")
    if not await _one_click(request):
        return page(
            "message",
            400,
            title="Nothing was changed",
            text="This request did not ask to unsubscribe.",
            hint="Send List-Unsubscribe=One-Click, or use the button on this page.",
        )
    via = "one-click" if "text/html" not in request.headers.get("accept", "") else "preferences"
    try:
        done = await run_in_threadpool(
            unsubscribe,
            request.app.state.engine,
            data,
            ip=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
            scrub=request.app.state.scrub,
            via=via,
        )
    except Exception:
        log.exception("could not unsubscribe from campaign %s", data.campaign_id)
        return _unavailable()
    if done is None:
        return page("message", 404, **_UNKNOWN)
    found = done.subscription
    return page(
        "unsubscribed",
        title="You are unsubscribed",
        address=found.masked,
        sender=found.sender,
        changed=done.changed,
    )
