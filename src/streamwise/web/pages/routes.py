"""The dashboard's routes: sign in and out, the overview, the plan with comments, users and the
audit log. Every page route checks its permission (:func:`~.security.needs`)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from streamwise.errors import DataError
from streamwise.reports.full import REPORT_FILE
from streamwise.reports.html import Section, Table, render_sections
from streamwise.reports.plan import format_evidence
from streamwise.store.models import AuditEntry, Comment, User
from streamwise.web.pages.accounts import (
    ROLES,
    audit,
    authenticate,
    create_user,
    end_session,
    list_users,
    start_session,
)
from streamwise.web.pages.campaigns import router as campaigns_router
from streamwise.web.pages.data import router as data_router
from streamwise.web.pages.evidence import evidence_rows
from streamwise.web.pages.keys import router as keys_router
from streamwise.web.pages.overview import overview_sections
from streamwise.web.pages.plan_edit import router as plan_edit_router
from streamwise.web.pages.render import page
from streamwise.web.pages.results import router as results_router
from streamwise.web.pages.security import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    CanComment,
    CanManageUsers,
    CanRead,
    ForbiddenError,
    LoginRequiredError,
    NotFoundError,
    Viewer,
)
from streamwise.web.pages.simulator import router as simulator_router
from streamwise.web.pages.upstream import UpstreamPages
from streamwise.web.pages.views import PlanViews

__all__ = ["install_pages", "router"]

router = APIRouter(include_in_schema=False)
router.routes.extend(simulator_router.routes)  # /app/research/simulator, listed with the rest
router.routes.extend(campaigns_router.routes)  # /app/campaigns..., /app/jobs/{id}, /app/static
router.routes.extend(results_router.routes)  # /app/results, /app/results/budget
router.routes.extend(data_router.routes)  # /app/data
router.routes.extend(plan_edit_router.routes)  # /app/plan/versions, /app/plan/edit
router.routes.extend(keys_router.routes)  # /app/keys

_SEE_OTHER = 303
MAX_COMMENT = 4000


def _safe_next(value: str | None) -> str:
    """Only a path on this site (no scheme, no host, no ``//``): no open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/app"
    return value


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def _login_page(
    request: Request, *, error: str = "", next_path: str = "/app", username: str = ""
) -> Response:
    token = secrets.token_urlsafe(32)
    response = page(
        "login.html",
        title="Sign in",
        login_csrf=token,
        next=_safe_next(next_path),
        error=error,
        username=username,
        status_code=401 if error else 200,
    )
    _cookie(response, request, LOGIN_COOKIE, token, 3600)
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/app") -> Response:
    """The sign-in form."""
    return _login_page(request, next_path=next)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/app",
) -> Response:
    """Check the password and start a session (double-submit CSRF token of the login form)."""
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return _login_page(
            request, error="The sign-in form expired; try again.", next_path=next,
            username=username,
        )  # fmt: skip
    engine = request.app.state.engine
    account = authenticate(engine, username, password)
    if account is None:
        return _login_page(
            request,
            error="That user name and password do not match an active account (after 10 "
            "failed tries an account is locked for 15 minutes).",
            next_path=next,
            username=username,
        )
    token = start_session(engine, account)
    response = RedirectResponse(_safe_next(next), status_code=_SEE_OTHER)
    _cookie(response, request, SESSION_COOKIE, token, 12 * 3600)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, viewer: CanRead) -> Response:
    """End the session."""
    end_session(request.app.state.engine, viewer.token, actor=viewer.account.username)
    response = RedirectResponse("/login", status_code=_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/app")
def overview(request: Request, viewer: CanRead) -> Response:
    """Plan goals and KPIs, plan against actual, what changed."""
    view = request.app.state.plan_views.latest()
    body = view.overview if view else render_sections(overview_sections(request.app.state.engine))
    return page(
        "sections.html",
        title="Overview",
        subtitle="The plan every team works from, and how it is going.",
        viewer=viewer,
        path="/app",
        body=body,
    )


def _comments(engine: Any, plan_name: str) -> dict[str, list[dict[str, Any]]]:
    with Session(engine) as session:
        rows = session.execute(
            select(Comment, User.username, User.display_name)
            .join(User, User.id == Comment.user_id)
            .where(Comment.plan_name == plan_name)
            .order_by(Comment.id)
        ).all()
    out: dict[str, list[dict[str, Any]]] = {}
    for c, username, display in rows:
        out.setdefault(c.item, []).append(
            {"who": display or username, "when": c.created_at, "body": c.body}
        )
    return out


@router.get("/app/plan")
def plan(request: Request, viewer: CanRead, message: str = "") -> Response:
    """The plan: targets, positioning, personas, goals, timeline, measurement; comments."""
    engine = request.app.state.engine
    view = request.app.state.plan_views.latest()
    if view is None:
        return page(
            "sections.html",
            title="Plan",
            viewer=viewer,
            path="/app/plan",
            body=render_sections(overview_sections(engine)),
        )
    info, doc = view.info, view.document
    return page(
        "plan.html",
        title=f"{doc.name}",
        subtitle=f"Version {info.version}, saved {info.created_at:%Y-%m-%d} by "
        f"{info.author or 'unknown'}",
        viewer=viewer,
        path="/app/plan",
        body=view.plan,
        items=view.items,
        comments=_comments(engine, info.name),
        plan_name=info.name,
        message=message if message in ("Comment added.",) else "",
    )


_UPSTREAM = {
    "customers": ("Customers", "Segments, RFM, customer lifetime value and who is at risk."),
    "research": ("Research", "What customers say: NPS, price thresholds, what they value."),
    "competitors": ("Competitors", "Where we stand against the competition, and the gaps."),
    "trends": ("Trends", "Where the market is going, with forecast intervals."),
}


def _upstream_page(request: Request, viewer: Viewer, part: str) -> Response:
    title, subtitle = _UPSTREAM[part]
    body = request.app.state.upstream_pages.render(part, request.app.state.plan_views.latest())
    return page("sections.html", title=title, subtitle=subtitle, viewer=viewer,
                path=f"/app/{part}", body=body)  # fmt: skip


@router.get("/app/customers")
def customers(request: Request, viewer: CanRead) -> Response:
    """Segments, RFM, CLV distribution, churn risk (from the workspace's analyses)."""
    return _upstream_page(request, viewer, "customers")


@router.get("/app/research")
def research(request: Request, viewer: CanRead) -> Response:
    """Survey results: NPS, pricing curves, what customers value, themes."""
    return _upstream_page(request, viewer, "research")


@router.get("/app/competitors")
def competitors(request: Request, viewer: CanRead) -> Response:
    """Perceptual map, gaps, white space."""
    return _upstream_page(request, viewer, "competitors")


@router.get("/app/trends")
def trends(request: Request, viewer: CanRead) -> Response:
    """Market forecasts with intervals."""
    return _upstream_page(request, viewer, "trends")


def _persona(app: Any, index: int, viewer: Viewer) -> Any:
    view = app.state.plan_views.latest()
    if view is None or not 0 <= index < len(view.document.personas):
        raise NotFoundError(viewer, "there is no such persona in the latest plan")
    return view.document.personas[index]


@router.get("/app/personas")
def personas(request: Request, viewer: CanRead) -> Response:
    """One card per persona, each opening its evidence."""
    view = request.app.state.plan_views.latest()
    cards = list(enumerate(view.document.personas)) if view else []
    return page("personas.html", title="Personas", viewer=viewer, path="/app/personas",
                subtitle="Who we sell to, and what each statement rests on.",
                cards=cards)  # fmt: skip


@router.get("/app/personas/{index}")
def persona(request: Request, index: int, viewer: CanRead) -> Response:
    """A persona's card: every claim and the evidence it rests on."""
    card = _persona(request.app, index, viewer)
    return page("persona.html", title=card.name, viewer=viewer, path="/app/personas",
                subtitle=f"{card.segment} · {card.size:,} customers · {card.share:.0%} of the base",
                card=card, index=index, format_evidence=format_evidence)  # fmt: skip


@router.get("/app/personas/{index}/evidence/{claim}/{item}")
def evidence(request: Request, index: int, claim: int, item: int, viewer: CanRead) -> Response:
    """The rows of the workspace a claim's number was read from, as they are now."""
    card = _persona(request.app, index, viewer)
    if not 0 <= claim < len(card.claims) or not 0 <= item < len(card.claims[claim].evidence):
        raise NotFoundError(viewer, "there is no such evidence on this persona")
    found = evidence_rows(request.app.state.workspace, card.claims[claim].evidence[item])
    table = None
    if not found.rows.empty:
        table = render_sections([Section("Rows", blocks=[Table(found.rows, caption=
                                 f"{found.evidence.table}, rows matching the key")])])  # fmt: skip
    return page("evidence.html", title=f"Evidence: {card.claims[claim].text}", viewer=viewer,
                path="/app/personas", card=card, index=index, found=found, table=table,
                described=format_evidence(found.evidence))  # fmt: skip


@router.post("/app/plan/comments")
def add_comment(
    request: Request,
    item: Annotated[str, Form(max_length=200)],
    body: Annotated[str, Form(max_length=MAX_COMMENT)],
    viewer: CanComment,
) -> Response:
    """Comment on an item of the latest plan."""
    engine = request.app.state.engine
    view = request.app.state.plan_views.latest()
    text = body.strip()
    if view is None or not text:
        return RedirectResponse("/app/plan", status_code=_SEE_OTHER)
    info = view.info
    if item not in {key for key, _ in view.items}:
        raise ForbiddenError(viewer, f"there is no item {item!r} in the plan to comment on")
    with Session(engine) as session, session.begin():
        session.add(Comment(plan_name=info.name, item=item, user_id=viewer.account.id, body=text))
        audit(session, viewer.account.username, "comment.add", f"{info.name}/{item}")
    return RedirectResponse(
        f"/app/plan?message=Comment+added.#comments-{item.replace(':', '-')}",
        status_code=_SEE_OTHER,
    )


#: Headers of the report: it is self-contained (inline CSS and SVG, no scripts), so it may load
#: nothing at all.
_REPORT_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


@router.get("/app/report")
def report(request: Request, viewer: CanRead) -> Response:
    """The workspace's latest ``streamwise report`` (upstream, plan, results), as written."""
    path = request.app.state.workspace.root / REPORT_FILE
    if not path.is_file():
        reason = (
            "No report has been written yet: run `streamwise report` in the workspace (the demo "
            "writes one too), then reload."
        )
        return page("forbidden.html", title="No report yet", viewer=viewer, path="/app/report",
                    reason=reason, status_code=404)  # fmt: skip
    return HTMLResponse(path.read_text(encoding="utf-8"), headers=_REPORT_HEADERS)


@router.get("/app/users")
def users(request: Request, viewer: CanManageUsers, message: str = "") -> Response:
    """Users and their roles; a form to add one."""
    return page(
        "users.html",
        title="Users",
        viewer=viewer,
        path="/app/users",
        users=list_users(request.app.state.engine),
        roles=ROLES,
        message=message if message.startswith("Added ") else "",
    )


@router.post("/app/users")
def add_user(
    request: Request,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    role: Annotated[str, Form(max_length=20)],
    viewer: CanManageUsers,
    display_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Add a user (admin only)."""
    engine = request.app.state.engine
    try:
        create_user(engine, username, password, role, display_name=display_name,
                    actor=viewer.account.username)  # fmt: skip
    except DataError as exc:
        return page(
            "users.html",
            title="Users",
            viewer=viewer,
            path="/app/users",
            users=list_users(engine),
            roles=ROLES,
            error=str(exc),
            status_code=422,
        )
    return RedirectResponse(f"/app/users?message=Added+{username}.", status_code=_SEE_OTHER)


@router.get("/app/audit")
def audit_log(request: Request, viewer: CanManageUsers) -> Response:
    """The latest 500 changes: who, what, when."""
    with Session(request.app.state.engine) as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(500)).all()
        entries = [
            {"at": r.at, "actor": r.actor, "action": r.action, "target": r.target,
             "detail": ", ".join(f"{k}={v}" for k, v in (r.detail or {}).items())}
            for r in rows
        ]  # fmt: skip
    return page("audit.html", title="Audit log", viewer=viewer, path="/app/audit", entries=entries)


def _warm(app: FastAPI) -> None:
    """Render the latest plan version, the upstream pages and the results (what a first view
    would wait for: up to ~2 s of charts each) in a background thread."""
    import threading

    from streamwise.reports.upstream import UPSTREAM_PARTS
    from streamwise.web.pages.campaigns import warm_previews
    from streamwise.web.pages.results import results_body

    def run() -> None:
        try:
            view = app.state.plan_views.latest()
            for part in UPSTREAM_PARTS:
                app.state.upstream_pages.render(part, view)
            results_body(app.state.workspace, view)
            warm_previews(app.state)
        except Exception:  # a page that cannot be made says why when it is asked for
            return

    threading.Thread(target=run, name="warm-pages", daemon=True).start()


def install_pages(app: FastAPI, *, warm: bool = False) -> None:
    """Add the dashboard's routes and the handlers of its refusals to ``app``; with ``warm``,
    render the slow pages in the background right away (``streamwise serve`` does)."""
    app.include_router(router)
    app.state.plan_views = PlanViews(app.state.engine)
    app.state.upstream_pages = UpstreamPages(app.state.workspace)
    if warm:
        _warm(app)

    @app.exception_handler(LoginRequiredError)
    async def _login(request: Request, exc: LoginRequiredError) -> Response:
        if request.method in ("GET", "HEAD"):
            return RedirectResponse(exc.location, status_code=_SEE_OTHER)
        return HTMLResponse("Sign in first.", status_code=401)

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError) -> Response:
        return page("forbidden.html", title="Not found", viewer=exc.viewer, reason=exc.reason,
                    status_code=404)  # fmt: skip

    @app.exception_handler(ForbiddenError)
    async def _forbidden(request: Request, exc: ForbiddenError) -> Response:
        return page(
            "forbidden.html",
            title="Not allowed",
            viewer=exc.viewer,
            reason=exc.reason,
            status_code=403,
        )

    @app.get("/", include_in_schema=False)
    async def _root() -> Response:
        return RedirectResponse("/app", status_code=_SEE_OTHER)
