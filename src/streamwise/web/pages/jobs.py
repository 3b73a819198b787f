"""Long work started from the dashboard (a campaign's send, an import, re-running the analyses)
runs in a process of its own, never in the web server's, and reports its progress to the
``jobs`` table, which the pages read.

Why a process: a send runs for minutes to hours and an analysis holds the analytics database for
writing; a web worker that is restarted, scaled or killed for a slow request must not be the
thing doing that, and a page must never wait for it. The job's process is started in its own
session (``start_new_session``), so stopping the web server does not stop it; its output goes to
``logs/job-<id>.log`` in the workspace.

What a job guarantees is what the work it runs guarantees: a send keeps the campaign's ledger
(a crash loses nothing and resends at most one batch, with the same Message-IDs, when it is
resumed) and holds the campaign's sender lease, so two jobs never send the same campaign at
once; an import lands valid rows and quarantines the rest in one transaction per file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update

from streamwise.store.db import session_factory
from streamwise.store.models import Job

__all__ = [
    "ACTIVE",
    "JobView",
    "Progress",
    "active_job",
    "job_view",
    "recent_jobs",
    "run_job",
    "start_job",
]

#: The states of a job that has not finished.
ACTIVE = ("queued", "running")

#: The processes this web worker started, by process id (polled, so finished ones are reaped).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}
_CHILDREN_LOCK = threading.Lock()


@dataclass(frozen=True)
class JobView:
    """A job as a page shows it."""

    id: int
    kind: str
    target: str
    actor: str
    status: str  # queued, running, done, failed
    progress: float  # 0..1
    message: str
    started_at: datetime
    finished_at: datetime | None

    @property
    def active(self) -> bool:
        """Whether it is still queued or running."""
        return self.status in ACTIVE

    def as_dict(self) -> dict[str, Any]:
        """The job as JSON for the progress widget."""
        return {
            "id": self.id,
            "kind": self.kind,
            "target": self.target,
            "status": self.status,
            "progress": round(self.progress, 4),
            "message": self.message,
            "active": self.active,
        }


def _view(job: Job) -> JobView:
    return JobView(int(job.id), job.kind, job.target, job.actor, job.status,
                   float(job.progress), job.message, job.started_at, job.finished_at)  # fmt: skip


def _alive(pid: int | None) -> bool:
    """Whether the job's process still runs (a child of this worker is reaped as it is polled)."""
    if pid is None:
        return False
    with _CHILDREN_LOCK:
        child = _CHILDREN.get(pid)
        if child is not None:
            if child.poll() is None:
                return True
            del _CHILDREN[pid]
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process by that number: it exists
    return True


def _settle(engine: Engine, job: Job) -> Job:
    """Mark a job whose process died without saying so as failed (and say where to look)."""
    if job.status not in ACTIVE or _alive(job.pid):
        return job
    if job.pid is None and (datetime.now(UTC) - _aware(job.started_at)).total_seconds() < 30:
        return job  # being started
    message = (
        "the job's process stopped without finishing (killed, or the machine restarted); "
        f"see logs/job-{job.id}.log in the workspace and start it again"
    )
    with session_factory(engine)() as session, session.begin():
        session.execute(
            update(Job)
            .where(Job.id == job.id, Job.status.in_(ACTIVE))
            .values(status="failed", message=message, finished_at=datetime.now(UTC))
        )
        fresh = session.get(Job, job.id)
        assert fresh is not None
        session.expunge(fresh)
    return fresh


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def start_job(
    workspace: Any,
    kind: str,
    *,
    target: str = "",
    args: dict[str, Any] | None = None,
    actor: str = "",
) -> int:
    """Record a job and start its process; returns the job's id at once.

    ``kind`` is one of :data:`~streamwise.web.pages.job_kinds.KINDS`; ``args`` are plain JSON.
    """
    from streamwise.web.pages.job_kinds import KINDS

    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}; known: {', '.join(sorted(KINDS))}")
    engine = workspace.operational()
    with session_factory(engine)() as session, session.begin():
        job = Job(kind=kind, status="queued", progress=0.0, message="starting", target=target,
                  actor=actor, args=args or {})  # fmt: skip
        session.add(job)
        session.flush()
        job_id = int(job.id)
    logs = Path(workspace.root) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / f"job-{job_id}.log").open("ab") as log:
        child = subprocess.Popen(  # noqa: S603 (our own interpreter and module, no shell)
            [sys.executable, "-m", "streamwise.web.pages.jobs", str(workspace.root), str(job_id)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=str(workspace.root),
        )
    with _CHILDREN_LOCK:
        for done in [i for i, c in _CHILDREN.items() if c.poll() is not None]:
            del _CHILDREN[done]
        _CHILDREN[child.pid] = child
    with session_factory(engine)() as session, session.begin():
        session.execute(update(Job).where(Job.id == job_id).values(pid=child.pid))
    return job_id


def job_view(engine: Engine, job_id: int) -> JobView | None:
    """The job (a dead process's job marked failed), or ``None`` when there is no such job."""
    with session_factory(engine)() as session:
        job = session.get(Job, job_id)
        if job is None:
            return None
        session.expunge(job)
    return _view(_settle(engine, job))


def active_job(engine: Engine, kind: str, target: str = "") -> JobView | None:
    """The newest unfinished job of ``kind`` on ``target``, if one runs."""
    with session_factory(engine)() as session:
        jobs = session.scalars(
            select(Job)
            .where(Job.kind == kind, Job.target == target, Job.status.in_(ACTIVE))
            .order_by(Job.id.desc())
        ).all()
        for job in jobs:
            session.expunge(job)
    for job in jobs:
        settled = _settle(engine, job)
        if settled.status in ACTIVE:
            return _view(settled)
    return None


def recent_jobs(
    engine: Engine, limit: int = 20, *, kind: str | None = None, target: str | None = None
) -> list[JobView]:
    """The latest jobs, newest first."""
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if kind is not None:
        query = query.where(Job.kind == kind)
    if target is not None:
        query = query.where(Job.target == target)
    with session_factory(engine)() as session:
        jobs = session.scalars(query).all()
        for job in jobs:
            session.expunge(job)
    return [_view(_settle(engine, j)) for j in jobs]


class Progress:
    """What a job's work calls to report: ``progress(fraction, message)``; written to the job's
    row at most every ``every`` seconds (and always for the last call before the end)."""

    def __init__(self, engine: Engine, job_id: int, every: float = 0.25) -> None:
        self.engine = engine
        self.job_id = job_id
        self.every = every
        self._last = 0.0

    def __call__(self, fraction: float, message: str = "", *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.every:
            return
        self._last = now
        values: dict[str, Any] = {"progress": min(1.0, max(0.0, float(fraction)))}
        if message:
            values["message"] = message[:2000]
        with session_factory(self.engine)() as session, session.begin():
            session.execute(update(Job).where(Job.id == self.job_id).values(**values))


def _finish(engine: Engine, job_id: int, status: str, message: str) -> None:
    values: dict[str, Any] = {"status": status, "message": message[:4000],
                              "finished_at": datetime.now(UTC)}  # fmt: skip
    if status == "done":
        values["progress"] = 1.0
    with session_factory(engine)() as session, session.begin():
        session.execute(update(Job).where(Job.id == job_id).values(**values))


def run_job(root: Path, job_id: int, *, kinds: dict[str, Callable[..., str]] | None = None) -> int:
    """Do job ``job_id`` of the workspace at ``root`` (in the job's own process); returns the
    exit status (0 done, 1 failed). The outcome, good or bad, is written to the job's row."""
    from streamwise.web.pages.job_kinds import KINDS
    from streamwise.workspace import Workspace

    ws = Workspace.open(root)
    engine = ws.operational()
    try:
        with session_factory(engine)() as session, session.begin():
            job = session.get(Job, job_id)
            if job is None or job.status != "queued":
                print(f"job {job_id} is not waiting to start; nothing to do", flush=True)
                return 1
            job.status, job.message, job.pid = "running", "started", os.getpid()
            kind, args = job.kind, dict(job.args or {})
        work = (kinds or KINDS)[kind]
        try:
            message = work(ws, args, Progress(engine, job_id))
        except Exception as exc:  # the outcome page says what went wrong; the log has the rest
            traceback.print_exc()
            _finish(engine, job_id, "failed", f"{type(exc).__name__}: {exc}")
            return 1
        _finish(engine, job_id, "done", message)
        return 0
    finally:
        ws.close()


if __name__ == "__main__":  # python -m streamwise.web.pages.jobs ROOT JOB_ID
    sys.exit(run_job(Path(sys.argv[1]), int(sys.argv[2])))
