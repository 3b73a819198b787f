"""``streamwise personas`` and ``streamwise plan build``."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from streamwise.cli.common import WorkspaceOpt, console, errors, open_workspace, progress
from streamwise.errors import ConfigError
from streamwise.plan.build import build_plan
from streamwise.plan.document import PersonaCard
from streamwise.plan.personas import build_personas
from streamwise.plan.profiles import build_profiles
from streamwise.plan.store import save_plan
from streamwise.plan.strategy import DEFAULT_WEIGHTS
from streamwise.reports.upstream import upstream_report, write_report

__all__ = ["build", "parse_weights", "personas", "print_personas"]

QuestionnaireOpt = Annotated[
    Path, typer.Option("--questionnaire", "-q", help="The survey's questionnaire (YAML).")
]
SegmentQuestionOpt = Annotated[
    str, typer.Option(help="Question in which respondents name their segment.")
]


def parse_weights(items: list[str]) -> dict[str, float] | None:
    """``["size=0.3", "value=0.4"]`` → ``{"size": 0.3, "value": 0.4}``."""
    if not items:
        return None
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise ConfigError(f"--weight {item!r}: write CRITERION=NUMBER, e.g. --weight value=0.4")
    return out


def print_personas(cards: tuple[PersonaCard, ...]) -> None:
    """Each card with its claims; the number behind each claim in grey."""
    for card in cards:
        flag = "" if card.sufficient_evidence else " [yellow](too little evidence)[/]"
        console.print(f"\n[bold]{escape(card.name)}[/] - {card.share:.0%}{flag}")
        for claim in card.claims:
            sources = "; ".join(
                f"{e.table}[{', '.join(f'{k}={v}' for k, v in e.key.items())}]"
                for e in claim.evidence
            )
            console.print(f"  • {escape(claim.text)} [dim]{escape(sources)}[/]")


@errors
def personas(
    questionnaire: QuestionnaireOpt,
    workspace: WorkspaceOpt = Path("."),
    segment_question: SegmentQuestionOpt = "segment_self",
    seed: Annotated[int, typer.Option(help="Chooses the personas' given names.")] = 0,
) -> None:
    """One persona card per segment named in the survey, built from its profile (size, CLV,
    categories), research (needs, price range, NPS) and touchpoints (channels, best e-mail
    hour). Every statement names the row of **segment_profiles** it came from."""
    with open_workspace(workspace) as ws, progress(transient=True) as bar:
        bar.add_task("profiling segments", total=None)
        profiles = build_profiles(
            ws, questionnaire, brand=ws.settings.brand, segment_question=segment_question
        )
        cards = build_personas(profiles, currency=ws.settings.currency, seed=seed)
    print_personas(cards)


@errors
def build(
    questionnaire: QuestionnaireOpt,
    workspace: WorkspaceOpt = Path("."),
    name: Annotated[str, typer.Option(help="Plan name (a new name starts a new plan).")] = (
        "Marketing plan"
    ),
    weight: Annotated[
        Optional[list[str]],  # noqa: UP045 - Typer needs Optional here
        typer.Option(
            help="Criterion weight, e.g. --weight value=0.4 (size, value, growth, competition, "
            "fit); repeat it. Unnamed criteria keep their default weight; all are then rescaled "
            "to sum to one."
        ),
    ] = None,
    targets: Annotated[int, typer.Option(help="How many segments to target.")] = 2,
    segment_question: SegmentQuestionOpt = "segment_self",
    seed: Annotated[int, typer.Option(help="Chooses the personas' given names.")] = 0,
    author: Annotated[str, typer.Option(help="Recorded with the version.")] = "",
    note: Annotated[str, typer.Option(help="Why this version (recorded with it).")] = "",
    report: Annotated[
        Optional[Path],  # noqa: UP045 - Typer needs Optional here
        typer.Option(help="Also write the upstream report (HTML, charts included) here."),
    ] = None,
) -> None:
    """Build the marketing plan from the workspace (segment profiles, personas, attractiveness,
    targets, positioning, goals, KPIs, timeline) and save it as a new version. Run the customer
    analytics, `research run`, `competitors` and `trends` first for a complete plan."""
    given = parse_weights(weight or [])
    weights = {**DEFAULT_WEIGHTS, **given} if given else None
    with open_workspace(workspace) as ws, progress(transient=True) as bar:
        bar.add_task("building the plan", total=None)
        result = build_plan(ws, questionnaire, name=name, weights=weights, n_targets=targets,
                            segment_question=segment_question, seed=seed)  # fmt: skip
        info = save_plan(ws, result.document, author=author or getpass.getuser(), note=note)
        if report is not None:
            write_report(upstream_report(ws, plan=result.document), report)
    doc = result.document
    table = Table(title="Segment attractiveness", title_justify="left")
    for col in ("rank", "segment", "decision", *doc.strategy.weights, "total"):
        table.add_column(col, justify="left" if col in ("segment", "decision") else "right")
    decisions = {t.segment: t.decision for t in doc.strategy.targets}
    for s in doc.strategy.scores:
        cells = [f"{s.scores[c]:.2f}" for c in doc.strategy.weights] + [f"{s.total:.3f}"]
        table.add_row(str(s.rank), escape(s.segment), decisions[s.segment], *cells)
    table.add_row("", "weight", "", *(f"{w:.2f}" for w in doc.strategy.weights.values()), "")
    console.print(table)
    sens = Table(title="How far each weight can move before the targets change",
                 title_justify="left")  # fmt: skip
    for col in ("criterion", "weight", "stable from", "to", "below that", "above that"):
        sens.add_column(col)
    for row in result.sensitivity.itertuples():
        limits = (f"{row.weight:.2f}", f"{row.stable_from:.3f}", f"{row.stable_to:.3f}")
        sens.add_row(row.criterion, *limits, escape(row.below or "-"), escape(row.above or "-"))
    console.print(sens)
    for p in doc.strategy.positioning:
        console.print(f"[bold]{escape(p.segment)}:[/] {escape(p.statement)}")
    console.print(
        f"[green]Saved {escape(info.name)} version {info.version}.[/] See it with "
        f"[bold]streamwise plan show[/], export it with [bold]streamwise plan export[/]."
    )
