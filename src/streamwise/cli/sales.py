"""``streamwise sales leads|push``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.markup import escape
from rich.table import Table

from streamwise.cli.common import WorkspaceOpt, console, errors, open_workspace, progress
from streamwise.downstream.sales.export import ranked_frame, write_csv
from streamwise.downstream.sales.handoff import HandOff, hand_off
from streamwise.downstream.sales.push import push_leads
from streamwise.errors import ConfigError

__all__ = ["app", "print_hand_off"]

app = typer.Typer(
    help="The sales hand-off: customers and leads ranked by their propensity to buy, with the "
    "reasons for each rank, as a table, CSV or JSON, or pushed to a CRM by signed webhook.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

SegmentOpt = Annotated[
    Optional[str],  # noqa: UP045 - Typer needs Optional here
    typer.Option(help="Only this segment (a segment name, or a persona's name or first name)."),
]


#: Most rows the table and the JSON show (the CSV holds any number).
_SHOWN = 1000


def _top(top: int) -> int | None:
    if top < 0:
        raise ConfigError("--top must be 0 (everyone) or a positive number")
    return top or None


def print_hand_off(run: HandOff) -> None:
    q = run.buyer_quality
    first, last = q.calibration.iloc[0], q.calibration.iloc[-1]
    console.print(
        f"Hand-off [bold]{run.run_id}[/] as of {run.as_of} (the last order day): P(buy) within "
        f"{run.horizon_days} days for {run.counts['customers']:,} customers and "
        f"{run.counts['leads'] + run.counts['unscored_leads']:,} leads."
    )
    console.print(
        f"  Validated out of time: fitted on who bought after {run.cutoffs[0]}, it ranked "
        f"{q.n:,} customers as of {run.cutoffs[1]} for the next {run.horizon_days} days: AUC "
        f"{q.auc:.3f}, top-decile lift {q.top_decile_lift:.2f}× over a base rate of "
        f"{q.base_rate:.0%}; top decile predicted {first.predicted:.0%}, observed "
        f"{first.observed:.0%}; bottom decile {last.predicted:.1%} vs {last.observed:.1%}."
    )
    if run.lead_quality is not None:
        lq = run.lead_quality
        console.print(f"  Leads: AUC {lq.auc:.3f}, top-decile lift {lq.top_decile_lift:.2f}×.")
    for note in run.notes:
        console.print(f"  [yellow]{escape(note)}[/]")


def _json_row(row: Any) -> dict[str, Any]:
    p = row["p_buy"]
    return {
        "rank": int(row["rank"]), "customer_id": row["customer_id"], "name": row["name"],
        "email": row["email"], "lead": bool(row["is_lead"]),
        "score": None if p != p else float(row["score"]), "p_buy": None if p != p else float(p),
        "segment": row["segment"], "persona": row["persona"],
        "reasons": [r.to_dict() for r in row["reasons"]],
    }  # fmt: skip


@app.command("leads")
@errors
def leads(
    workspace: WorkspaceOpt = Path("."),
    top: Annotated[int, typer.Option(help="How many to show or export (0: everyone).")] = 20,
    segment: SegmentOpt = None,
    csv: Annotated[
        Optional[Path],  # noqa: UP045 - Typer needs Optional here
        typer.Option("--csv", help="Also write the list to this CSV file (streamed)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    horizon: Annotated[int, typer.Option(help="P(buy) within this many days.")] = 90,
    sample: Annotated[int, typer.Option(help="Customers sampled per training date.")] = 200_000,
    refit: Annotated[
        bool, typer.Option(help="Fit and score again even if the data have not changed.")
    ] = False,
) -> None:
    """Rank customers and leads by P(buy) within the horizon: a logistic regression on CLV,
    P(alive), recent e-mail, site and ad engagement and fit with the plan's target segments,
    fitted on the past and validated on a later period; show the top with the reasons for each
    rank (at most 1,000 rows; --csv writes any number). The ranking is saved as the table
    **sales_leads** (for `streamwise sales push`); while the data and settings stay the same,
    the stored ranking is shown again without refitting."""
    limit = _top(top)
    with open_workspace(workspace) as ws:
        with progress(transient=True) as bar:
            bar.add_task("fitting, validating and scoring", total=None)
            run = hand_off(ws, horizon_days=horizon, sample_size=sample, refit=refit)
        if csv is not None:
            n = write_csv(ws, csv, run, top=limit, segment=segment)
        frame = ranked_frame(ws, run, top=min(limit or _SHOWN, _SHOWN), segment=segment)
    if as_json:
        rows = [_json_row(r) for r in frame.to_dict(orient="records")]
        typer.echo(json.dumps({"run": run.to_dict(), "leads": rows}, indent=2, default=str))
        return
    print_hand_off(run)
    table = Table(title="Most likely to buy", title_justify="left")
    for col in ("rank", "name", "P(buy)", "score", "segment", "reasons"):
        table.add_column(col, justify="right" if col in {"rank", "P(buy)", "score"} else "left")
    for row in frame.itertuples(index=False):
        p = "—" if row.p_buy != row.p_buy else f"{row.p_buy:.0%}"
        score = "—" if row.score != row.score else f"{row.score:.0f}"
        who = (row.name or row.customer_id) + (" [lead]" if row.is_lead else "")
        table.add_row(str(row.rank), escape(who), p, score, escape(row.segment or ""),
                      escape("\n".join(str(r) for r in row.reasons)))  # fmt: skip
    console.print(table)
    if csv is not None:
        console.print(f"Wrote {n:,} rows to {escape(str(csv))}.")


@app.command("push")
@errors
def push(
    url: Annotated[str, typer.Argument(help="The CRM's webhook URL (http or https).")],
    workspace: WorkspaceOpt = Path("."),
    secret_env: Annotated[
        str, typer.Option(help="Environment variable holding the shared HMAC secret.")
    ] = "STREAMWISE_CRM_SECRET",  # noqa: S107 - the name of a variable, not a secret
    top: Annotated[int, typer.Option(help="How many to push (0: everyone).")] = 100,
    segment: SegmentOpt = None,
    batch_size: Annotated[int, typer.Option(help="Leads per request.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """POST the latest hand-off (`streamwise sales leads`) to a CRM in signed JSON batches with
    deterministic Idempotency-Keys, journaled in outbox/sales-pushes.jsonl. Run the same command
    again after a failure or a crash: acknowledged batches are never sent again."""
    secret = os.environ.get(secret_env, "")
    if not secret:
        raise ConfigError(
            f"set the environment variable {secret_env} to the CRM's shared webhook secret "
            "(or name another variable with --secret-env)"
        )
    with open_workspace(workspace) as ws:
        report = push_leads(ws, url, secret, top=_top(top), segment=segment,
                            batch_size=batch_size)  # fmt: skip
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        state = "[green]done[/]" if report.done else "[yellow]not finished[/]"
        console.print(
            f"Push {report.push_id} of hand-off {report.run_id} to {escape(report.url)}: {state}; "
            f"{report.batches:,} batch(es), {report.leads:,} lead(s); "
            f"{report.acknowledged_before:,} acknowledged before, {report.sent:,} now."
        )
        for r in report.results:
            if r.status != "sent":
                console.print(
                    f"  [yellow]{escape(r.message_id)}: {r.status}: {escape(r.detail)}[/]"
                )
        if not report.done:
            console.print("  Run the same command again to resume; nothing acknowledged is resent.")
    if not report.done:
        raise typer.Exit(1)
