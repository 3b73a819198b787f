"""Rendered views of saved plan versions, kept in memory.

A saved plan version never changes, so its overview and its plan page are rendered once per
version (the plan page draws charts: ~2 s for the demo's plan) and then served from memory;
``streamwise serve`` renders the latest version in the background as soon as it starts. What changes
between requests — comments, the viewer, the menu — is rendered around them on every request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from streamwise.errors import WorkspaceError
from streamwise.plan.document import PlanDocument
from streamwise.plan.store import PlanVersionInfo, load_plan_version, plan_versions
from streamwise.reports.html import render_sections
from streamwise.reports.plan import plan_sections
from streamwise.web.pages.overview import overview_sections

__all__ = ["PlanView", "PlanViews"]


@dataclass(frozen=True)
class PlanView:
    """One saved version: its document, the overview's and the plan page's HTML, and the items
    of the plan that can be commented on (key, label)."""

    info: PlanVersionInfo
    document: PlanDocument
    overview: Markup
    plan: Markup
    items: tuple[tuple[str, str], ...]


class PlanViews:
    """Views of the latest versions of the workspace's plans (at most ``size`` kept)."""

    def __init__(self, engine: Any, size: int = 8) -> None:
        self.engine = engine
        self.size = size
        self._views: OrderedDict[int, PlanView] = OrderedDict()
        self._lock = threading.Lock()

    def latest_info(self) -> PlanVersionInfo | None:
        """The latest version of the plan saved most recently (no document read), or ``None``."""
        try:
            versions = plan_versions(self.engine)
        except WorkspaceError:
            return None
        return versions[-1] if versions else None

    def latest(self) -> PlanView | None:
        """The view of the latest version, rendered now if it is not kept yet."""
        info = self.latest_info()
        return None if info is None else self.view(info)

    def view(self, info: PlanVersionInfo) -> PlanView:
        """The view of version ``info`` (rendered once, under a lock)."""
        with self._lock:
            if info.id in self._views:
                self._views.move_to_end(info.id)
                return self._views[info.id]
            _, doc = load_plan_version(self.engine, info.name, info.version)
            items = [("plan", "The plan as a whole")]
            items += [(f"goal:{g.id}", f"Goal: {g.title}") for g in doc.goals]
            items += [(f"kpi:{k.id}", f"KPI: {k.name}") for k in doc.kpis]
            view = PlanView(
                info=info,
                document=doc,
                overview=render_sections(overview_sections(self.engine)),
                plan=render_sections(plan_sections(doc, version=info.version)),
                items=tuple(items),
            )
            self._views[info.id] = view
            while len(self._views) > self.size:
                self._views.popitem(last=False)
            return view
