"""``streamwise research run``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from streamwise.cli.common import WorkspaceOpt, console, errors, open_workspace, progress
from streamwise.upstream.research.workspace import ResearchRun, run_research

__all__ = ["app", "print_run"]

app = typer.Typer(
    help="Market research: screen survey respondents, NPS, Van Westendorp and Gabor-Granger.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def print_run(run: ResearchRun, currency: str = "") -> None:
    """The findings of a run, as people read them."""
    console.print(f"Survey {run.survey.questionnaire.survey_id}: {run.screening.summary()}.")
    if run.nps is not None:
        table = Table(title="Net Promoter Score (95% interval)", title_justify="left")
        for col in ("group", "NPS", "interval", "answers"):
            table.add_column(col, justify="left" if col == "group" else "right")
        for row in run.nps.itertuples():
            table.add_row(str(row.group), f"{row.score:+.0f}",
                          f"{row.lower:+.0f} to {row.upper:+.0f}", f"{row.n:,}")  # fmt: skip
        console.print(table)
    if run.van_westendorp is not None:
        vw = run.van_westendorp
        line = (
            f"Van Westendorp ({vw.n:,} respondents): acceptable {vw.pmc:,.0f} to {vw.pme:,.0f} "
            f"{currency}, optimal {vw.opp:,.0f}, indifference {vw.ipp:,.0f}"
        )
        if run.nms is not None:
            line += (
                f"; Newton-Miller-Smith: most trial at {run.nms.trial_price:,.0f}, "
                f"most revenue at {run.nms.revenue_price:,.0f}"
            )
        console.print(line + ".")
    if run.gabor_granger is not None:
        gg = run.gabor_granger
        shares = ", ".join(f"{p:,.0f}: {s:.0%}" for p, s in gg.demand["share"].items())
        console.print(
            f"Gabor-Granger: would buy at {shares}; revenue peaks at {gg.revenue_price:,.0f}."
        )
    if run.maxdiff is not None:
        top = run.maxdiff.to_frame().sort_values("share", ascending=False).head(5)
        items = ", ".join(f"{item} {share:.0%}" for item, share in top["share"].items())
        console.print(f"MaxDiff, most important: {items} (share of preference).")
    if run.conjoint is not None:
        imp = run.conjoint.importances()["importance"].sort_values(ascending=False)
        parts = ", ".join(f"{name} {share:.0%}" for name, share in imp.items())
        console.print(f"Conjoint (multinomial logit): attribute importance {parts}.")
    if run.themes is not None:
        top = ", ".join(
            f"{t.label} ({t.share:.0%}, sentiment {t.sentiment:+.2f})" for t in run.themes.themes
        )
        console.print(f"Open answers, themes: {top}.")
    if run.kano is not None:
        frame = run.kano.to_frame()
        kinds = ", ".join(f"{feature}: {row.category}" for feature, row in frame.iterrows())
        console.print(f"Kano: {kinds}.")


@app.command("run")
@errors
def run_cmd(
    questionnaire: Annotated[
        Path, typer.Option("--questionnaire", "-q", help="The survey's questionnaire (YAML).")
    ],
    workspace: WorkspaceOpt = Path("."),
    nps_by: Annotated[
        Optional[str],  # noqa: UP045 - Typer needs Optional here
        typer.Option(help="Question whose answer groups the NPS (e.g. a segment question)."),
    ] = None,
) -> None:
    """Screen the respondents (speeders, straight-liners, duplicates, inconsistent answers) and
    analyse those kept: NPS, Van Westendorp with Newton-Miller-Smith, Gabor-Granger, MaxDiff,
    Kano, choice-based conjoint and the themes of open answers. Saved as the tables
    **research_screening**, **research_nps**, **research_price_points**,
    **research_price_curves**, **research_gabor_granger**, **research_maxdiff**,
    **research_kano**, **research_conjoint** and **research_themes**."""
    with open_workspace(workspace) as ws, progress(transient=True) as bar:
        bar.add_task("analysing the survey", total=None)
        run = run_research(ws, questionnaire, nps_by_question=nps_by)
    print_run(run)
    console.print("Saved as tables research_screening, research_nps, research_price_points, "
                  "research_price_curves, research_gabor_granger, research_maxdiff, "
                  "research_kano, research_conjoint and research_themes.")  # fmt: skip
