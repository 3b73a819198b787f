"""What the dashboard's background jobs do (see :mod:`~streamwise.web.pages.jobs`): send a
campaign, import a file, re-run the analyses. Each takes the workspace, the job's arguments and
a :class:`~streamwise.web.pages.jobs.Progress`, and returns the outcome in one sentence (or
raises an error that says what went wrong)."""

from __future__ import annotations

import importlib
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


#: The analyses a re-run does, in order: (what it is, the module and function that runs it;
#: imported when the job runs, so the web server never loads the models).
ANALYSES: tuple[tuple[str, str], ...] = (
    ("customer summaries", "streamwise.upstream.customers.workspace:run_summary"),
    ("RFM segments", "streamwise.upstream.customers.workspace:run_rfm"),
    ("customer lifetime value", "streamwise.upstream.customers.workspace:run_clv"),
    ("behavioural segments", "streamwise.upstream.customers.workspace:run_segments"),
    ("market trends", "streamwise.upstream.trends.workspace:run_trends"),
    ("channel attribution", "streamwise.measure.attribution.workspace:run_attribution"),
)


def _run_step(ws: Any, label: str, target: str) -> str:
    """Run one analysis; its label, with the reason a segmentation gives for its result."""
    module, _, name = target.partition(":")
    result = getattr(importlib.import_module(module), name)(ws)
    reason = getattr(result, "reason", "")
    return f"{label} ({reason})" if isinstance(reason, str) and reason else label


def analyse(ws: Any, args: dict[str, Any], progress: Callable[..., None]) -> str:
    """Re-run the analyses on what the workspace holds now; an analysis whose data is missing
    is skipped and said so (the job fails only when none could run)."""
    _analytics(ws)
    done: list[str] = []
    skipped: list[str] = []
    for i, (label, target) in enumerate(ANALYSES):
        progress(i / len(ANALYSES), f"{label} ({i + 1} of {len(ANALYSES)})", force=True)
        try:
            done.append(_run_step(ws, label, target))
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
