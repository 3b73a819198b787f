"""The analytics connection: an Ibis backend over DuckDB (default) or PostgreSQL.

Analyses are written once as Ibis expressions and run on whichever backend the workspace
configures. Spark (``spark://``) arrives with the scale-out work and is refused clearly until then.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import ibis
from ibis.backends import BaseBackend

from streamwise.errors import ConfigError

__all__ = ["connect", "connect_duckdb", "connect_postgres", "open_table", "redact"]


def connect_duckdb(
    path: str | Path = ":memory:", *, memory_limit: str = "", threads: int = 0
) -> BaseBackend:
    """Open (or create) a DuckDB database file as an Ibis backend (timestamps are naive UTC)."""
    config: dict[str, Any] = {}
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = threads
    backend = ibis.duckdb.connect(str(path), **config)
    backend.con.execute("SET enable_progress_bar = false").fetchall()  # Rich draws ours
    return backend


def connect_postgres(url: str) -> BaseBackend:
    """Connect to PostgreSQL given ``postgresql://user[:password]@host[:port]/database``."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ConfigError(f"not a PostgreSQL URL: {parts.scheme}://...; use postgresql://...")
    try:
        return ibis.postgres.connect(
            host=parts.hostname or "localhost",
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password or None,
            database=parts.path.lstrip("/") or "postgres",
        )
    except Exception as exc:  # the driver's errors vary; say what to check
        host = f"{parts.hostname or 'localhost'}:{parts.port or 5432}"
        raise ConfigError(
            f"cannot connect to PostgreSQL at {host} ({type(exc).__name__}: "
            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else 'no detail'}); "
            "check that the server runs and the URL's user and database exist"
        ) from None


def connect(engine: str, *, duckdb_path: str | Path = ":memory:", **options: Any) -> BaseBackend:
    """Return the Ibis backend for an ``engine`` setting (see ``Settings.engine``).

    Parameters
    ----------
    engine
        ``"duckdb"``, ``"postgresql://..."`` or ``"spark://..."``.
    duckdb_path
        The DuckDB file used when ``engine`` is ``"duckdb"``.
    options
        ``memory_limit`` and ``threads`` for DuckDB.
    """
    if engine == "duckdb":
        return connect_duckdb(duckdb_path, **options)
    if engine.startswith(("postgres://", "postgresql://")):
        return connect_postgres(engine)
    if engine.startswith("spark://"):
        raise ConfigError(
            'the Spark engine is not available in this version; use engine = "duckdb" or a '
            "postgresql:// URL"
        )
    raise ConfigError(f'unknown engine {engine!r}; use "duckdb" or a postgresql:// URL')


def redact(url: str) -> str:
    """``url`` without its user and password, fit to show and store."""
    parts = urlsplit(url)
    if parts.hostname is None:
        return url
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return f"{parts.scheme}://{host}{parts.path}"


def open_table(url: str, table: str) -> Any:
    """An Ibis table from another database, to import from.

    ``url`` is ``postgresql://user@host:port/db``, ``sqlite:///path/to/file.db`` or
    ``duckdb:///path/to/file.duckdb``; ``table`` may be ``schema.table``. Ibis quotes the name,
    so it never becomes SQL text.
    """
    scheme = urlsplit(url).scheme
    if scheme in {"postgres", "postgresql"}:
        backend = connect_postgres(url)
    elif scheme in {"sqlite", "duckdb"}:
        path = url.split("://", 1)[1]
        path = path[1:] if path.startswith("/") and not path.startswith("//") else path
        if not Path(path).exists():
            raise ConfigError(f"no such database file: {path}")
        backend = ibis.sqlite.connect(path) if scheme == "sqlite" else ibis.duckdb.connect(path)
    else:
        raise ConfigError(
            f"cannot import from {scheme}://; use postgresql://, sqlite:/// or duckdb:///"
        )
    schema, _, name = table.rpartition(".")
    try:
        return backend.table(name, database=schema or None)
    except Exception as exc:  # backends raise their own errors for a missing table
        raise ConfigError(
            f"no table {table!r} in {redact(url)} ({type(exc).__name__}); check the name"
        ) from None
