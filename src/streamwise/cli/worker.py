"""``streamwise worker``: advance journeys (read events, run due steps, deliver)."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from streamwise.cli.common import WorkspaceOpt, console, errors, open_workspace, stderr
from streamwise.downstream.journeys.runner import Totals, Worker

__all__ = ["worker"]


def _line(t: Totals, started: float) -> str:
    rate = t.steps / max(time.perf_counter() - started, 1e-9)
    return (f"{t.steps:,} steps ({rate:,.0f}/s) · {t.entered:,} entered · {t.exited:,} exited · "
            f"{t.ended:,} finished · {t.queued:,} queued · {t.pushed:,} delivered"
            + (f" · [red]{t.failed:,} failed[/]" if t.failed else ""))  # fmt: skip


@errors
def worker(
    workspace: WorkspaceOpt = Path("."),
    once: Annotated[
        bool, typer.Option("--once", help="Do what is due now, then exit (e.g. from cron).")
    ] = False,
    poll: Annotated[
        float, typer.Option(help="Seconds to sleep when there is nothing to do.", min=0.01)
    ] = 1.0,
    batch: Annotated[
        int, typer.Option(help="Due steps claimed per transaction.", min=1, max=100_000)
    ] = 1000,
    policy: Annotated[
        str,
        typer.Option(help="For messages a crash left in flight: resend (same Message-ID) or skip."),
    ] = "resend",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the totals as JSON when it stops.")
    ] = False,
) -> None:
    """Advance journeys: read new events from the tracking server's tables, evaluate state
    triggers, run the steps that are due (in batches, each step's effect and the move to the
    next step in one transaction) and deliver queued messages through the send ledger. Stops
    cleanly on Ctrl-C or SIGTERM after the current batch. Several workers may share a
    PostgreSQL database; run one on SQLite. See docs/journeys.md for the guarantees."""
    if policy not in ("resend", "skip"):
        raise typer.BadParameter("--policy is resend or skip")
    with open_workspace(workspace) as ws:
        w = Worker(ws, batch=batch, policy=policy)  # type: ignore[arg-type]
        started = time.perf_counter()
        previous: dict[int, Any] = {}

        def stop(signum: int, _frame: Any) -> None:
            previous.setdefault(signum, None)
            w.stop()

        handlers = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
        engine = w.engine.dialect.name
        stderr.print(f"Worker started (pid {os.getpid()}, {engine}); Ctrl-C or SIGTERM stops it "
                     "after the current batch.", highlight=False)  # fmt: skip
        try:
            with w:
                if once:
                    with stderr.status("advancing journeys…"):
                        totals = w.run_once()
                else:
                    with stderr.status("worker started; waiting for work…") as status:

                        def show(_: Totals) -> None:
                            status.update(_line(w.totals, started))

                        totals = w.run(poll=poll, on_round=show)
        finally:
            for s, h in handlers.items():
                signal.signal(s, h)
    if as_json:
        console.print_json(json.dumps(totals.to_dict()))
    else:
        how = "stopped" if previous else "done"
        console.print(f"Worker {how}: {_line(totals, started)}.", highlight=False)
