"""Connections to the operational database and its migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "engine_of",
    "head_revision",
    "make_engine",
    "migrate",
    "needs_table",
    "session_factory",
]

MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create a SQLAlchemy engine; SQLite gets WAL mode, foreign keys and a busy timeout."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine`` that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    """The newest migration's revision (what :func:`migrate` brings a database to)."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None  # the package ships its migrations
    return head


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the operational database to ``revision`` with Alembic."""
    cfg = _config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def engine_of(target: Any) -> Engine:
    """The engine itself, or a workspace's operational engine."""
    return target if isinstance(target, Engine) else target.operational()


@contextmanager
def needs_table(engine: Engine, table: str, what: str) -> Iterator[None]:
    """Turn "no such table" into an error that says how to upgrade the database (``what``
    names the missing part, e.g. "plan tables")."""
    from streamwise.errors import WorkspaceError

    try:
        yield
    except DBAPIError as exc:
        if isinstance(exc, IntegrityError) or inspect(engine).has_table(table):
            raise
        raise WorkspaceError(
            f"the operational database has no {what}; upgrade it with "
            "`streamwise init WORKSPACE` (keeps settings and data)"
        ) from None
