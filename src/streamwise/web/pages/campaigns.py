"""The Campaigns pages: create a campaign from a persona, edit its variants, preview the e-mail a
recipient would get, send it now (a background job, with live progress), schedule it, pause and
resume it.

Reading needs ``read``; creating and editing ``campaign.edit``; sending, scheduling, pausing and
resuming ``campaign.send`` (marketing and admin). A send runs in its own process
(:mod:`~streamwise.web.pages.jobs`), never in the web server's; a campaign scheduled for later is
sent by ``streamwise campaign run-due`` (cron or a timer) when its time comes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from streamwise.downstream.campaigns.ledger import counts, move
from streamwise.downstream.campaigns.lifecycle import TRANSITIONS
from streamwise.downstream.campaigns.preview import preview_message
from streamwise.downstream.campaigns.service import create_campaign, schedule
from streamwise.downstream.campaigns.settings import CampaignSettings
from streamwise.errors import StreamwiseError
from streamwise.store.db import session_factory
from streamwise.store.models import Campaign, Suppression
from streamwise.web.pages.accounts import audit
from streamwise.web.pages.campaign_forms import (
    email_view,
    house_style,
    new_campaign,
    settings_from_form,
)
from streamwise.web.pages.jobs import active_job, job_view, recent_jobs, start_job
from streamwise.web.pages.render import page
from streamwise.web.pages.security import CanRead, NotFoundError, Viewer, needs
from streamwise.web.pages.upstream import analytics_stamp, read_analytics

__all__ = ["previews", "router", "warm_previews"]

router = APIRouter(include_in_schema=False)

CanEditCampaigns = Annotated[Viewer, needs("campaign.edit")]
CanSendCampaigns = Annotated[Viewer, needs("campaign.send")]

_SEE_OTHER = 303
_MAX_HTML = 200_000


def _campaigns(engine: Any) -> list[Campaign]:
    with session_factory(engine)() as session:
        rows = list(session.scalars(select(Campaign).order_by(Campaign.id.desc())).all())
        for row in rows:
            session.expunge(row)
    return rows


def _campaign(engine: Any, cid: int, viewer: Viewer) -> Campaign:
    with session_factory(engine)() as session:
        row = session.get(Campaign, cid)
        if row is None:
            raise NotFoundError(viewer, f"there is no campaign {cid}")
        session.expunge(row)
    return row


def _house(engine: Any) -> dict[str, Any]:
    return house_style([c.settings for c in _campaigns(engine) if c.channel == "email"])


def _progress(c: dict[str, int]) -> dict[str, Any]:
    """Ledger counts as the page shows them: settled of total (the held-out are not sent)."""
    total = sum(v for k, v in c.items() if k != "held_out")
    waiting = c.get("pending", 0) + c.get("sending", 0)
    return {"total": total, "settled": total - waiting, "sent": c.get("sent", 0),
            "share": (total - waiting) / total if total else 0.0, "counts": c}  # fmt: skip


@router.get("/app/campaigns")
def campaigns(request: Request, viewer: CanRead, message: str = "") -> Response:
    """Every campaign with its state and progress; a new one from a persona."""
    engine = request.app.state.engine
    rows = [(c, _progress(counts(engine, int(c.id)))) for c in _campaigns(engine)]
    view = request.app.state.plan_views.latest()
    personas = list(view.document.personas) if view is not None else []
    return page("campaigns.html", title="Campaigns", viewer=viewer, path="/app/campaigns",
                subtitle="Create from a persona, preview, send and follow progress",
                rows=rows, personas=personas, message=message)  # fmt: skip


@router.get("/app/campaigns/new")
def new_campaign_form(request: Request, viewer: CanEditCampaigns, persona: int = 0) -> Response:
    """The form of a new campaign, filled in for a persona of the latest plan."""
    view = request.app.state.plan_views.latest()
    plan = view.document if view is not None else None
    draft = new_campaign(plan, persona, _house(request.app.state.engine), datetime.now(UTC))
    return _new_page(viewer, draft, plan, view)


def _new_page(
    viewer: Viewer,
    draft: Any,
    plan: Any,
    view: Any,
    *,
    error: str = "",
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    return page("campaign_new.html", title="New campaign", viewer=viewer,
                path="/app/campaigns", draft=draft, plan=plan, error=error,
                plan_version_id=view.info.id if view is not None else None,
                values=values or {}, status_code=status_code)  # fmt: skip


@router.post("/app/campaigns")
async def create(request: Request, viewer: CanEditCampaigns) -> Response:
    """Save a draft campaign from the form; a wrong field is shown on the form again."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    view = request.app.state.plan_views.latest()
    plan = view.document if view is not None else None
    engine = request.app.state.engine
    house = await run_in_threadpool(_house, engine)
    try:
        persona_index = int(form.get("persona", "-1"))
    except ValueError:
        persona_index = -1
    draft = new_campaign(plan, persona_index, house, datetime.now(UTC))
    name = form.get("name", "").strip()
    persona = plan.personas[persona_index] if draft.persona is not None and plan else None

    def save() -> int:
        if not name:
            raise StreamwiseError("give the campaign a name")
        if len(form.get("html", "")) > _MAX_HTML:
            raise StreamwiseError(f"the e-mail's HTML is over {_MAX_HTML:,} characters")
        settings = settings_from_form(form, house)
        cid = create_campaign(
            request.app.state.workspace, name, audience=form.get("audience", draft.audience),
            settings=settings, persona=persona.name if persona else None,
            goal=draft.goal or None, plan_version_id=view.info.id if view is not None else None,
        )  # fmt: skip
        with session_factory(engine)() as session, session.begin():
            audit(session, viewer.account.username, "campaign.create", name,
                  persona=persona.name if persona else None)  # fmt: skip
        return cid

    try:
        cid = await run_in_threadpool(save)
    except (StreamwiseError, ValidationError, ValueError) as exc:
        return _new_page(viewer, draft, plan, view, error=str(exc), values=form,
                         status_code=422)  # fmt: skip
    # its preview is rendered while the person reads the campaign page (~0.5 s at 20,000)
    threading.Thread(target=warm_previews, args=(request.app.state, 1), daemon=True).start()
    return RedirectResponse(f"/app/campaigns/{cid}?message=Saved+as+a+draft",
                            status_code=_SEE_OTHER)  # fmt: skip


@router.get("/app/campaigns/{cid}")
def campaign(request: Request, cid: int, viewer: CanRead, message: str = "") -> Response:
    """A campaign: its state, progress, variants and what can be done with it next."""
    engine = request.app.state.engine
    c = _campaign(engine, cid, viewer)
    job = active_job(engine, "send", c.name)
    jobs = recent_jobs(engine, 5, kind="send", target=c.name)
    return page("campaign.html", title=c.name, viewer=viewer, path="/app/campaigns",
                subtitle=f"{c.channel} campaign · {c.state}", c=c,
                settings=CampaignSettings(**c.settings), progress=_progress(counts(engine, cid)),
                job=job, last=jobs[0] if jobs else None, moves=TRANSITIONS.get(c.state, {}),  # type: ignore[call-overload]
                message=message)  # fmt: skip


class _Previews:
    """Rendered previews, kept until the campaign, the customer data or the suppression list
    changes (rendering one resolves the audience: ~0.3 s at 20,000 customers)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], tuple[Any, Any, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, ws: Any, c: Campaign, customer: str) -> tuple[Any, Any, str]:
        engine = ws.operational()
        with session_factory(engine)() as session:
            suppressed = session.execute(
                select(func.count(), func.max(Suppression.id)).select_from(Suppression)
            ).one()
        key = (int(c.id), customer, c.updated_at, tuple(suppressed), analytics_stamp(ws))
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = _render_preview(ws, c, customer)
        if not value[2].startswith("the customer data could not be read"):
            with self._lock:
                self._items[key] = value
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return value


def previews(state: Any) -> _Previews:
    """The app's preview cache (made on first use)."""
    if not hasattr(state, "campaign_previews"):
        state.campaign_previews = _Previews()
    return state.campaign_previews  # type: ignore[no-any-return]


def warm_previews(state: Any, limit: int = 5) -> None:
    """Render the default preview of the newest campaigns that can still be sent (in the
    background thread that ``streamwise serve`` starts, or after a campaign is created)."""
    try:
        for c in _campaigns(state.engine)[:limit]:
            if c.state in ("draft", "scheduled", "sending", "paused") and c.channel == "email":
                previews(state).get(state.workspace, c, "")
    except Exception:  # noqa: S110 - only a head start: the page renders it when asked
        pass


def _render_preview(ws: Any, c: Campaign, customer: str) -> tuple[Any, Any, str]:
    error, shown, result = "", None, None
    try:
        result = read_analytics(ws, lambda view: preview_message(view, c.name, customer or None))
        payload = result.message.payload
        if isinstance(payload, bytes):
            shown = email_view(payload)
    except StreamwiseError as exc:
        error = str(exc)
    except Exception as exc:  # the analytics file is held for writing (an import or analysis)
        error = (f"the customer data could not be read just now ({type(exc).__name__}): an "
                 "import or analysis is probably running; try again in a moment")  # fmt: skip
    return result, shown, error


@router.get("/app/campaigns/{cid}/preview")
def preview(request: Request, cid: int, viewer: CanRead, customer: str = "") -> Response:
    """The e-mail one recipient (default: the audience's first) would get, as it would go out."""
    c = _campaign(request.app.state.engine, cid, viewer)
    state = request.app.state
    result, shown, error = previews(state).get(state.workspace, c, customer.strip())
    return page("campaign_preview.html", title=f"Preview: {c.name}", viewer=viewer,
                path="/app/campaigns", c=c, preview=result, email=shown, error=error,
                customer=customer, status_code=422 if error else 200)  # fmt: skip


@router.post("/app/campaigns/{cid}/variants")
async def edit_variants(request: Request, cid: int, viewer: CanEditCampaigns) -> Response:
    """Save a draft's variants (subject, HTML and weight of each; a new one when given)."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    engine = request.app.state.engine

    def save() -> str:
        with session_factory(engine)() as session, session.begin():
            c = session.get(Campaign, cid)
            if c is None:
                raise NotFoundError(viewer, f"there is no campaign {cid}")
            if c.state != "draft":
                raise StreamwiseError(f"only a draft's variants can change; this one is {c.state}")
            variants: dict[str, Any] = {}
            for arm in [*c.settings.get("variants", {}), form.get("new_arm", "").strip()]:
                if not arm or form.get(f"remove_{arm}") == "on":
                    continue
                old = c.settings.get("variants", {}).get(arm, {})  # a field not sent stays
                subject = form.get(f"subject_{arm}", old.get("subject") or "").strip()
                html = form.get(f"html_{arm}", old.get("html") or "")
                if arm == form.get("new_arm", "").strip() and not (subject or html.strip()):
                    continue
                if len(html) > _MAX_HTML:
                    raise StreamwiseError(f"variant {arm}: its HTML is over {_MAX_HTML:,} chars")
                try:
                    weight = float(form.get(f"weight_{arm}", old.get("weight", 1)) or 1)
                except ValueError:
                    raise StreamwiseError(f"variant {arm}: the weight must be a number") from None
                variants[arm] = {"weight": weight, "subject": subject, "html": html}
            settings = CampaignSettings(**{**c.settings, "variants": variants})
            c.settings = settings.model_dump(mode="json")
            audit(session, viewer.account.username, "campaign.variants", c.name,
                  variants=sorted(variants))  # fmt: skip
        return "Variants saved"

    try:
        message = await run_in_threadpool(save)
    except ValidationError as exc:
        message = "Not saved: " + "; ".join(e["msg"] for e in exc.errors())
    except StreamwiseError as exc:
        message = f"Not saved: {exc}"
    return _back(cid, message)


def _back(cid: int, message: str) -> Response:
    from urllib.parse import quote

    return RedirectResponse(f"/app/campaigns/{cid}?message={quote(message)}",
                            status_code=_SEE_OTHER)  # fmt: skip


def _start_send(request: Request, c: Campaign, viewer: Viewer) -> str:
    engine = request.app.state.engine
    running = active_job(engine, "send", c.name)
    if running is not None:
        return f"Already sending (job {running.id}); follow its progress below"
    job = start_job(request.app.state.workspace, "send", target=c.name,
                    args={"campaign": c.name}, actor=viewer.account.username)  # fmt: skip
    with session_factory(engine)() as session, session.begin():
        audit(session, viewer.account.username, "campaign.send", c.name, job=job)
    return f"Sending (job {job})"


@router.post("/app/campaigns/{cid}/send")
def send(request: Request, cid: int, viewer: CanSendCampaigns) -> Response:
    """Send now: a draft, a scheduled campaign or an interrupted send, in a background job."""
    c = _campaign(request.app.state.engine, cid, viewer)
    if c.state not in ("draft", "scheduled", "sending"):
        return _back(cid, f"A {c.state} campaign cannot be sent; resume it if it is paused")
    if c.state == "scheduled":
        move(request.app.state.engine, cid, "draft")  # now instead of later
    return _back(cid, _start_send(request, c, viewer))


@router.post("/app/campaigns/{cid}/resume")
def resume(request: Request, cid: int, viewer: CanSendCampaigns) -> Response:
    """Resume a paused campaign (in a background job)."""
    engine = request.app.state.engine
    c = _campaign(engine, cid, viewer)
    if c.state != "paused":
        return _back(cid, f"Only a paused campaign can be resumed; this one is {c.state}")
    move(engine, cid, "sending")
    return _back(cid, _start_send(request, c, viewer))


@router.post("/app/campaigns/{cid}/pause")
def pause(request: Request, cid: int, viewer: CanSendCampaigns) -> Response:
    """Ask a sending campaign to stop after the batch in flight."""
    engine = request.app.state.engine
    c = _campaign(engine, cid, viewer)
    if c.state != "sending":
        return _back(cid, f"Only a sending campaign can be paused; this one is {c.state}")
    move(engine, cid, "paused")
    with session_factory(engine)() as session, session.begin():
        audit(session, viewer.account.username, "campaign.pause", c.name)
    return _back(cid, "Pausing after the batch in flight")


@router.post("/app/campaigns/{cid}/schedule")
async def schedule_send(request: Request, cid: int, viewer: CanSendCampaigns) -> Response:
    """Schedule a draft for a time (UTC); ``streamwise campaign run-due`` sends it then."""
    form = await request.form()
    engine = request.app.state.engine
    c = await run_in_threadpool(_campaign, engine, cid, viewer)
    text = str(form.get("at", "")).strip()
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return _back(cid, f"Not scheduled: {text!r} is not a date and time (YYYY-MM-DDTHH:MM)")
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    if at <= datetime.now(UTC):
        return _back(cid, "Not scheduled: the time has passed; use Send now instead")
    try:
        await run_in_threadpool(schedule, request.app.state.workspace, c.name, at)
    except StreamwiseError as exc:
        return _back(cid, f"Not scheduled: {exc}")

    def log() -> None:
        with session_factory(engine)() as session, session.begin():
            audit(session, viewer.account.username, "campaign.schedule", c.name,
                  at=at.isoformat())  # fmt: skip

    await run_in_threadpool(log)
    return _back(cid, f"Scheduled for {at:%Y-%m-%d %H:%M} UTC")


@router.get("/app/jobs/{job_id}")
def job(request: Request, job_id: int, viewer: CanRead) -> Response:
    """A background job's progress and outcome, as JSON (the pages poll it)."""
    found = job_view(request.app.state.engine, job_id)
    if found is None:
        raise NotFoundError(viewer, f"there is no job {job_id}")
    return JSONResponse(found.as_dict(), headers={"Cache-Control": "no-store"})


#: The dashboard's own scripts (no third-party code): file name → media type.
_STATIC = {"progress.js": "text/javascript; charset=utf-8"}


@cache
def _static(name: str) -> bytes:
    return resources.files("streamwise.web.pages").joinpath("static", name).read_bytes()


@router.get("/app/static/{name}")
def static(name: str, viewer: CanRead) -> Response:
    """The dashboard's scripts (served from the package; pages load nothing from elsewhere)."""
    if name not in _STATIC:
        raise NotFoundError(viewer, f"there is no file {name!r}")
    return Response(_static(name), media_type=_STATIC[name],
                    headers={"Cache-Control": "private, max-age=300",
                             "X-Content-Type-Options": "nosniff"})  # fmt: skip
