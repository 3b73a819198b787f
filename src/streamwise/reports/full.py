"""The whole report: the upstream picture, the current plan and the latest results on one
self-contained HTML page with a table of contents (what ``streamwise report`` writes).

The plan is the latest version of the plan saved most recently (what ``streamwise plan show``
prints). Its measurement's charts are left to the results part, which draws the same lifts and
budget, so the page shows each picture once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streamwise.errors import WorkspaceError
from streamwise.plan.document import PlanDocument
from streamwise.plan.store import PlanVersionInfo, load_plan_version
from streamwise.reports.html import Figure, Paragraph, Section, render_page
from streamwise.reports.plan import (
    goals_section,
    measurement_section,
    summary_section,
    timeline_section,
)
from streamwise.reports.results import results_sections
from streamwise.reports.upstream import upstream_sections

__all__ = [
    "REPORT_FILE",
    "ReportContents",
    "full_report",
    "is_hint",
    "plan_part",
    "report_contents",
]

#: Where ``streamwise report`` writes the report in the workspace folder (the dashboard serves it).
REPORT_FILE = "report.html"

#: What the plan part says when the workspace has no plan.
NO_PLAN_HINT = (
    "No plan saved yet, so there are no goals, KPIs or timeline to show.",
    "Build one with `streamwise plan build -q QUESTIONNAIRE`.",
)


def is_hint(section: Section) -> bool:
    """Whether a section only says what to run (its result is missing)."""
    return bool(section.blocks) and all(
        isinstance(b, Paragraph) and b.style == "hint" for b in section.blocks
    )


@dataclass(frozen=True, eq=False)
class ReportContents:
    """The report's sections by part, and the plan version they show.

    Attributes
    ----------
    title, subtitle
        The page's title and the line under it.
    upstream, plan, results
        The sections of each part, in reading order.
    plan_version
        The plan version shown (None without a plan).
    """

    title: str
    subtitle: str
    upstream: tuple[Section, ...]
    plan: tuple[Section, ...]
    results: tuple[Section, ...]
    plan_version: PlanVersionInfo | None = None

    @property
    def sections(self) -> tuple[Section, ...]:
        """Every section in page order."""
        return self.upstream + self.plan + self.results

    def render(self) -> str:
        """The page as one self-contained HTML document."""
        return render_page(self.title, self.sections, subtitle=self.subtitle)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: the title, the plan version and, per part, each section's title and
        whether it has content or only says what to run."""
        return {
            "title": self.title,
            "plan_version": self.plan_version.version if self.plan_version else None,
            **{
                part: [{"title": s.title, "missing": is_hint(s)} for s in sections]
                for part, sections in (
                    ("upstream", self.upstream),
                    ("plan", self.plan),
                    ("results", self.results),
                )
            },
        }


def plan_part(doc: PlanDocument | None, *, version: int | None = None) -> list[Section]:
    """The plan's own sections: summary, goals and KPIs, timeline and plan against actual
    (without charts: the results part draws them); a hint without a plan."""
    if doc is None:
        missing, todo = NO_PLAN_HINT
        return [Section("The plan", lead=missing, blocks=[Paragraph(todo, "hint")], id="plan")]
    summary = summary_section(doc, version=version)
    sections = [
        Section("The plan", lead=summary.lead, blocks=summary.blocks, id="plan"),
        goals_section(doc),
        timeline_section(doc),
    ]
    measured = measurement_section(doc)
    if measured is not None:
        blocks = [b for b in measured.blocks if not isinstance(b, Figure)]
        sections.append(Section(measured.title, measured.lead, blocks, id=measured.id))
    return sections


def report_contents(workspace: Any) -> ReportContents:
    """Collect the report's sections from the workspace and its latest plan.

    Parameters
    ----------
    workspace
        An open :class:`streamwise.workspace.Workspace`.

    Returns
    -------
    ReportContents
        Missing results give sections that say which command makes them; a plan that cannot be
        read gives a section that says why.
    """
    info: PlanVersionInfo | None = None
    doc: PlanDocument | None = None
    problem = ""
    try:
        info, doc = load_plan_version(workspace)
    except WorkspaceError as exc:
        if "no plan saved yet" not in str(exc):
            problem = str(exc)
    plan = plan_part(doc, version=info.version if info else None)
    if problem:
        plan = [
            Section(
                "The plan",
                lead="The latest plan could not be read.",
                blocks=[Paragraph(problem, "caveat")],
                id="plan",
            )
        ]
    s = workspace.settings
    subtitle = f"{s.company} · {s.brand}"
    if doc is not None and info is not None:
        subtitle += (
            f" · plan {doc.name} version {info.version}, {doc.start.isoformat()} to "
            f"{doc.end.isoformat()}"
        )
        if doc.measurement is not None:
            subtitle += f" · measured on data through {doc.measurement.as_of.isoformat()}"
    return ReportContents(
        title=f"Marketing report: {s.company}",
        subtitle=subtitle,
        upstream=tuple(upstream_sections(workspace, plan=doc)),
        plan=tuple(plan),
        results=tuple(results_sections(workspace, plan=doc)),
        plan_version=info,
    )


def full_report(workspace: Any) -> str:
    """The upstream picture, the current plan and the latest results as one self-contained HTML
    page with a table of contents.

    Parameters
    ----------
    workspace
        An open :class:`streamwise.workspace.Workspace`.

    Returns
    -------
    str
        HTML with inline CSS and charts; no scripts, no network.
    """
    return report_contents(workspace).render()
