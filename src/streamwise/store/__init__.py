"""The operational database: SQLAlchemy models and Alembic migrations (SQLite or PostgreSQL)."""

from streamwise.store.db import head_revision, make_engine, migrate, session_factory
from streamwise.store.models import Base, Job, Plan, PlanVersion, WorkspaceMeta

__all__ = [
    "Base",
    "Job",
    "Plan",
    "PlanVersion",
    "WorkspaceMeta",
    "head_revision",
    "make_engine",
    "migrate",
    "session_factory",
]
