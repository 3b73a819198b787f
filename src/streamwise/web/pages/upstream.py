"""The upstream pages of the dashboard (Customers, Research, Competitors, Trends): each one part
of the upstream report, read from the analytics database without holding it.

The analytics database is DuckDB's file, which one process at a time may hold for writing (an
analysis run from the command line does). The pages read it through a read-only connection
opened for the render and closed after, and keep the rendered page until the file changes
(its modification time) or a new plan version is saved.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from markupsafe import Markup

from streamwise.reports.html import Paragraph, Section, render_sections
from streamwise.reports.upstream import upstream_section

__all__ = ["ReadOnlyWorkspace", "UpstreamPages", "analytics_stamp", "read_analytics"]


def analytics_stamp(workspace: Any) -> tuple[int, int]:
    """When the workspace's analytics file and its write-ahead log last changed (a cache key)."""
    path = workspace.analytics_path
    wal = path.with_name(path.name + ".wal")
    return tuple(p.stat().st_mtime_ns if p.exists() else 0 for p in (path, wal))  # type: ignore[return-value]


class ReadOnlyWorkspace:
    """A workspace whose analytics database is opened read-only (and closed by :meth:`close`);
    everything else is the workspace's own."""

    def __init__(self, workspace: Any) -> None:
        self._ws = workspace
        self._con: Any = None
        self._ibis: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)

    def duckdb(self) -> Any:
        """A read-only DuckDB connection to the analytics file."""
        if self._con is None:
            import duckdb

            self._con = duckdb.connect(str(self._ws.analytics_path), read_only=True)
        return self._con

    def analytics(self) -> Any:
        """The read-only connection as an Ibis backend."""
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self.duckdb())
        return self._ibis

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = self._ibis = None


def read_analytics(workspace: Any, build: Any) -> Any:
    """``build(workspace)``, with the analytics file opened read-only for it and closed after,
    unless this process already has it open (or the engine is not DuckDB)."""
    if workspace.settings.engine != "duckdb" or workspace.analytics_open:
        return build(workspace)
    view = ReadOnlyWorkspace(workspace)
    try:
        return build(view)
    finally:
        view.close()


class UpstreamPages:
    """Rendered upstream parts, kept until the analytics file or the plan changes."""

    def __init__(self, workspace: Any, size: int = 16) -> None:
        self.workspace = workspace
        self.size = size
        self._pages: OrderedDict[tuple[Any, ...], Markup] = OrderedDict()
        self._lock = threading.Lock()

    def render(self, part: str, plan_view: Any) -> Markup:
        """The HTML of ``part`` (see :data:`~streamwise.reports.upstream.UPSTREAM_PARTS`)."""
        plan = plan_view.document if plan_view is not None else None
        key = (
            part,
            analytics_stamp(self.workspace),
            plan_view.info.id if plan_view is not None else None,
        )
        with self._lock:
            if key in self._pages:
                self._pages.move_to_end(key)
                return self._pages[key]
            if self.workspace.settings.engine != "duckdb" or self.workspace.analytics_open:
                view: Any = self.workspace
                section = upstream_section(view, part, plan=plan)
            else:
                view = ReadOnlyWorkspace(self.workspace)
                try:
                    section = upstream_section(view, part, plan=plan)
                except Exception as exc:  # the file is held for writing by an analysis run
                    return render_sections([Section(part.capitalize(), blocks=[Paragraph(
                        f"The analytics database is busy ({type(exc).__name__}): an analysis "
                        "is probably running. Reload in a moment.", "caveat")])])  # fmt: skip
                finally:
                    view.close()
            html = render_sections([section])
            self._pages[key] = html
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)
            return html
