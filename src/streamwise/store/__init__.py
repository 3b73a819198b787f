"""The operational database: SQLAlchemy models and Alembic migrations (SQLite or PostgreSQL)."""

from streamwise.store.db import head_revision, make_engine, migrate, session_factory
from streamwise.store.models import (
    ApiKey,
    Base,
    Campaign,
    CampaignSend,
    Engagement,
    Job,
    Plan,
    PlanVersion,
    Suppression,
    TrackedEvent,
    WorkspaceMeta,
)

__all__ = [
    "ApiKey",
    "Base",
    "Campaign",
    "CampaignSend",
    "Engagement",
    "Job",
    "Plan",
    "PlanVersion",
    "Suppression",
    "TrackedEvent",
    "WorkspaceMeta",
    "head_revision",
    "make_engine",
    "migrate",
    "session_factory",
]
