"""``/plans``: the marketing plans, their versions and documents; saving a new version.

Versions are immutable (:mod:`streamwise.plan.store`): saving adds version N + 1, or nothing
when the document is unchanged. Reading needs the ``read`` scope, saving ``admin``; the key's
name is recorded as the version's author.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, func, select

from streamwise.errors import ConfigError, WorkspaceError
from streamwise.plan.document import PlanDocument
from streamwise.plan.store import (
    PlanVersionInfo,
    load_plan_version,
    plan_versions,
    save_plan,
)
from streamwise.store.db import session_factory
from streamwise.store.models import Plan, PlanVersion
from streamwise.web.auth import AdminKey, ReadKey
from streamwise.web.problems import ProblemError, problem_responses

__all__ = [
    "PlanSaveRequest",
    "PlanSummary",
    "PlanVersionOut",
    "PlanVersionWithDocument",
    "router",
]

router = APIRouter(prefix="/plans", tags=["plans"])

PlanName = Annotated[str, Path(min_length=1, max_length=200, description="The plan's name.")]


class PlanVersionOut(BaseModel):
    """One saved version (without its document)."""

    id: int = Field(description="The version's id (campaigns link to it).")
    name: str
    version: int
    created_at: datetime
    author: str
    note: str
    content_hash: str = Field(description="SHA-256 of the document's canonical JSON.")

    @classmethod
    def of(cls, info: PlanVersionInfo) -> PlanVersionOut:
        """From the store's value object."""
        return cls(**info.to_dict())


class PlanVersionWithDocument(PlanVersionOut):
    """A version and its document."""

    document: PlanDocument


class PlanSummary(BaseModel):
    """A plan: its name, how many versions it has and its latest."""

    name: str
    versions: int
    latest: PlanVersionOut


class PlanList(BaseModel):
    """Every plan, the one saved to most recently first."""

    items: list[PlanSummary]


class PlanVersionList(BaseModel):
    """A plan's versions, oldest first."""

    items: list[PlanVersionOut]


class PlanSaveRequest(BaseModel):
    """A plan document to save as its plan's next version, and why."""

    model_config = ConfigDict(extra="forbid")

    document: PlanDocument
    note: str = Field("", max_length=2_000, description="Why this version (kept with it).")


def _not_found(exc: WorkspaceError) -> ProblemError:
    return ProblemError(404, "Not found", str(exc), kind="no-such-plan")


def _latest_versions(engine: Engine) -> list[PlanSummary]:
    with session_factory(engine)() as session:
        newest = (
            select(PlanVersion.plan_id, func.max(PlanVersion.version).label("version"),
                   func.count().label("n"))
            .group_by(PlanVersion.plan_id)
            .subquery()
        )  # fmt: skip
        rows = session.execute(
            select(Plan.name, PlanVersion, newest.c.n)
            .join(newest, newest.c.plan_id == Plan.id)
            .join(PlanVersion, (PlanVersion.plan_id == Plan.id)
                  & (PlanVersion.version == newest.c.version))
            .order_by(PlanVersion.id.desc())
        ).all()  # fmt: skip
    out = []
    for name, row, n in rows:
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
        latest = PlanVersionOut(id=row.id, name=name, version=row.version, created_at=created,
                                author=row.author, note=row.note,
                                content_hash=row.content_hash)  # fmt: skip
        out.append(PlanSummary(name=name, versions=int(n), latest=latest))
    return out


_READ = problem_responses(401, 403, 404, 422, 429)


@router.get("", response_model=PlanList, responses=problem_responses(401, 403, 429),
            summary="List plans.")  # fmt: skip
def list_plans(request: Request, _: ReadKey) -> PlanList:
    """Every plan with its number of versions and its latest version."""
    return PlanList(items=_latest_versions(request.app.state.engine))


@router.get("/{name}", response_model=PlanVersionWithDocument, responses=_READ,
            summary="A plan's latest version.")  # fmt: skip
def latest(request: Request, name: PlanName, _: ReadKey) -> PlanVersionWithDocument:
    """The latest version of the plan, with its document."""
    try:
        info, doc = load_plan_version(request.app.state.engine, name)
    except WorkspaceError as exc:
        raise _not_found(exc) from None
    return PlanVersionWithDocument(**info.to_dict(), document=doc)


@router.get("/{name}/versions", response_model=PlanVersionList, responses=_READ,
            summary="A plan's versions.")  # fmt: skip
def versions(request: Request, name: PlanName, _: ReadKey) -> PlanVersionList:
    """Every version of the plan, oldest first (without documents)."""
    try:
        infos = plan_versions(request.app.state.engine, name)
    except WorkspaceError as exc:
        raise _not_found(exc) from None
    return PlanVersionList(items=[PlanVersionOut.of(i) for i in infos])


@router.get("/{name}/versions/{version}", response_model=PlanVersionWithDocument,
            responses=_READ, summary="One version of a plan.")  # fmt: skip
def version(
    request: Request,
    name: PlanName,
    version: Annotated[int, Path(ge=1, le=2_147_483_647)],
    _: ReadKey,
) -> PlanVersionWithDocument:
    """Version ``version`` of the plan, with its document."""
    try:
        info, doc = load_plan_version(request.app.state.engine, name, version)
    except WorkspaceError as exc:
        raise _not_found(exc) from None
    return PlanVersionWithDocument(**info.to_dict(), document=doc)


@router.post(
    "",
    response_model=PlanVersionOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": PlanVersionOut, "description": "Unchanged: the latest version."},
        **problem_responses(400, 401, 403, 413, 422, 429),
    },
    summary="Save a plan version.",
)
def save(
    request: Request, body: PlanSaveRequest, key: AdminKey, response: Response
) -> PlanVersionOut:
    """Save the document as the next version of the plan named ``document.name`` (201), or
    answer the latest version (200) when the document is unchanged."""
    engine = request.app.state.engine
    try:
        before = {i.id for i in plan_versions(engine, body.document.name)}
    except WorkspaceError:
        before = set()
    try:
        info = save_plan(engine, body.document, author=f"api key {key.name}", note=body.note)
    except ConfigError as exc:
        raise ProblemError(422, "Invalid plan", str(exc), kind="invalid-plan") from None
    if info.id in before:
        response.status_code = status.HTTP_200_OK
    return PlanVersionOut.of(info)
