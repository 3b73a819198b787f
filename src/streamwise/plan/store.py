"""Versions of the marketing plan in the operational database.

Each save of a :class:`~streamwise.plan.document.PlanDocument` adds an immutable version
(1, 2, 3, … per plan name); an unchanged document (same SHA-256 of its canonical JSON) adds
nothing. Concurrent writers get distinct consecutive versions: on PostgreSQL the plan row is locked
(``SELECT … FOR UPDATE``) while the next number is taken; on both databases the unique
``(plan_id, version)`` constraint turns any remaining race into a retry.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from streamwise.errors import ConfigError, WorkspaceError
from streamwise.plan.diff import Change, diff_plans, item_labels
from streamwise.plan.document import PlanDocument
from streamwise.store import Plan, PlanVersion, session_factory
from streamwise.store.db import engine_of, needs_table

if TYPE_CHECKING:
    from streamwise.workspace import Workspace

__all__ = [
    "Change",
    "PlanVersionInfo",
    "content_hash",
    "diff_plans",
    "load_plan",
    "load_plan_version",
    "plan_versions",
    "save_plan",
]

#: How many times a save is retried when a concurrent writer took the same version number.
SAVE_ATTEMPTS = 20
NO_PLAN = "no plan saved yet; build one with `streamwise plan build`"


@dataclass(frozen=True)
class PlanVersionInfo:
    """One saved version of a plan (without the document)."""

    id: int
    name: str
    version: int
    created_at: datetime
    author: str
    note: str
    content_hash: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (``created_at`` as ISO 8601)."""
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "author": self.author,
            "note": self.note,
            "content_hash": self.content_hash,
        }


def content_hash(document: PlanDocument) -> str:
    """SHA-256 (hex) of the document's canonical JSON: sorted keys, no spaces, UTF-8.

    Raises
    ------
    ConfigError
        When the document holds a NaN or infinite number (not valid JSON), naming the field.
    """
    data = document.to_dict()
    _check_finite(data, "")
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def save_plan(
    target: Engine | Workspace,
    document: PlanDocument,
    *,
    author: str = "",
    note: str = "",
) -> PlanVersionInfo:
    """Save ``document`` as the next version of the plan named ``document.name``.

    Parameters
    ----------
    target
        The operational database (an engine) or a workspace.
    document
        The plan. Its ``name`` selects the plan; a new name starts a new plan at version 1.
    author, note
        Who saved it and why, kept with the version.

    Returns
    -------
    PlanVersionInfo
        The new version, or the latest one unchanged when its content hash equals the
        document's (nothing is written then).

    Raises
    ------
    ConfigError
        When the document holds a non-finite number.
    WorkspaceError
        When the database has no plan tables, or concurrent writers kept winning the race.
    """
    engine = _engine(target)
    digest = content_hash(document)
    data = document.to_dict()
    for attempt in range(SAVE_ATTEMPTS):
        try:
            with _tables(engine), session_factory(engine)() as session, session.begin():
                return _save_once(session, document.name, data, digest, author, note)
        except IntegrityError:
            pass  # a concurrent writer took this version number (or created the plan): retry
        except OperationalError as exc:
            if engine.dialect.name != "sqlite" or "locked" not in str(exc.orig):
                raise
        time.sleep(random.uniform(0, 0.01 * (attempt + 1)))
    raise WorkspaceError(
        f"could not save plan {document.name!r}: other writers kept saving it at the same time "
        f"({SAVE_ATTEMPTS} attempts); try again"
    )


def _save_once(
    session: Session, name: str, data: dict[str, Any], digest: str, author: str, note: str
) -> PlanVersionInfo:
    plan = session.scalars(select(Plan).where(Plan.name == name).with_for_update()).one_or_none()
    if plan is None:
        plan = Plan(name=name, created_at=datetime.now(UTC))
        session.add(plan)
        session.flush()
    latest = session.scalars(
        select(PlanVersion)
        .where(PlanVersion.plan_id == plan.id)
        .order_by(PlanVersion.version.desc())
        .limit(1)
    ).one_or_none()
    if latest is not None and latest.content_hash == digest:
        return _info(latest, name)
    row = PlanVersion(
        plan_id=plan.id,
        version=1 if latest is None else latest.version + 1,
        created_at=datetime.now(UTC),
        author=author,
        note=note,
        content_hash=digest,
        document=data,
    )
    session.add(row)
    session.flush()
    return _info(row, name)


def load_plan(
    target: Engine | Workspace, name: str | None = None, version: int | None = None
) -> PlanDocument:
    """The plan document: version ``version`` (default the latest) of plan ``name`` (default the
    plan saved most recently).

    Raises
    ------
    WorkspaceError
        When no plan is saved, ``name`` is unknown or ``version`` does not exist (the message
        lists what does).
    """
    return load_plan_version(target, name, version)[1]


def load_plan_version(
    target: Engine | Workspace, name: str | None = None, version: int | None = None
) -> tuple[PlanVersionInfo, PlanDocument]:
    """Like :func:`load_plan`, with the version's :class:`PlanVersionInfo`."""
    engine = _engine(target)
    with _tables(engine), session_factory(engine)() as session:
        plan = _find_plan(session, name)
        query = select(PlanVersion).where(PlanVersion.plan_id == plan.id)
        if version is None:
            query = query.order_by(PlanVersion.version.desc()).limit(1)
        else:
            query = query.where(PlanVersion.version == version)
        row = session.scalars(query).one_or_none()
        if row is None:
            last = session.scalar(
                select(func.max(PlanVersion.version)).where(PlanVersion.plan_id == plan.id)
            )
            have = "it has none" if last is None else f"versions are 1–{last}"
            raise WorkspaceError(f"plan {plan.name!r} has no version {version}; {have}")
        info = _info(row, plan.name)
        try:
            document = PlanDocument.from_dict(row.document)
        except ValidationError as exc:
            raise WorkspaceError(
                f"plan {plan.name!r} version {row.version} does not match this version of "
                f"Streamwise's plan schema ({exc.error_count()} problems, first: "
                f"{exc.errors()[0]['msg']} at {'.'.join(map(str, exc.errors()[0]['loc']))})"
            ) from None
    return info, document


def plan_versions(target: Engine | Workspace, name: str | None = None) -> list[PlanVersionInfo]:
    """Every version of plan ``name`` (default the plan saved most recently), oldest first."""
    engine = _engine(target)
    with _tables(engine), session_factory(engine)() as session:
        plan = _find_plan(session, name)
        rows = session.scalars(
            select(PlanVersion).where(PlanVersion.plan_id == plan.id).order_by(PlanVersion.version)
        ).all()
        return [_info(row, plan.name) for row in rows]


def _find_plan(session: Session, name: str | None) -> Plan:
    if name is None:
        plan = session.scalars(
            select(Plan).join(PlanVersion).order_by(PlanVersion.id.desc()).limit(1)
        ).one_or_none()
        if plan is None:
            raise WorkspaceError(NO_PLAN)
        return plan
    plan = session.scalars(select(Plan).where(Plan.name == name)).one_or_none()
    if plan is None:
        names = session.scalars(select(Plan.name).order_by(Plan.name)).all()
        if not names:
            raise WorkspaceError(NO_PLAN)
        raise WorkspaceError(f"no plan named {name!r}; saved plans: {', '.join(names)}")
    return plan


def _info(row: PlanVersion, name: str) -> PlanVersionInfo:
    created = row.created_at
    if created.tzinfo is None:  # SQLite keeps no zone; every timestamp is written in UTC
        created = created.replace(tzinfo=UTC)
    return PlanVersionInfo(
        id=row.id,
        name=name,
        version=row.version,
        created_at=created,
        author=row.author,
        note=row.note,
        content_hash=row.content_hash,
    )


def _engine(target: Engine | Workspace) -> Engine:
    return engine_of(target)


def _tables(engine: Engine) -> AbstractContextManager[None]:
    return needs_table(engine, "plan_versions", "plan tables")


def _check_finite(value: Any, path: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(
            f"{path or 'the plan'} is {value}; a plan holds finite numbers (use null for unknown)"
        )
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        labels = item_labels(value) or [str(i) for i in range(len(value))]
        for label, item in zip(labels, value, strict=True):
            _check_finite(item, f"{path}[{label}]")
