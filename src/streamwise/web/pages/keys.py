"""The API keys page (admin): every key with its scopes and state, a new key (shown once, never
stored: only its SHA-256 is kept) and revoking one. Every change goes to the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from streamwise.errors import StreamwiseError
from streamwise.store.db import session_factory
from streamwise.web.auth import SCOPES, create_key, list_keys, revoke_key
from streamwise.web.pages.accounts import audit
from streamwise.web.pages.render import page
from streamwise.web.pages.security import Viewer, needs

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

CanManageKeys = Annotated[Viewer, needs("keys.manage")]


def _keys_page(request: Request, viewer: Viewer, *, new_key: str = "", message: str = "",
               error: str = "", status_code: int = 200) -> Response:  # fmt: skip
    return page("keys.html", title="API keys", viewer=viewer, path="/app/keys",
                subtitle="For the API and the event collector; a key is shown once",
                keys=list(reversed(list_keys(request.app.state.engine))), scopes=SCOPES,
                new_key=new_key, message=message, error=error,
                status_code=status_code)  # fmt: skip


@router.get("/app/keys")
def keys(request: Request, viewer: CanManageKeys) -> Response:
    """Every API key (newest first) and a form for a new one."""
    return _keys_page(request, viewer)


@router.post("/app/keys")
def add_key(
    request: Request,
    viewer: CanManageKeys,
    name: Annotated[str, Form(max_length=200)] = "",
    scope: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Create a key; the page shows it this once."""
    name = name.strip()
    if not name or scope not in SCOPES:
        error = f"give the key a name and one scope of {', '.join(SCOPES)}"
        return _keys_page(request, viewer, status_code=422, error=error)
    engine = request.app.state.engine
    row, key = create_key(engine, name, scope)
    with session_factory(engine)() as session, session.begin():
        audit(session, viewer.account.username, "key.create", f"sw_{row.prefix}", name=name,
              scope=scope)  # fmt: skip
    message = f"Key {name!r} created. Copy it now: it is not shown again."
    return _keys_page(request, viewer, new_key=key, message=message)


@router.post("/app/keys/revoke")
def revoke(
    request: Request, viewer: CanManageKeys, prefix: Annotated[str, Form(max_length=40)] = ""
) -> Response:
    """Revoke a key by its prefix; requests with it are refused from now on."""
    engine = request.app.state.engine
    try:
        row = revoke_key(engine, prefix)
    except StreamwiseError as exc:
        return _keys_page(request, viewer, error=str(exc), status_code=404)
    request.app.state.keys.clear()  # refused here at once; other server processes within 5 s
    with session_factory(engine)() as session, session.begin():
        audit(session, viewer.account.username, "key.revoke", f"sw_{row.prefix}", name=row.name)
    return _keys_page(request, viewer, message=f"Key {row.name!r} (sw_{row.prefix}) revoked.")
