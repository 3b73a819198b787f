"""The Results page of the dashboard: what the campaigns caused, the campaigns' A/B tests, which
channels get the credit, what media returns, and a budget optimiser to try budgets on.

``/app/results`` shows the report's result sections (:func:`~streamwise.reports.results.
results_sections`: campaign lift against the holdouts, channel attribution, media mix ROI and
response curves, the budget the latest measurement run saved in the plan) with, after the lift,
every campaign that sent two or more variants as an experiment
(:mod:`~streamwise.web.pages.results_experiments`). ``/app/results/budget`` splits a total
budget per period across the channels' saved response curves within optional limits per channel
and sets it beside today's split (:mod:`~streamwise.web.pages.results_budget`).

The Results page is kept until the analytics file (or its write-ahead log), the campaigns'
ledger or tracked engagements (row counts, newest ids, last send, messages sent), the campaigns
(count, last update) or the plan change; an optimised budget until the analytics file changes.
The analytics file is read through a read-only connection, closed after
(:class:`~streamwise.web.pages.upstream.ReadOnlyWorkspace`), so an analysis holding it for
writing makes the page say it is busy instead of waiting.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy import case, func, select

from streamwise.errors import ConfigError, DataError, StreamwiseError
from streamwise.measure.budget import optimise_budget
from streamwise.measure.curves import HillCurve, load_curves
from streamwise.measure.feedback import current_spend
from streamwise.reports.html import render_sections
from streamwise.reports.results import results_sections
from streamwise.store.models import Campaign, CampaignSend, Engagement
from streamwise.web.pages.render import page
from streamwise.web.pages.results_budget import (
    OBJECTIVES,
    BudgetRequest,
    allocation_section,
    cut,
    parse_budget,
)
from streamwise.web.pages.results_experiments import campaign_experiments, experiments_section
from streamwise.web.pages.security import CanRead
from streamwise.web.pages.upstream import analytics_stamp, read_analytics

__all__ = ["BUDGET_PATH", "PATH", "results_body", "router"]

PATH, BUDGET_PATH = "/app/results", "/app/results/budget"
_S, _E, _C = CampaignSend.__table__, Engagement.__table__, Campaign.__table__


# --------------------------------------------------------------------------------------------
# caches


def _operational_stamp(engine: Any) -> tuple[Any, ...]:
    """What changes when a campaign sends, a message settles or an engagement is tracked."""
    sent = func.coalesce(func.sum(case((_S.c.status == "sent", 1), else_=0)), 0)
    with engine.connect() as con:
        sends = con.execute(select(func.count(), func.max(_S.c.id), func.max(_S.c.sent_at),
                                   sent)).one()  # fmt: skip
        engaged = con.execute(select(func.count(), func.max(_E.c.id))).one()
        campaigns = con.execute(select(func.count(), func.max(_C.c.updated_at))).one()
    return (*sends, *engaged, *campaigns)


class _Lru:
    """A small thread-safe cache: ``get(key, make)``; what ``make`` raises is not kept."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
            value = make()
            self._kept[key] = value
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
            return value


_PAGES, _MEDIA, _BUDGETS = _Lru(8), _Lru(8), _Lru(64)


def results_body(workspace: Any, plan_view: Any) -> Markup:
    """The cached sections of the Results page."""
    plan = plan_view.document if plan_view is not None else None
    key = (str(workspace.analytics_path), analytics_stamp(workspace),
           _operational_stamp(workspace.operational()),
           plan_view.info.id if plan_view is not None else None)  # fmt: skip

    def make() -> Markup:
        experiments = experiments_section(campaign_experiments(workspace))
        sections = read_analytics(workspace, lambda ws: results_sections(ws, plan=plan))
        return render_sections([sections[0], experiments, *sections[1:]])

    return _PAGES.get(key, make)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _Media:
    curves: dict[str, HillCurve] = field(default_factory=dict)
    current: dict[str, float] = field(default_factory=dict)


def _media(workspace: Any) -> _Media:
    def load(ws: Any) -> _Media:
        con = ws.duckdb()
        curves = load_curves(con) or {}
        spend = current_spend(con)
        return _Media(curves, {ch: spend.get(ch, 0.0) for ch in curves})

    key = (str(workspace.analytics_path), analytics_stamp(workspace))
    return _MEDIA.get(key, lambda: read_analytics(workspace, load))  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------
# routes

router = APIRouter(include_in_schema=False)

_BUSY = ("The analytics database is busy ({}): an analysis is probably running. Reload in a "
         "moment.")  # fmt: skip


@router.get(PATH)
def results(request: Request, viewer: CanRead) -> Response:
    """Campaign lift, experiments, attribution, media mix and budget; a budget to try."""
    context: dict[str, Any] = {
        "title": "Results",
        "viewer": viewer,
        "path": PATH,
        "subtitle": "What the campaigns caused, which variants won, "
        "which channels earn their spend, and how to split the budget.",
    }
    try:
        body = results_body(request.app.state.workspace, request.app.state.plan_views.latest())
    except duckdb.Error as exc:  # the file is held for writing by an analysis run
        return page("results.html", notice=_BUSY.format(type(exc).__name__), status_code=503,
                    **context)  # fmt: skip
    except StreamwiseError as exc:  # e.g. an engine whose results this page cannot read
        return page("results.html", notice=f"The results cannot be read: {exc}", **context)
    return page("results.html", body=body, **context)


@router.get(BUDGET_PATH)
def budget(request: Request, viewer: CanRead) -> Response:
    """Split a total budget across the channels' response curves, within limits per channel."""
    workspace = request.app.state.workspace
    context: dict[str, Any] = {"title": "Budget optimiser", "viewer": viewer, "path": PATH,
                               "subtitle": "Split a media budget across the channels for the "
                               "most return, from the media mix model's response curves.",
                               "currency": workspace.settings.currency}  # fmt: skip
    try:
        media = _media(workspace)
    except duckdb.Error as exc:
        return page("budget.html", notice=_BUSY.format(type(exc).__name__), status_code=503,
                    **context)  # fmt: skip
    except StreamwiseError as exc:
        return page("budget.html", notice=f"The response curves cannot be read: {exc}",
                    **context)  # fmt: skip
    if not media.curves:
        return page("budget.html", notice="The workspace has no response curves yet: import "
                    "spend and run `streamwise measure mmm` (it needs the `[bayes]` extra), then "
                    "reload.", **context)  # fmt: skip
    query = request.query_params
    values = {k: cut(v) for k, v in query.items()}
    today = sum(media.current.values())
    channels = [{"name": ch, "today": media.current[ch], "index": i}
                for i, ch in enumerate(media.curves)]  # fmt: skip
    context |= {"channels": channels, "today": today, "objectives": OBJECTIVES, "values": values}
    try:
        ask = parse_budget(query, list(media.curves), today)
        key = (str(workspace.analytics_path), analytics_stamp(workspace), ask)
        result = _BUDGETS.get(key, lambda: _optimise(media, ask, workspace.settings.currency))
    except DataError as exc:
        return page("budget.html", error=f"{str(exc).rstrip('.')}.", status_code=422, **context)
    except ConfigError as exc:  # limits that cannot all be met
        return page("budget.html", error=f"These limits cannot all be met: {str(exc).rstrip('.')}.",
                    status_code=422, **context)  # fmt: skip
    return page("budget.html", result=result, **context)


def _optimise(media: _Media, ask: BudgetRequest, currency: str) -> Markup:
    result = optimise_budget(
        media.curves,
        ask.total,
        bounds=ask.bounds_dict(),
        current=media.current,
        objective=ask.objective,
    )
    return render_sections([allocation_section(result, media.curves, currency)])
