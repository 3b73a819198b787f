"""The operational database: SQLAlchemy models and Alembic migrations (SQLite or PostgreSQL)."""

from streamwise.store.db import head_revision, make_engine, migrate, session_factory
from streamwise.store.models import (
    Base,
    Campaign,
    CampaignSend,
    Job,
    Plan,
    PlanVersion,
    Suppression,
    WorkspaceMeta,
)

__all__ = [
    "Base",
    "Campaign",
    "CampaignSend",
    "Job",
    "Plan",
    "PlanVersion",
    "Suppression",
    "WorkspaceMeta",
    "head_revision",
    "make_engine",
    "migrate",
    "session_factory",
]
