"""``streamwise demo``: the whole loop on the built-in sample business."""

from __future__ import annotations

import importlib.util
import json
import shutil
import time
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from streamwise.cli.ads import print_export
from streamwise.cli.common import console, errors, progress
from streamwise.cli.competitors import print_run as print_competitors
from streamwise.cli.research import print_run
from streamwise.cli.sales import print_hand_off
from streamwise.cli.trends import print_run as print_trends
from streamwise.data.contracts import import_order
from streamwise.data.importer import import_file
from streamwise.data.quarantine import quarantine_summary
from streamwise.data.sample import SampleConfig, generate
from streamwise.data.sample.names import BRAND
from streamwise.data.tables import table_counts
from streamwise.downstream.audiences.ads import export_seed
from streamwise.downstream.campaigns.demo import LocalSmtp, persona_campaigns
from streamwise.downstream.sales import hand_off
from streamwise.downstream.sales.export import write_csv
from streamwise.downstream.tracking.demo import close_the_loop
from streamwise.errors import WorkspaceError
from streamwise.measure.attribution.workspace import run_attribution
from streamwise.measure.feedback import measure_plan
from streamwise.measure.mmm.workspace import run_mmm
from streamwise.plan.build import build_plan
from streamwise.plan.store import save_plan
from streamwise.reports.full import full_report
from streamwise.reports.upstream import write_report
from streamwise.upstream.competitors.workspace import run_competitors
from streamwise.upstream.customers.workspace import run_clv, run_rfm, run_segments, run_summary
from streamwise.upstream.research.workspace import run_research
from streamwise.upstream.trends.workspace import run_trends
from streamwise.workspace import CONFIG_FILE, Workspace

__all__ = ["demo", "print_feedback", "print_loop", "print_measurement", "run_demo"]


def run_demo(
    directory: Path,
    customers: int,
    seed: int,
    *,
    force: bool = False,
    mmm_draws: int = 500,
    measure: bool = True,
) -> dict:
    """Build a demo workspace in ``directory`` and run every stage that exists.

    ``measure=False`` stops after the sales hand-off (no attribution, model or feedback run:
    the plan stays at version 1 and its evidence matches the tables it was built from).
    ``mmm_draws`` are the media mix model's draws (and warm-up steps) per chain; 0, or no
    ``[bayes]`` extra, leaves the model out. Returns a summary: where things are, row counts per
    table, quarantine counts.
    """
    directory = directory.expanduser().resolve()
    if directory.exists() and any(directory.iterdir()):
        is_demo = (directory / CONFIG_FILE).exists() and Workspace.open(directory).settings.demo
        if not (force or is_demo):
            raise WorkspaceError(
                f"{directory} holds files and is not a demo workspace; choose another folder "
                "or pass --force to replace it"
            )
        shutil.rmtree(directory)
    cfg = SampleConfig(n_customers=customers, seed=seed)
    sample_dir = directory / "sample"
    started = time.perf_counter()
    with progress() as bar:
        task = bar.add_task("generating the sample business", total=customers)
        biz = generate(
            config=cfg,
            out_dir=sample_dir,
            fmt="csv",
            progress=lambda n: bar.update(task, completed=n),
        )
        bar.update(task, completed=customers)
        ws = Workspace.init(
            directory, company=cfg.company, brand=BRAND, currency=cfg.currency, demo=True
        )
        with ws:
            con = ws.duckdb()
            kinds = [k for k in import_order() if k in (biz.paths or {})]
            imp = bar.add_task("importing", total=len(kinds))
            results = []
            for kind in kinds:
                for path in biz.files(kind):
                    bar.update(imp, description=f"importing {kind}")
                    results.append(
                        import_file(
                            con,
                            kind,
                            path,
                            on_step=lambda s, k=kind: bar.update(imp, description=f"{k}: {s}"),
                        )
                    )
                bar.advance(imp)
            bar.update(imp, description="imported")
            counts = table_counts(con)
            quarantined = quarantine_summary(con)
            stage = bar.add_task("customer analytics", total=4)
            bar.update(stage, description="customers: summaries")
            run_summary(ws)
            bar.update(stage, advance=1, description="customers: RFM segments")
            segments = run_rfm(ws)
            bar.update(stage, advance=1, description="customers: BG/NBD + Gamma-Gamma CLV")
            clv = run_clv(ws)
            bar.update(stage, advance=1, description="customers: behavioural segments")
            clusters = run_segments(ws)
            bar.update(stage, advance=1, description="customer analytics")
            research = bar.add_task("market research", total=None)
            survey = run_research(
                ws, sample_dir / "questionnaire.yaml", nps_by_question="segment_self"
            )
            bar.update(research, total=1, completed=1)
            market = run_competitors(
                ws, BRAND, questionnaire=sample_dir / "questionnaire.yaml",
                price_attribute="price_tent",
            )  # fmt: skip
            upstream = bar.add_task("market trends, personas and the plan", total=2)
            trends = run_trends(ws)
            bar.advance(upstream)
            plan = build_plan(ws, sample_dir / "questionnaire.yaml", seed=seed)
            saved = save_plan(ws, plan.document, author="streamwise demo", note="built by the demo")
            bar.advance(upstream)
            sending = bar.add_task("campaigns to the target personas (local SMTP)", total=None)
            with LocalSmtp() as smtp:
                campaigns = persona_campaigns(
                    ws, plan.document, smtp.port, plan_version_id=saved.id, seed=seed
                )
                delivered = len(smtp.received)
            bar.update(sending, total=1, completed=1)
            reacting = bar.add_task("recipients react (tracking server on loopback)", total=None)
            loop = close_the_loop(ws, smtp.received, [c.campaign for c in campaigns], seed=seed)
            _save_truth(sample_dir / "ground_truth.json", loop.truth)
            bar.update(reacting, total=1, completed=1)
            handing = bar.add_task("sales hand-off and a lookalike seed", total=None)
            sales = hand_off(ws)
            leads_csv = directory / "sales-leads.csv"
            write_csv(ws, leads_csv, sales, top=500)
            (directory / "ads").mkdir(exist_ok=True)
            seed_list = export_seed(
                ws, "meta", directory / "ads" / "meta-lookalike-seed.csv", share=0.1
            )
            bar.update(handing, total=1, completed=1)
            attribution = media = feedback = None
            if measure:
                measuring = bar.add_task("attribution and the media mix model", total=None)
                attribution = run_attribution(ws)
                if mmm_draws and _has_bayes():
                    media = run_mmm(ws, draws=mmm_draws, tune=mmm_draws, chains=2, seed=seed)
                bar.update(measuring, description="measurement fed back into the plan")
                feedback = measure_plan(
                    ws, sample_dir / "questionnaire.yaml", author="streamwise demo"
                )
                bar.update(measuring, total=1, completed=1)
            reporting = bar.add_task("the report (upstream, plan and results)", total=None)
            report = write_report(full_report(ws), directory / "report.html")
            bar.update(reporting, total=1, completed=1)
    return {
        "workspace": directory,
        "sample": sample_dir,
        "truth": sample_dir / "ground_truth.json",
        "questionnaire": sample_dir / "questionnaire.yaml",
        "results": results,
        "counts": counts,
        "quarantine": quarantined,
        "bad_rows_planted": len(biz.truth.bad_rows),
        "segments": segments["customers"].sort_values(ascending=False),
        "clv": clv,
        "clusters": clusters,
        "research": survey,
        "competitors": market,
        "trends": trends,
        "plan": plan,
        "plan_version": saved,
        "report": report,
        "campaigns": campaigns,
        "delivered": delivered,
        "loop": loop,
        "sales": sales,
        "leads_csv": leads_csv,
        "seed": seed_list,
        "attribution": attribution,
        "media": media,
        "feedback": feedback,
        "currency": cfg.currency,
        "seconds": time.perf_counter() - started,
    }


def _save_truth(path: Path, truth: Any) -> None:
    """Add the planted e-mail reactions to the sample's ground truth file."""
    data = json.loads(path.read_text())
    data["email_reactions"] = truth.to_dict()
    path.write_text(json.dumps(data, indent=2))


@errors
def demo(
    directory: Annotated[Path, typer.Argument(help="Folder for the demo workspace.")] = Path(
        "streamwise-demo"
    ),
    customers: Annotated[int, typer.Option(help="Customers in the sample business.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Seed; the same seed gives the same business.")] = 42,
    force: Annotated[bool, typer.Option(help="Replace DIRECTORY if it holds other files.")] = False,
    mmm_draws: Annotated[
        int, typer.Option(min=0, help="Media mix model draws per chain (0: leave it out).")
    ] = 500,
) -> None:
    """Run the whole loop on the sample business (Northwind Outfitters, an outdoor-gear
    retailer): generate its data, create a workspace, import every input kind (invalid rows go to
    the quarantine) and run every stage that exists so far."""
    summary = run_demo(directory, customers, seed, force=force, mmm_draws=mmm_draws)
    counts = summary["counts"]
    table = Table(title="Sample business imported", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("quarantined", justify="right")
    per_kind = summary["quarantine"].groupby("kind")["rows"].sum().to_dict()
    for kind, n in counts.items():
        if kind.startswith("_"):
            continue
        q = per_kind.get(kind, 0)
        table.add_row(kind, f"{n:,}", f"[yellow]{q:,}[/]" if q else "0")
    console.print(table)
    clv = summary["clv"]
    top = ", ".join(f"{name} {n:,}" for name, n in summary["segments"].head(4).items())
    params = ", ".join(f"{k} {v:.3g}" for k, v in clv.purchase_model.params_.items())
    console.print(
        f"Customers: RFM segments {top}, ...; BG/NBD {params}; mean P(alive) "
        f"{clv.totals['mean_probability_alive']:.2f}; 52-week CLV "
        f"{clv.totals['total_clv']:,.0f} {summary['currency']} in total "
        "(tables customer_summary, customer_rfm, customer_clv)."
    )
    console.print(f"Behavioural segments: {summary['clusters'].reason} (table customer_segments).")
    print_run(summary["research"], summary["currency"])
    print_competitors(summary["competitors"])
    print_trends(summary["trends"])
    doc = summary["plan"].document
    for target in doc.strategy.targets:
        if target.decision == "target":
            reasons = "; ".join(r.text.rstrip(".") for r in target.reasons)
            console.print(f"[bold]Target {escape(target.segment)}[/]: {escape(reasons)}")
    for p in doc.strategy.positioning:
        console.print(f"  {escape(p.statement)}")
    for c in summary["campaigns"]:
        parts = ", ".join(f"{k} {v:,}" for k, v in sorted(c.counts.items()))
        console.print(f"Campaign [bold]{escape(c.campaign)}[/]: {c.state} ({parts}).")
    console.print(
        f"The demo's SMTP server accepted {summary['delivered']:,} messages "
        "(see them with streamwise campaign status)."
    )
    print_loop(summary["loop"])
    print_hand_off(summary["sales"])
    console.print(f"  The top 500 with their reasons: {summary['leads_csv']}.")
    console.print("Lookalike seed (top 10 % by CLV, hashed, consent respected):")
    print_export(summary["seed"])
    print_measurement(summary)
    print_feedback(summary["feedback"])
    ws = summary["workspace"]
    console.print(
        f"[green]Done in {summary['seconds']:.0f} s.[/] The demo workspace is [bold]{ws}[/]:\n"
        f"  data files        {summary['sample']}\n"
        f"  planted truth     {summary['truth']}\n"
        f"  questionnaire     {summary['questionnaire']}\n"
        f"  analytics         {ws / 'analytics.duckdb'}\n"
        f"  operational       {ws / 'streamwise.sqlite'}\n"
        f"  marketing plan    version {summary['plan_version'].version}, measured as version "
        f"{summary['feedback'].saved.version} (streamwise plan diff -w {ws})\n"
        f"  report            {summary['report']} (streamwise report -w {ws} remakes it)\n"
        f"{summary['bad_rows_planted']:,} invalid rows were planted on purpose; see them with "
        f"[bold]streamwise quarantine -w {ws}[/]."
    )


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}" if x in {0.0, 1.0} else f"{x:.1%}"


def print_loop(loop: Any) -> None:
    """What the recipients did, as the tracking server measured it, against the planted rates."""
    truth = loop.truth
    table = Table(title="E-mail results, measured by the tracking server", title_justify="left")
    for col in ("campaign", "arm", "sent", "opens (planted)", "machine",
                "clicks/open (planted)", "unsubs", "bought"):  # fmt: skip
        table.add_column(col, justify="left" if col in {"campaign", "arm"} else "right")
    for res in loop.results:
        for arm in res.arms:
            opened = f"{_pct(arm.open_rate)} ({_pct(truth.open_rate.get(arm.arm))})"
            cto = f"{_pct(arm.click_to_open_rate)} ({_pct(truth.click_given_open.get(arm.arm))})"
            table.add_row(
                escape(res.campaign.removeprefix("demo: ").split(" (")[0]), arm.arm,
                f"{arm.sent:,}", "—" if arm.holdout else opened,
                f"{arm.machine_opens + arm.machine_clicks:,}", "—" if arm.holdout else cto,
                f"{arm.unsubscribes:,}", _pct(arm.arm_conversion_rate),
            )  # fmt: skip
    console.print(table)
    machine = loop.planned.get("open machine", 0) + loop.planned.get("click machine", 0)
    flagged = sum(a.machine_opens + a.machine_clicks for r in loop.results for a in r.arms)
    c = loop.compaction
    console.print(
        f"Machine requests (privacy proxies, link scanners): {machine:,} sent, {flagged:,} "
        f"flagged and left out of every rate. Compacted {c.events_appended:,} event(s) and "
        f"{c.engagements_appended:,} engagement row(s) into the analytics database "
        f"({c.touchpoints_appended:,} e-mail touchpoints)."
    )


def print_feedback(run: Any) -> None:
    """The measurement run: campaign lift against the holdouts, KPI status, recommendations."""
    lifts = run.lifts[run.lifts["group"] == "all"]
    for r in lifts.itertuples(index=False):
        lo, hi = r.conversion_lift_low, r.conversion_lift_high
        if pd.isna(r.conversion_lift):
            console.print(f"Lift of [bold]{escape(str(r.campaign))}[/]: too few recipients.")
            continue
        console.print(
            f"Lift of [bold]{escape(str(r.campaign))}[/] against its holdout: "
            f"{r.conversion_lift:+.2%} conversions per send (95% CI {lo:+.2%} to {hi:+.2%}), "
            f"{r.incremental_conversions:,.1f} incremental conversions."
        )
    statuses = run.kpi_frame()["status"].value_counts().to_dict()
    console.print(
        "Plan against actual: "
        + ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
        + f"; {len(run.measurement.recommendations)} recommended changes saved as plan version "
        f"{run.saved.version} ({len(run.changes)} changes)."
    )
    for rec in run.measurement.recommendations[:6]:
        console.print(f"  • [{rec.owner}] {escape(rec.text)}", highlight=False)


def _has_bayes() -> bool:
    """Whether the [bayes] extra (NumPyro, JAX) is installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("numpyro", "jax"))


def print_measurement(summary: dict) -> None:
    """Attribution and the media mix model, beside the planted truth."""
    truth = json.loads(Path(summary["truth"]).read_text())["commerce"]
    run = summary["attribution"]
    effects = run.table.dropna(subset=["removal_effect"]).set_index("channel")["removal_effect"]
    planted = truth["journeys"]["effects"]
    console.print(
        f"Attribution of {run.journeys:,} journeys: Markov removal effects "
        + ", ".join(f"{ch} {v:.2f}" for ch, v in effects.sort_values(ascending=False).items())
        + "; planted per-touch effects "
        + ", ".join(
            f"{ch} {planted[ch]:.2f}"
            for ch in effects.sort_values(ascending=False).index
            if ch in planted
        )
        + " (table channel_attribution)."
    )
    media = summary["media"]
    if media is None:
        console.print("Media mix model left out (install streamwise[bayes] to fit it).")
        return
    roi = {c["channel"]: c["roi"] for c in truth["media"]["channels"]}
    table = Table(
        title="Media mix model: ROI per channel (90% interval) against the planted ROI",
        title_justify="left",
    )
    for col in ("channel", "ROI", "interval", "planted", "marginal ROI"):
        table.add_column(col, justify="left" if col == "channel" else "right")
    for r in media.table.itertuples(index=False):
        table.add_row(
            escape(str(r.channel)),
            f"{r.roi:.2f}",
            f"{r.roi_low:.2f} … {r.roi_high:.2f}",
            f"{roi.get(r.channel, float('nan')):.2f}",
            f"{r.marginal_roi:.2f}",
        )
    console.print(table)
