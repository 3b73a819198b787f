"""Who is asking, and may they: the session cookie, role checks and CSRF checks of every page.

Every dashboard route depends on :func:`needs` with a permission from
:data:`~streamwise.web.pages.accounts.PERMISSIONS`. A request without a live session is sent to
the login page (a page) or answered 401 (anything else); a role without the permission gets 403.
Every state-changing request must carry the session's CSRF token, as the form field
``csrf_token`` or the header ``X-CSRF-Token``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request

from streamwise.web.pages.accounts import Account, csrf_token, session_account, verify_csrf

__all__ = [
    "LOGIN_COOKIE",
    "SESSION_COOKIE",
    "CanComment",
    "CanManageUsers",
    "CanRead",
    "ForbiddenError",
    "LoginRequiredError",
    "NotFoundError",
    "Viewer",
    "check_csrf",
    "needs",
]

SESSION_COOKIE = "sw_session"
LOGIN_COOKIE = "sw_login"


class LoginRequiredError(Exception):
    """No live session: the handler sends the browser to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path

    @property
    def location(self) -> str:
        return f"/login?next={quote(self.next_path, safe='/')}"


class ForbiddenError(Exception):
    """Signed in, but the role lacks the permission (or the CSRF token is wrong)."""

    def __init__(self, viewer: Viewer | None, reason: str) -> None:
        super().__init__(reason)
        self.viewer = viewer
        self.reason = reason


class NotFoundError(ForbiddenError):
    """Signed in, but what the path names does not exist (answered 404)."""


@dataclass(frozen=True)
class Viewer:
    """The signed-in account of a request, with its session's CSRF token for the forms."""

    account: Account
    csrf: str
    token: str

    def can(self, permission: str) -> bool:
        """Whether the viewer's role has ``permission``."""
        return self.account.can(permission)


def _viewer(request: Request) -> Viewer:
    token = request.cookies.get(SESSION_COOKIE)
    account = session_account(request.app.state.engine, token)
    if account is None or token is None:
        path = request.url.path
        if request.url.query:
            path += "?" + request.url.query
        raise LoginRequiredError(path if request.method == "GET" else "/app")
    return Viewer(account, csrf_token(request.app.state.secret, token), token)


async def check_csrf(request: Request, viewer: Viewer) -> None:
    """Raise :class:`ForbiddenError` unless the request carries the session's CSRF token."""
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not verify_csrf(request.app.state.secret, viewer.token, sent):
        raise ForbiddenError(viewer, "the form is out of date or was not sent from this site; "
                        "reload the page and try again")  # fmt: skip


def needs(permission: str) -> Callable[..., Any]:
    """A dependency: the :class:`Viewer`, if signed in with ``permission``; for POST, PUT,
    PATCH and DELETE also a valid CSRF token."""

    async def dependency(request: Request) -> Viewer:
        viewer = _viewer(request)
        if not viewer.can(permission):
            raise ForbiddenError(
                viewer,
                f"your role ({viewer.account.role}) may not do this ({permission}); ask an "
                "admin if you need it",
            )
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            await check_csrf(request, viewer)
        return viewer

    return Depends(dependency)


#: Route parameter types: the viewer, checked for the permission.
CanRead = Annotated[Viewer, needs("read")]
CanComment = Annotated[Viewer, needs("comment")]
CanManageUsers = Annotated[Viewer, needs("users.manage")]
