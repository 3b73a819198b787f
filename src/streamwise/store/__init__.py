"""The operational database: SQLAlchemy models and Alembic migrations (SQLite or PostgreSQL)."""

from streamwise.store.db import make_engine, migrate, session_factory
from streamwise.store.models import Base, Job, WorkspaceMeta

__all__ = ["Base", "Job", "WorkspaceMeta", "make_engine", "migrate", "session_factory"]
