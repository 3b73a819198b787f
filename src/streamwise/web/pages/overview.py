"""The overview page's content: the plan's goals and KPIs, plan against actual, and what changed
in the plan since the measurement before the latest one."""

from __future__ import annotations

from typing import Any

import pandas as pd

from streamwise.errors import WorkspaceError
from streamwise.plan.diff import diff_plans
from streamwise.plan.document import PlanDocument
from streamwise.plan.store import PlanVersionInfo, load_plan_version, plan_versions
from streamwise.reports.html import Items, Paragraph, Section, Table

__all__ = ["latest_plan", "overview_sections"]


def latest_plan(engine: Any) -> tuple[PlanVersionInfo, PlanDocument] | None:
    """The latest version of the plan saved most recently, or ``None`` when there is none."""
    try:
        return load_plan_version(engine)
    except WorkspaceError:
        return None


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit in ("%", "share", "rate"):
        return f"{value:.1%}" if abs(value) <= 1.5 else f"{value:,.1f}%"
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"


def _kpi_table(doc: PlanDocument) -> pd.DataFrame:
    actual = {k.id: k for k in (doc.measurement.kpis if doc.measurement else ())}
    rows = []
    for k in doc.kpis:
        a = actual.get(k.id)
        rows.append(
            {
                "KPI": k.name,
                "owner": k.owner,
                "baseline": _fmt(k.baseline, k.unit),
                "target": _fmt(k.target, k.unit),
                "due": k.due,
                "actual": _fmt(a.actual, k.unit) if a else "–",
                "progress": f"{a.progress:.0%}" if a and a.progress is not None else "–",
                "time gone": f"{a.expected:.0%}" if a else "–",
                "status": a.status if a else "not measured yet",
            }
        )
    return pd.DataFrame(rows)


def overview_sections(engine: Any) -> list[Section]:
    """Sections of the overview page for the workspace's operational ``engine``."""
    found = latest_plan(engine)
    if found is None:
        return [
            Section(
                "No plan yet",
                lead="Build the plan first: `streamwise plan build QUESTIONNAIRE` (or run "
                "`streamwise demo`), then come back.",
            )
        ]
    info, doc = found
    goals = pd.DataFrame(
        [{"goal": g.title, "owner": g.owner, "due": g.due, "KPIs": len(g.kpis)} for g in doc.goals]
    )
    statuses = _kpi_table(doc)["status"].value_counts() if doc.kpis else pd.Series(dtype=int)
    if doc.measurement is not None:
        lead = (
            f"Measured on {doc.measurement.as_of}: "
            + ", ".join(f"{n} {s}" for s, n in statuses.items())
            + f" of {len(doc.kpis)} KPIs."
        )
    else:
        lead = (
            f"{len(doc.goals)} goals and {len(doc.kpis)} KPIs; not measured yet "
            "(`streamwise measure feedback`)."
        )
    sections = [
        Section(
            f"{doc.name}, version {info.version}",
            lead=doc.summary,
            blocks=[
                Paragraph(
                    f"Saved {info.created_at:%Y-%m-%d %H:%M} UTC by {info.author or 'unknown'}"
                    + (f": {info.note}" if info.note else "")
                    + f". Runs {doc.start} to {doc.end}."
                ),
                Table(goals, caption="Goals"),
            ],
            id="plan",
        ),
        Section(
            "Plan against actual",
            lead=lead,
            blocks=[Table(_kpi_table(doc), caption="KPIs: baseline, target and actual")],
            id="kpis",
        ),
    ]
    if doc.measurement is not None and doc.measurement.recommendations:
        sections.append(
            Section(
                "Recommended changes",
                lead="From the latest measurement run, for the owning team to decide on.",
                blocks=[
                    Items(tuple(f"{r.owner}: {r.text}" for r in doc.measurement.recommendations))
                ],
                id="recommendations",
            )
        )
    sections.append(_changes(engine, info))
    return sections


def _changes(engine: Any, info: PlanVersionInfo) -> Section:
    versions = plan_versions(engine, info.name)
    if len(versions) < 2:
        return Section(
            "What changed",
            lead="This is the plan's first version; changes show here from the next one.",
            id="changes",
        )
    before = versions[-2]
    _, old = load_plan_version(engine, info.name, before.version)
    _, new = load_plan_version(engine, info.name, info.version)
    changes = diff_plans(old, new)
    shown = [str(c) for c in changes[:25]]
    more = len(changes) - len(shown)
    blocks: list[Any] = [Items(tuple(shown))] if shown else []
    if more > 0:
        blocks.append(Paragraph(f"{more} more change(s): `streamwise plan diff`."))
    return Section(
        "What changed",
        lead=f"{len(changes)} change(s) from version {before.version} to {info.version}.",
        blocks=blocks,
        id="changes",
    )
