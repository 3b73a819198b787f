"""The Data page: what was imported, what the imports set aside (the quarantine, with file, row,
column and reason), a file upload that imports in the background, and re-running the analyses
with progress.

Reading needs ``read``; importing ``data.import`` (marketing, admin); re-running the analyses
``analysis.run`` (product, marketing, admin). Imports and analyses run as background jobs
(:mod:`~streamwise.web.pages.jobs`): the page never waits for them.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from streamwise.data.contracts import CONTRACTS
from streamwise.data.quarantine import quarantine_rows, quarantine_summary
from streamwise.data.sources import detect_format
from streamwise.data.tables import IMPORTS
from streamwise.errors import StreamwiseError
from streamwise.store.db import session_factory
from streamwise.web.pages.accounts import audit
from streamwise.web.pages.jobs import active_job, recent_jobs, start_job
from streamwise.web.pages.render import page
from streamwise.web.pages.security import CanRead, Viewer, needs
from streamwise.web.pages.upstream import ReadOnlyWorkspace

__all__ = ["MAX_UPLOAD_BYTES", "router"]

router = APIRouter(include_in_schema=False)

CanImport = Annotated[Viewer, needs("data.import")]
CanRunAnalyses = Annotated[Viewer, needs("analysis.run")]

#: The largest file the page accepts (bigger ones: ``streamwise import`` on the server).
MAX_UPLOAD_BYTES = 2 * 1024**3
_CHUNK = 1024 * 1024
_SEE_OTHER = 303
_PROBLEMS_SHOWN = 100
#: The latest imports (``IMPORTS`` is a constant table name; nothing here comes from a user).
_IMPORTS_SQL = (
    "SELECT import_id, kind, source, rows_read, inserted, updated, unchanged, quarantined, "  # noqa: S608
    "finished_at FROM " + IMPORTS + " ORDER BY import_id DESC LIMIT 50"
)


def _read(ws: Any, kind: str | None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, str]:
    """Imports, quarantine summary and first problems, read without holding the file; the last
    item says why nothing could be read (the file is held for writing), else ``""``."""
    view = ws if ws.analytics_open else ReadOnlyWorkspace(ws)
    try:
        if not ws.analytics_path.exists():
            empty = pd.DataFrame()
            return empty, empty, empty, ""
        con = view.duckdb()
        try:
            imports = con.execute(_IMPORTS_SQL).df()
        except Exception:  # a workspace that never imported has no imports table
            return pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), ""
        summary = quarantine_summary(con, kind)
        problems = quarantine_rows(con, kind, None, _PROBLEMS_SHOWN)
        return imports, summary, problems, ""
    except Exception as exc:  # held for writing by an import or analysis
        empty = pd.DataFrame()
        return (
            empty,
            empty,
            empty,
            (
                f"The analytics database is busy ({type(exc).__name__}): an import or analysis is "
                "probably running. This page shows it when it is done."
            ),
        )
    finally:
        if view is not ws:
            view.close()


@router.get("/app/data")
def data(request: Request, viewer: CanRead, kind: str = "", message: str = "") -> Response:
    """Imports, the quarantine with reasons, background jobs; import a file; re-run analyses."""
    ws = request.app.state.workspace
    engine = request.app.state.engine
    chosen = kind if kind in CONTRACTS else None
    imports, summary, problems, busy = _read(ws, chosen)
    for frame in (imports, summary, problems):
        if "source" in frame:
            frame["file"] = frame["source"].map(lambda s: Path(str(s)).name)
    return page("data.html", title="Data", viewer=viewer, path="/app/data",
                subtitle="Imports, the quarantine, and re-running the analyses",
                imports=imports.to_dict("records"), summary=summary.to_dict("records"),
                problems=problems.to_dict("records"), busy=busy, kinds=sorted(CONTRACTS),
                kind=chosen or "", message=message, jobs=recent_jobs(engine, 10),
                running=active_job(engine, "analyse"), shown=_PROBLEMS_SHOWN)  # fmt: skip


def _back(message: str) -> Response:
    return RedirectResponse(f"/app/data?message={quote(message)}", status_code=_SEE_OTHER)


def _safe_name(name: str) -> str:
    """A file name to keep (letters, digits, dot, dash, underscore; no folders)."""
    base = Path(name.replace("\\", "/")).name
    return re.sub(r"[^A-Za-z0-9._-]+", "_", base)[:120] or "upload"


async def _save(upload: UploadFile, target: Path) -> int:
    """Stream the upload to ``target``; refuse (and remove) one over the size limit."""
    size = 0
    with target.open("wb") as fh:
        while chunk := await upload.read(_CHUNK):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                fh.close()
                target.unlink(missing_ok=True)
                raise StreamwiseError(
                    f"the file is over {MAX_UPLOAD_BYTES // 1024**3} GiB; import it on the server "
                    "with `streamwise import`"
                )
            fh.write(chunk)
    return size


@router.post("/app/data/import")
async def import_upload(request: Request, viewer: CanImport) -> Response:
    """Save the uploaded file in the workspace's ``uploads/`` and import it in the background."""
    form = await request.form()
    kind, upload = str(form.get("kind", "")), form.get("file")
    if kind not in CONTRACTS:
        return _back(f"Not imported: choose what the file holds ({', '.join(sorted(CONTRACTS))})")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _back("Not imported: choose a file")
    name = _safe_name(upload.filename)
    try:
        detect_format(Path(name))
    except StreamwiseError as exc:
        return _back(f"Not imported: {exc}")
    ws = request.app.state.workspace
    folder = Path(ws.root) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{secrets.token_hex(4)}-{name}"
    try:
        size = await _save(upload, target)
    except StreamwiseError as exc:
        return _back(f"Not imported: {exc}")
    if size == 0:
        target.unlink(missing_ok=True)
        return _back(f"Not imported: {name} is empty")

    def begin() -> int:
        job = start_job(ws, "import", target=name, actor=viewer.account.username,
                        args={"kind": kind, "path": str(target), "name": name})  # fmt: skip
        with session_factory(request.app.state.engine)() as session, session.begin():
            audit(session, viewer.account.username, "data.import", name, kind=kind, job=job,
                  bytes=size)  # fmt: skip
        return job

    job = await run_in_threadpool(begin)
    return _back(f"Importing {name} as {kind} (job {job})")


@router.post("/app/data/analyse")
def analyse(request: Request, viewer: CanRunAnalyses) -> Response:
    """Re-run the analyses on what the workspace holds now, in the background."""
    engine = request.app.state.engine
    running = active_job(engine, "analyse")
    if running is not None:
        return _back(f"The analyses are running already (job {running.id})")
    job = start_job(request.app.state.workspace, "analyse", actor=viewer.account.username)
    with session_factory(engine)() as session, session.begin():
        audit(session, viewer.account.username, "analysis.run", "all", job=job)
    return _back(f"Re-running the analyses (job {job})")
