"""A workspace: a folder with ``streamwise.toml``, the analytics and the operational database."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import ibis.expr.types as ir
from ibis.backends import BaseBackend
from sqlalchemy import Engine

from streamwise import __version__
from streamwise.data.tables import create_tables, replace_table
from streamwise.engine import connect, redact
from streamwise.errors import WorkspaceError
from streamwise.settings import Settings, load_settings
from streamwise.store import WorkspaceMeta, make_engine, migrate, session_factory

__all__ = ["CONFIG_FILE", "Workspace"]

CONFIG_FILE = "streamwise.toml"

_TEMPLATE = """\
# Streamwise workspace settings. Any value can be overridden by an environment variable
# STREAMWISE_<NAME> (for example STREAMWISE_ENGINE). See docs/workspace.md.

# Analytics engine: "duckdb" (the file below), a PostgreSQL URL such as
# "postgresql://postgres@127.0.0.1:5432/marketing", or a Spark master such as
# "spark://local[4]" or "spark://spark-master:7077" (see docs/scale.md).
engine = "duckdb"
analytics = "analytics.duckdb"

# Operational database (plans, campaigns, send ledger, users): SQLite here by default,
# or a PostgreSQL URL for a team server.
operational = "sqlite:///streamwise.sqlite"

company = {company}
brand = {brand}
currency = {currency}

# Signs tracking links and sessions. Keep it secret; never commit it.
secret_key = {secret}
demo = {demo}

# DuckDB resources: memory_limit empty means DuckDB's default (80% of RAM); threads 0 means twice
# the cores on a 1- or 2-core machine (faster there: docs/workspace.md), else one per core.
memory_limit = ""
threads = 0
"""


def _toml_str(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


@dataclass
class Workspace:
    """An opened workspace. Use :meth:`init` to create one and :meth:`open` to open one."""

    root: Path
    settings: Settings
    _analytics: BaseBackend | None = field(default=None, repr=False)
    _operational: Engine | None = field(default=None, repr=False)

    @classmethod
    def init(
        cls,
        root: str | Path,
        *,
        company: str = "My Company",
        brand: str = "My Brand",
        currency: str = "USD",
        demo: bool = False,
    ) -> Workspace:
        """Create a workspace in ``root`` (created if missing) and migrate its databases.

        Running it on an existing workspace keeps its settings and data and only brings the
        databases up to date.
        """
        root = Path(root).expanduser().resolve()
        root.mkdir(parents=True, exist_ok=True)
        config = root / CONFIG_FILE
        if not config.exists():
            config.write_text(
                _TEMPLATE.format(
                    company=_toml_str(company),
                    brand=_toml_str(brand),
                    currency=_toml_str(currency),
                    secret=_toml_str(secrets.token_urlsafe(32)),
                    demo="true" if demo else "false",
                )
            )
            config.chmod(0o600)
        ws = cls.open(root)
        ws.upgrade()
        return ws

    @classmethod
    def open(cls, root: str | Path = ".") -> Workspace:
        """Open the workspace in ``root``.

        Raises
        ------
        WorkspaceError
            When ``root`` holds no ``streamwise.toml``.
        """
        root = Path(root).expanduser().resolve()
        config = root / CONFIG_FILE
        if not config.is_file():
            raise WorkspaceError(
                f"{root} is not a Streamwise workspace (no {CONFIG_FILE}); create one with "
                f"'streamwise init {root}' or pass --workspace DIR"
            )
        return cls(root=root, settings=load_settings(config))

    # -- connections -------------------------------------------------------------------------
    @property
    def analytics_path(self) -> Path:
        """The DuckDB file of the workspace."""
        return (self.root / self.settings.analytics).resolve()

    def analytics(self) -> BaseBackend:
        """The Ibis backend of the analytics database (opened once, then reused)."""
        if self._analytics is None:
            self._analytics = connect(
                self.settings.engine,
                duckdb_path=self.analytics_path,
                memory_limit=self.settings.memory_limit,
                threads=self.settings.threads,
            )
        return self._analytics

    @property
    def analytics_open(self) -> bool:
        """Whether this process has the analytics database open (by :meth:`analytics`)."""
        return self._analytics is not None

    def duckdb(self) -> duckdb.DuckDBPyConnection:
        """The raw DuckDB connection under :meth:`analytics` (for imports and bulk work)."""
        if self.settings.engine != "duckdb":
            raise WorkspaceError(
                "imports go to the workspace's DuckDB file; this workspace uses engine "
                f'{self.settings.engine.split("://")[0]}://..., set engine = "duckdb" to import'
            )
        return self.analytics().con  # type: ignore[attr-defined,no-any-return]

    def save_result(self, name: str, frame: Any, allowed: tuple[str, ...]) -> None:
        """Write a result table (pandas, Arrow, or an Ibis expression of this engine, which
        then runs inside it: nothing comes into Python) into the analytics engine, replacing it.

        ``name`` must be one of ``allowed``, the result tables the calling module declares
        (table names are never taken from input). DuckDB gets a frame through its own
        connection; expressions and the other engines go through Ibis (in Spark, a table of the
        session's catalog).
        """
        if name not in allowed:
            raise ValueError(f"not a result table: {name}")
        if self.settings.engine == "duckdb" and not isinstance(frame, ir.Table):
            replace_table(self.duckdb(), name, frame, allowed)
        else:
            self.analytics().create_table(name, frame, overwrite=True)

    @property
    def operational_url(self) -> str:
        """SQLAlchemy URL of the operational database, relative SQLite paths resolved."""
        url = self.settings.operational
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/"):
            return prefix + str(self.root / url.removeprefix(prefix))
        return url

    def operational(self) -> Engine:
        """The SQLAlchemy engine of the operational database."""
        if self._operational is None:
            self._operational = make_engine(self.operational_url)
        return self._operational

    def upgrade(self) -> None:
        """Create missing analytics tables and migrate the operational database to head."""
        if self.settings.engine == "duckdb":
            create_tables(self.duckdb())
        migrate(self.operational())
        with session_factory(self.operational())() as session:
            meta = {m.key: m for m in session.query(WorkspaceMeta).all()}
            now = datetime.now(UTC).isoformat(timespec="seconds")
            if "created_at" not in meta:
                session.add(WorkspaceMeta(key="created_at", value=now))
            if "streamwise_version" in meta:
                meta["streamwise_version"].value = __version__
            else:
                session.add(WorkspaceMeta(key="streamwise_version", value=__version__))
            session.commit()

    def describe(self) -> dict[str, Any]:
        """Where things are, for people."""
        return {
            "workspace": str(self.root),
            "settings": str(self.root / CONFIG_FILE),
            "engine": redact(self.settings.engine),
            "analytics": str(self.analytics_path),
            "operational": redact(self.operational_url),
        }

    def close(self) -> None:
        """Close both databases."""
        if self._analytics is not None:
            self._analytics.disconnect()
            self._analytics = None
        if self._operational is not None:
            self._operational.dispose()
            self._operational = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
