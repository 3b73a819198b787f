"""The plan as a self-contained HTML page: summary, targets and why, positioning, personas,
goals with their KPIs, and the timeline.

Each section is also available on its own (:func:`targets_section`, :func:`personas_section`,
...) so that the upstream report can open with the plan's answer.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from streamwise.plan.document import Claim, Evidence, PlanDocument, SegmentScore, Target
from streamwise.reports.charts import attractiveness_chart, timeline_chart
from streamwise.reports.html import (
    Card,
    Cards,
    Fact,
    Figure,
    Heading,
    Items,
    Paragraph,
    Section,
    Table,
    format_cell,
    render_page,
)
from streamwise.reports.measure_charts import budget_chart, lift_chart

__all__ = [
    "attractiveness_frame",
    "format_evidence",
    "goals_section",
    "measurement_section",
    "personas_section",
    "plan_html",
    "plan_sections",
    "positioning_section",
    "summary_section",
    "targets_section",
    "timeline_section",
]


def format_evidence(ev: Evidence) -> str:
    """``table · column · key = value · value = 12.3 · n = 456``: where a number came from."""
    parts = [ev.table, ev.column]
    parts += [f"{k} = {format_cell(v)}" for k, v in ev.key.items()]
    if ev.value is not None:
        parts.append(f"value = {format_cell(ev.value)}")
    if ev.n is not None:
        parts.append(f"n = {ev.n:,}")
    return " · ".join(parts)


def _fact(claim: Claim) -> Fact:
    return Fact(
        claim.text,
        sources=tuple(format_evidence(e) for e in claim.evidence),
        kind="" if claim.kind == "fact" else claim.kind,
    )


def _names(items: Iterable[str]) -> str:
    items = [f"**{i}**" for i in items]
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def attractiveness_frame(doc: PlanDocument) -> pd.DataFrame:
    """``segment, criterion, weight, score, raw, contribution`` (= weight × score) per segment
    and criterion of the plan's attractiveness scores."""
    weights = doc.strategy.weights
    rows = [
        {
            "segment": s.segment,
            "criterion": c,
            "weight": float(weights.get(c, 0.0)),
            "score": float(v),
            "raw": s.raw.get(c),
            "contribution": float(weights.get(c, 0.0)) * float(v),
        }
        for s in doc.strategy.scores
        for c, v in s.scores.items()
    ]
    columns = ["segment", "criterion", "weight", "score", "raw", "contribution"]
    return pd.DataFrame(rows, columns=columns)


def _strongest(score: SegmentScore, weights: dict[str, float]) -> str:
    if not score.scores:
        return ""
    best = max(score.scores, key=lambda c: weights.get(c, 0.0) * score.scores[c])
    return best


def _targets_lead(doc: PlanDocument) -> str:
    targets = sorted(doc.strategy.targets, key=lambda t: t.rank)
    chosen = [t for t in targets if t.decision == "target"]
    scores = {s.segment: s for s in doc.strategy.scores}
    if not chosen:
        return "The plan targets no segment yet: no segment scored high enough on the criteria."
    parts = []
    for t in chosen:
        s = scores.get(t.segment)
        strongest = _strongest(s, doc.strategy.weights) if s else ""
        extra = f", strongest on {strongest}" if strongest else ""
        reason = f": {t.reasons[0].text.rstrip('.')}" if t.reasons else ""
        parts.append(f"**{t.segment}** (rank {t.rank}, score {t.score:.2f}{extra}){reason}")
    lead = "Target " + "; ".join(parts) + "."
    keep = [t.segment for t in targets if t.decision == "maintain"]
    drop = [t.segment for t in targets if t.decision == "deprioritise"]
    if keep:
        lead += f" Maintain {_names(keep)}."
    if drop:
        lead += f" Deprioritise {_names(drop)}."
    return lead


def _targets_table(targets: Iterable[Target]) -> Table:
    rows = [
        {
            "rank": t.rank,
            "segment": t.segment,
            "decision": t.decision,
            "score": t.score,
            "reasons": " ".join(r.text for r in t.reasons) or "–",
        }
        for t in sorted(targets, key=lambda t: t.rank)
    ]
    frame = pd.DataFrame(rows, columns=["rank", "segment", "decision", "score", "reasons"])
    return Table(frame, caption="Targeting decision per segment", formats={"score": "{:.2f}"})


def targets_section(doc: PlanDocument, *, title: str = "Who to target and why") -> Section:
    """The targeting decisions with their reasons, the attractiveness chart, the scores per
    criterion and how sensitive the ranking is to the weights."""
    strategy = doc.strategy
    chosen = tuple(t.segment for t in strategy.targets if t.decision == "target")
    blocks: list = [_targets_table(strategy.targets)]
    frame = attractiveness_frame(doc)
    if len(frame):
        weights = ", ".join(f"{c} {w:.0%}" for c, w in strategy.weights.items())
        blocks.append(
            Figure(
                attractiveness_chart(frame, targets=chosen),
                caption=f"Each criterion scores a segment from 0 to 1; the bar is the weighted "
                f"sum. Weights: {weights}.",
            )
        )
        wide = frame.pivot_table(
            index="segment", columns="criterion", values="score", sort=False
        ).reset_index()
        total = {s.segment: (s.rank, s.total) for s in strategy.scores}
        wide.insert(1, "rank", [total[s][0] for s in wide["segment"]])
        wide.insert(2, "total", [total[s][1] for s in wide["segment"]])
        wide = wide.sort_values("rank")
        wide.columns.name = None
        two = {str(c): "{:.2f}" for c in wide.columns if c not in ("segment", "rank")}
        blocks.append(Table(wide, caption="Scores per criterion (0 to 1)", formats=two))
    evidence = [
        Card(
            t.segment,
            badge=t.decision,
            subtitle=f"rank {t.rank} · score {t.score:.2f}",
            facts=tuple(_fact(r) for r in t.reasons),
        )
        for t in sorted(strategy.targets, key=lambda t: t.rank)
        if t.decision == "target" and t.reasons
    ]
    if evidence:
        blocks += [Heading("The evidence behind each target"), Cards(tuple(evidence))]
    if strategy.sensitivity:
        blocks += [
            Heading("How robust is the ranking?"),
            Paragraph(
                "Each row moves one criterion's weight (the others keep their proportions): "
                "between stable_from and stable_to the same segments are targeted; below or "
                "above that range the targets become those listed. A wide range means the "
                "choice does not hinge on the exact weight."
            ),
            Table(pd.DataFrame(list(strategy.sensitivity)), caption="Sensitivity to the weights"),
        ]
    return Section(title, lead=_targets_lead(doc), blocks=blocks, id="targets")


def positioning_section(doc: PlanDocument) -> Section:
    """One card per positioning statement, with its parts and evidence."""
    cards = tuple(
        Card(
            p.segment,
            body=p.statement,
            facts=(
                Fact(p.for_whom, kind="for"),
                Fact(p.need, kind="need"),
                Fact(p.category, kind="category"),
                Fact(p.differentiator, kind="unlike others"),
                Fact(p.proof, kind="proof", sources=tuple(format_evidence(e) for e in p.evidence)),
            ),
        )
        for p in doc.strategy.positioning
    )
    lead = (
        f"What we say to {_names(p.segment for p in doc.strategy.positioning)}, and the data "
        "that backs each claim."
        if cards
        else "No positioning statements yet."
    )
    return Section("Positioning", lead=lead, blocks=[Cards(cards)] if cards else [])


def personas_section(doc: PlanDocument) -> Section:
    """Persona cards: every claim with its source as small print."""
    cards = []
    for p in doc.personas:
        caveat = ""
        if not p.sufficient_evidence:
            missing = ", ".join(p.missing) or "some inputs"
            caveat = f"Thin evidence: missing {missing}. Treat this card as a hypothesis."
        cards.append(
            Card(
                p.name,
                badge=p.segment,
                subtitle=f"{p.size:,} customers · {p.share:.0%} of the base",
                body=p.summary,
                facts=tuple(_fact(c) for c in p.claims),
                caveat=caveat,
            )
        )
    thin = [p.name for p in doc.personas if not p.sufficient_evidence]
    lead = (
        f"{len(cards)} personas, one per segment; every statement names the table, column and "
        "rows it comes from."
    )
    if thin:
        lead += f" Read {_names(thin)} with care: the evidence is thin."
    if not cards:
        lead = "No personas yet."
    return Section("Personas", lead=lead, blocks=[Cards(tuple(cards))] if cards else [])


def _value(v: float, unit: str) -> str:
    if unit in ("%", "share", "rate", "ratio") and abs(v) <= 1:
        return f"{v:.1%}"
    return f"{format_cell(float(v))} {unit}".strip()


def goals_section(doc: PlanDocument) -> Section:
    """Goals and the KPIs that measure them: baseline → target, due date, owner."""
    kpi_names = {k.id: k.name for k in doc.kpis}
    goals = pd.DataFrame(
        [
            {
                "goal": g.title,
                "owner": g.owner,
                "due": g.due,
                "measured by": ", ".join(kpi_names.get(k, k) for k in g.kpis),
                "description": g.description,
            }
            for g in doc.goals
        ],
        columns=["goal", "owner", "due", "measured by", "description"],
    )
    kpis = pd.DataFrame(
        [
            {
                "KPI": k.name,
                "segment": k.segment or "all",
                "baseline → target": f"{_value(k.baseline, k.unit)} → {_value(k.target, k.unit)}",
                "due": k.due,
                "owner": k.owner,
                "how measured": k.method or "–",
                "baseline source": "; ".join(format_evidence(e) for e in k.evidence) or "–",
            }
            for k in doc.kpis
        ],
        columns=[
            "KPI",
            "segment",
            "baseline → target",
            "due",
            "owner",
            "how measured",
            "baseline source",
        ],
    )
    owners = sorted({g.owner for g in doc.goals} | {k.owner for k in doc.kpis})
    lead = (
        f"{len(doc.goals)} goals measured by {len(doc.kpis)} KPIs, owned by "
        f"{', '.join(owners) or 'nobody yet'}; every baseline comes from the data."
    )
    return Section(
        "Goals and KPIs",
        lead=lead,
        blocks=[Table(goals, caption="Goals"), Table(kpis, caption="Key performance indicators")],
        id="goals",
    )


def timeline_section(doc: PlanDocument) -> Section:
    """The milestones as a Gantt-like chart."""
    frame = pd.DataFrame(
        [m.model_dump() for m in doc.timeline],
        columns=["title", "start", "end", "owner", "goal"],
    )
    if frame.empty:
        return Section("Timeline", lead="No milestones yet.")
    blocks = [
        Figure(timeline_chart(frame), caption="Milestones by owning team."),
        Table(frame.sort_values("start"), caption="Milestones"),
    ]
    first, last = frame["start"].min(), frame["end"].max()
    lead = f"{len(frame)} milestones from {first.isoformat()} to {last.isoformat()}."
    return Section("Timeline", lead=lead, blocks=blocks)


def summary_section(doc: PlanDocument, *, version: int | None = None) -> Section:
    """What the plan is, for whom, when, and who owns it."""
    items = [
        f"Company: {doc.company}; brand: {doc.brand}; currency: {doc.currency}",
        f"Period: {doc.start.isoformat()} to {doc.end.isoformat()}",
    ]
    if version is not None:
        items.append(f"Version {version}")
    owners = pd.DataFrame(list(doc.owners.items()), columns=["role", "owner"])
    blocks: list = [Items(tuple(items))]
    if len(owners):
        blocks.append(Table(owners, caption="Owners"))
    return Section("Summary", lead=doc.summary, blocks=blocks)


def measurement_section(doc: PlanDocument) -> Section | None:
    """The latest measurement run: KPIs against plan, campaign lift, the media budget and the
    recommended changes (None before the first run)."""
    m = doc.measurement
    if m is None:
        return None
    kpis = {k.id: k for k in doc.kpis}
    status = pd.DataFrame(
        [
            {
                "KPI": kpis[a.id].name if a.id in kpis else a.id,
                "owner": kpis[a.id].owner if a.id in kpis else "–",
                "baseline → target": (
                    f"{_value(kpis[a.id].baseline, kpis[a.id].unit)} → "
                    f"{_value(kpis[a.id].target, kpis[a.id].unit)}"
                )
                if a.id in kpis
                else "–",
                "actual": "–"
                if a.actual is None
                else _value(a.actual, kpis[a.id].unit)
                if a.id in kpis
                else format_cell(a.actual),
                "progress": "–" if a.progress is None else f"{a.progress:.0%}",
                "time gone": f"{a.expected:.0%}",
                "status": a.status,
            }
            for a in m.kpis
        ],
        columns=["KPI", "owner", "baseline → target", "actual", "progress", "time gone", "status"],
    )
    blocks: list = [Table(status, caption=f"Plan against actual, data through {m.as_of}")]
    lifts = [
        ln
        for ln in m.lifts
        if ln.conversion_lift is not None and (ln.group == "all" or ln.group not in ln.campaign)
    ]  # a campaign per persona
    if lifts:
        frame = pd.DataFrame(
            [
                {
                    "label": f"{ln.campaign} · {ln.group}",
                    "lift": ln.conversion_lift,
                    "low": ln.conversion_lift_low,
                    "high": ln.conversion_lift_high,
                }
                for ln in lifts
            ]
        )
        blocks.append(Figure(lift_chart(frame), caption="Campaign lift against the holdout."))
    if m.budget:
        frame = pd.DataFrame([b.model_dump() for b in m.budget]).rename(columns={"id": "channel"})
        blocks.append(
            Figure(
                budget_chart(frame[["channel", "current", "recommended"]]),
                caption="Media spend per period, today and recommended.",
            )
        )
    if m.recommendations:
        blocks.append(Items(tuple(f"[{r.owner}] {r.text}" for r in m.recommendations)))
    counts = pd.Series([a.status for a in m.kpis]).value_counts()
    lead = (
        f"Measured on data through {m.as_of}: "
        + ", ".join(f"{n} KPI{'s' if n != 1 else ''} {s}" for s, n in counts.items())
        + f"; {len(m.recommendations)} recommended changes."
    )
    return Section("Measurement: plan against actual", lead=lead, blocks=blocks, id="measurement")


def plan_sections(doc: PlanDocument, *, version: int | None = None) -> list[Section]:
    """Every section of the plan page, in reading order."""
    sections = [
        summary_section(doc, version=version),
        measurement_section(doc),
        targets_section(doc),
        positioning_section(doc),
        personas_section(doc),
        goals_section(doc),
        timeline_section(doc),
    ]
    return [s for s in sections if s is not None]


def plan_html(doc: PlanDocument, *, version: int | None = None) -> str:
    """The plan as one self-contained HTML page.

    Parameters
    ----------
    doc
        The plan.
    version
        Its version number in the plan store, shown under the title.

    Returns
    -------
    str
        HTML with inline CSS and charts; no scripts, no network.
    """
    subtitle = f"{doc.company} · {doc.brand} · {doc.start.isoformat()} to {doc.end.isoformat()}"
    if version is not None:
        subtitle += f" · version {version}"
    return render_page(
        f"Marketing plan: {doc.name}", plan_sections(doc, version=version), subtitle=subtitle
    )
