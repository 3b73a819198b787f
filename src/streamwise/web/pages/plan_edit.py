"""The plan's versions, the difference between any two, and editing the plan's goals and KPIs
(owners, targets, due dates) as a new version.

Reading needs ``read``; editing ``plan.edit`` (product, marketing, admin). A saved version never
changes: an edit saves the next version (author: the user; with their note), the audit log
records which fields changed, and the page then shows the difference.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, get_args
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from streamwise.errors import StreamwiseError
from streamwise.plan.diff import diff_plans, format_value
from streamwise.plan.document import PlanDocument, Team
from streamwise.plan.store import load_plan_version, plan_versions, save_plan
from streamwise.store.db import session_factory
from streamwise.web.pages.accounts import audit
from streamwise.web.pages.render import page
from streamwise.web.pages.security import CanRead, NotFoundError, Viewer, needs

__all__ = ["TEAMS", "edited_plan", "router"]

router = APIRouter(include_in_schema=False)

CanEditPlan = Annotated[Viewer, needs("plan.edit")]

#: The teams that may own a goal or KPI.
TEAMS: tuple[str, ...] = get_args(Team)
_SEE_OTHER = 303


def edited_plan(doc: PlanDocument, form: dict[str, str]) -> PlanDocument:
    """``doc`` with the summary, goals (title, owner, due) and KPIs (target, due, owner) the form
    gives; a field the form leaves out keeps its value.

    Raises
    ------
    StreamwiseError
        Naming the field that is wrong (not a number, not a date, an unknown team).
    """

    def text(key: str, old: str) -> str:
        value = form.get(key)
        return old if value is None else value.strip()

    def team(key: str, old: str) -> str:
        value = text(key, old)
        if value not in TEAMS:
            raise StreamwiseError(f"{key}: {value!r} is not a team ({', '.join(TEAMS)})")
        return value

    def day(key: str, old: date) -> date:
        value = form.get(key)
        if value is None or not value.strip():
            return old
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise StreamwiseError(f"{key}: {value!r} is not a date (YYYY-MM-DD)") from None

    def number(key: str, old: float) -> float:
        value = form.get(key)
        if value is None or not value.strip():
            return old
        try:
            parsed = float(value.replace(",", ""))
        except ValueError:
            raise StreamwiseError(f"{key}: {value!r} is not a number") from None
        if parsed != parsed or parsed in (float("inf"), float("-inf")):
            raise StreamwiseError(f"{key}: give a finite number")
        return parsed

    goals = tuple(
        g.model_copy(
            update={
                "title": text(f"goal.{g.id}.title", g.title) or g.title,
                "owner": team(f"goal.{g.id}.owner", g.owner),
                "due": day(f"goal.{g.id}.due", g.due),
            }
        )
        for g in doc.goals
    )
    kpis = tuple(
        k.model_copy(
            update={
                "target": number(f"kpi.{k.id}.target", k.target),
                "owner": team(f"kpi.{k.id}.owner", k.owner),
                "due": day(f"kpi.{k.id}.due", k.due),
            }
        )
        for k in doc.kpis
    )
    summary = text("summary", doc.summary) or doc.summary
    # validate the whole document again (dates inside the plan period and the like)
    data = doc.model_copy(update={"summary": summary, "goals": goals, "kpis": kpis}).model_dump()
    try:
        return PlanDocument.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise StreamwiseError(problems) from None


def _version(engine: Any, name: str, number: int | None, viewer: Viewer) -> Any:
    try:
        return load_plan_version(engine, name, number)
    except StreamwiseError as exc:
        raise NotFoundError(viewer, str(exc)) from None


@router.get("/app/plan/versions")
def versions(request: Request, viewer: CanRead, a: int | None = None, b: int | None = None,
             message: str = "") -> Response:  # fmt: skip
    """Every version of the plan; the difference between versions ``a`` and ``b`` (default:
    the latest and the one before)."""
    engine = request.app.state.engine
    latest = request.app.state.plan_views.latest_info()
    if latest is None:
        raise NotFoundError(viewer, "no plan is saved yet: build one with `streamwise plan build`")
    listed = list(reversed(plan_versions(engine, latest.name)))
    b = b or latest.version
    a = a or max(1, b - 1)
    info_a, doc_a = _version(engine, latest.name, a, viewer)
    info_b, doc_b = _version(engine, latest.name, b, viewer)
    changes = [(c.path, c.kind, format_value(c.old, 600), format_value(c.new, 600))
               for c in diff_plans(doc_a, doc_b)] if a != b else []  # fmt: skip
    return page("plan_versions.html", title="Plan versions", viewer=viewer, path="/app/plan",
                subtitle=latest.name, versions=listed, a=info_a, b=info_b, changes=changes,
                message=message)  # fmt: skip


@router.get("/app/plan/edit")
def edit_form(request: Request, viewer: CanEditPlan) -> Response:
    """The latest version's goals and KPIs in a form."""
    view = request.app.state.plan_views.latest()
    if view is None:
        raise NotFoundError(viewer, "no plan is saved yet: build one with `streamwise plan build`")
    return _edit_page(viewer, view)


def _edit_page(
    viewer: Viewer,
    view: Any,
    *,
    error: str = "",
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return page("plan_edit.html", title="Edit the plan", viewer=viewer, path="/app/plan",
                subtitle=f"Saves version {view.info.version + 1} of {view.info.name}",
                doc=view.document, teams=TEAMS, error=error, values=values or {},
                base=view.info.version, status_code=status_code)  # fmt: skip


@router.post("/app/plan/edit")
async def edit(request: Request, viewer: CanEditPlan) -> Response:
    """Save the edited goals and KPIs as the plan's next version, then show what changed."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    engine = request.app.state.engine
    view = request.app.state.plan_views.latest()
    if view is None:
        raise NotFoundError(viewer, "no plan is saved yet: build one with `streamwise plan build`")
    if form.get("base") != str(view.info.version):
        error = (f"Someone saved version {view.info.version} while you edited; your changes "
                 "were not saved. Here is the latest version: make them again.")  # fmt: skip
        return _edit_page(viewer, view, error=error, status_code=409)

    def save() -> tuple[int, int, list[str]]:
        new = edited_plan(view.document, form)
        changed = [c.path for c in diff_plans(view.document, new)]
        if not changed:
            return view.info.version, view.info.version, []
        note = form.get("note", "").strip()[:500] or "edited in the dashboard"
        saved = save_plan(engine, new, author=viewer.account.username, note=note)
        with session_factory(engine)() as session, session.begin():
            audit(session, viewer.account.username, "plan.edit", saved.name,
                  version=saved.version, changed=changed[:50])  # fmt: skip
        return view.info.version, saved.version, changed

    try:
        old, new, changed = await run_in_threadpool(save)
    except StreamwiseError as exc:
        return _edit_page(viewer, view, error=f"Not saved: {exc}", values=form, status_code=422)
    if not changed:
        return RedirectResponse("/app/plan/versions?message=" + quote("Nothing changed"),
                                status_code=_SEE_OTHER)  # fmt: skip
    message = quote(f"Saved version {new}: {len(changed)} change(s)")
    return RedirectResponse(f"/app/plan/versions?a={old}&b={new}&message={message}",
                            status_code=_SEE_OTHER)  # fmt: skip
