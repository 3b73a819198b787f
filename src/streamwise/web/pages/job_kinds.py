"""What the dashboard's background jobs do (see :mod:`~streamwise.web.pages.jobs`): send a
campaign, import a file, re-run the analyses. Each takes the workspace, the job's arguments and
a :class:`~streamwise.web.pages.jobs.Progress`, and returns the outcome in one sentence (or
raises an error that says what went wrong)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamwise.errors import DataError, StreamwiseError

__all__ = ["ANALYSES", "KINDS", "analyse", "import_file", "send"]

#: How long a job waits for the analytics database while another process holds it for writing.
LOCK_WAIT_SECONDS = 120.0


def _analytics(ws: Any, wait: float = LOCK_WAIT_SECONDS) -> Any:
    """The workspace's DuckDB connection, waiting while another process (a page's read, the
    command line) holds the file."""
    import duckdb

    deadline = time.monotonic() + wait
    while True:
        try:
            return ws.duckdb()
        except duckdb.IOException as exc:  # "Could not set lock on file"
            if time.monotonic() > deadline:
                raise DataError(
                    f"the analytics database {ws.analytics_path} stayed busy for {wait:.0f} s "
                    f"({exc}); stop what holds it and start the job again"
                ) from None
            time.sleep(0.5)


def _ledger_line(c: dict[str, int]) -> str:
    parts = [f"{c.get(k, 0):,} {k.replace('_', ' ')}"
             for k in ("sent", "failed", "bounced", "deferred", "unknown", "held_out")
             if c.get(k)]  # fmt: skip
    return ", ".join(parts) or "nobody to send to"


def send(ws: Any, args: dict[str, Any], progress: Callable[..., None]) -> str:
    """Send campaign ``args["campaign"]`` (see
    :func:`~streamwise.downstream.campaigns.service.run_send`); progress is the share of its
    recipients settled."""
    from streamwise.downstream.campaigns.service import run_send

    name = str(args["campaign"])
    progress(0.0, "finding the audience", force=True)
    _analytics(ws)

    def on_progress(c: dict[str, int]) -> None:
        total = sum(v for k, v in c.items() if k != "held_out")
        waiting = c.get("pending", 0) + c.get("sending", 0)
        progress((total - waiting) / total if total else 1.0,
                 f"{c.get('sent', 0):,} of {total:,} sent")  # fmt: skip

    report = run_send(ws, name, on_progress=on_progress)
    line = f"{report.state}: {_ledger_line(report.counts)}"
    if report.note:
        line += f" ({report.note})"
    waiting = report.counts.get("pending", 0)
    if report.state == "sending" and waiting:
        line += (f"; {waiting:,} wait for their send window, and `streamwise campaign run-due` "
                 "sends them then")  # fmt: skip
    return line


def import_file(ws: Any, args: dict[str, Any], progress: Callable[..., None]) -> str:
    """Import the file ``args["path"]`` as ``args["kind"]`` (``args["name"]``: the name the user
    gave it); invalid rows go to the quarantine with their reasons."""
    from streamwise.data.importer import import_files

    kind, path = str(args["kind"]), Path(args["path"])
    name = str(args.get("name") or path.name)
    con = _analytics(ws)
    progress(0.05, f"{name}: opening", force=True)
    stages = {"reading": 0.2, "checking": 0.45, "quarantining": 0.65, "merging": 0.85}

    def on_step(_path: str, stage: str) -> None:
        progress(next((v for k, v in stages.items() if k in stage), 0.5), f"{name}: {stage}")

    (result,) = import_files(con, kind, [path], on_step=on_step)
    if isinstance(result, DataError):
        raise DataError(str(result).replace(str(path), name))
    if result.rows_read == 0:
        raise DataError(f"{name}: has no data rows, only a header; nothing was imported")
    line = (f"{name}: {result.rows_read:,} rows read, {result.landed:,} landed "
            f"({result.inserted:,} new, {result.updated:,} updated)")  # fmt: skip
    if result.quarantined:
        line += f", {result.quarantined:,} quarantined (see their reasons on the Data page)"
    if result.landed == 0:
        raise DataError(line + "; none of its rows could be used: fix the file and import again")
    return line


def _step_customers(ws: Any) -> str:
    from streamwise.upstream.customers.workspace import run_summary

    run_summary(ws)
    return "customer summaries"


def _step_rfm(ws: Any) -> str:
    from streamwise.upstream.customers.workspace import run_rfm

    run_rfm(ws)
    return "RFM segments"


def _step_clv(ws: Any) -> str:
    from streamwise.upstream.customers.workspace import run_clv

    run_clv(ws)
    return "customer lifetime value"


def _step_segments(ws: Any) -> str:
    from streamwise.upstream.customers.workspace import run_segments

    result = run_segments(ws)
    return f"behavioural segments ({getattr(result, 'reason', '')})".replace(" ()", "")


def _step_trends(ws: Any) -> str:
    from streamwise.upstream.trends.workspace import run_trends

    run_trends(ws)
    return "market trends"


def _step_attribution(ws: Any) -> str:
    from streamwise.measure.attribution.workspace import run_attribution

    run_attribution(ws)
    return "channel attribution"


#: The analyses a re-run does, in order: (what it is, the step).
ANALYSES: tuple[tuple[str, Callable[[Any], str]], ...] = (
    ("customer summaries", _step_customers),
    ("RFM segments", _step_rfm),
    ("customer lifetime value", _step_clv),
    ("behavioural segments", _step_segments),
    ("market trends", _step_trends),
    ("channel attribution", _step_attribution),
)


def analyse(ws: Any, args: dict[str, Any], progress: Callable[..., None]) -> str:
    """Re-run the analyses on what the workspace holds now; an analysis whose data is missing
    is skipped and said so (the job fails only when none could run)."""
    _analytics(ws)
    done: list[str] = []
    skipped: list[str] = []
    for i, (label, step) in enumerate(ANALYSES):
        progress(i / len(ANALYSES), f"{label} ({i + 1} of {len(ANALYSES)})", force=True)
        try:
            done.append(step(ws))
        except (StreamwiseError, LookupError, ValueError) as exc:
            skipped.append(f"{label} ({exc})")
    if not done:
        raise DataError("no analysis could run: " + "; ".join(skipped))
    line = f"re-ran {len(done)} of {len(ANALYSES)} analyses: {', '.join(done)}"
    if skipped:
        line += "; skipped " + "; ".join(skipped)
    return line


#: Job kind → the work it does.
KINDS: dict[str, Callable[[Any, dict[str, Any], Callable[..., None]], str]] = {
    "send": send,
    "import": import_file,
    "analyse": analyse,
}
