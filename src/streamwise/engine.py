"""The analytics connection: an Ibis backend over DuckDB (default), PostgreSQL or PySpark.

Analyses are written once as Ibis expressions and run on whichever backend the workspace
configures: ``engine = "duckdb"``, a ``postgresql://`` URL, or ``spark://`` followed by a Spark
master (``spark://local[2]``, ``spark://host:7077``, ``spark://yarn``). See ``docs/scale.md``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import ibis
from ibis.backends import BaseBackend

from streamwise.errors import ConfigError

__all__ = [
    "SparkUrl",
    "connect",
    "connect_duckdb",
    "connect_postgres",
    "connect_spark",
    "duckdb_threads",
    "hash_sample",
    "open_table",
    "parse_spark_url",
    "redact",
]


def duckdb_threads(threads: int = 0) -> int:
    """DuckDB's worker threads: ``threads`` when given; else one more than the cores on a machine
    of one or two cores, one per core (DuckDB's own default) on a larger one.

    More threads than cores are faster on a small machine: DuckDB splits a hash aggregate or join
    into partitions by the number of its threads. On a 2-core machine, 4 threads summarised 10M
    orders (about 10M distinct customer-days) in 1.7 s instead of 2.5 s with 2, using 3.3 instead
    of 4.6 CPU seconds, and the import's check for repeated keys took 0.5 s instead of 1.7 s.
    3 threads were as fast as 4 within one process, and faster for a query that runs first in
    its process, as each CLI command's does (fewer per-thread hash tables to allocate):
    1.46-1.57 s against 1.54-1.66 s, 212k against 230k page faults (fresh processes,
    2026-12-05); 8 threads were slower again. Above two cores nothing was measured, so DuckDB's
    choice stands. The results do not depend on the count beyond the last bits of float sums
    (the order partial sums are added in).
    """
    if threads:
        return threads
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return cores + 1 if cores <= 2 else cores


def connect_duckdb(
    path: str | Path = ":memory:",
    *,
    memory_limit: str = "",
    threads: int = 0,
    read_only: bool = False,
) -> BaseBackend:
    """Open (or create) a DuckDB database file as an Ibis backend (timestamps are naive UTC).

    ``threads`` 0 means :func:`duckdb_threads`' choice. The threads are set once the database is
    open, not as a setting of the opening: DuckDB refuses a second connection to a file this
    process holds when the two were opened with different settings, and people open the
    workspace's file with a plain ``duckdb.connect(path)`` beside a workspace.
    """
    config: dict[str, Any] = {}
    if memory_limit:
        config["memory_limit"] = memory_limit
    if read_only:
        config["read_only"] = True
    backend = ibis.duckdb.connect(str(path), **config)
    backend.con.execute("SET enable_progress_bar = false").fetchall()  # Rich draws ours
    backend.con.execute(f"SET threads = {duckdb_threads(threads):d}").fetchall()
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


@dataclass(frozen=True)
class SparkUrl:
    """A ``spark://`` engine setting taken apart.

    Attributes
    ----------
    master
        The Spark master URL: ``local[2]``, ``spark://host:7077``, ``yarn``, ``k8s://https://...``.
    database
        The catalog database (schema) tables are read from; empty means the session's current one.
    conf
        Spark settings from the URL's query (``spark.executor.memory=8g``), over the defaults.
    """

    master: str
    database: str = ""
    conf: dict[str, str] = field(default_factory=dict)

    @property
    def local(self) -> bool:
        """Whether Spark runs inside this process (``local``, ``local[N]``, ``local[*]``)."""
        return self.master == "local" or self.master.startswith("local[")

    def settings(self) -> dict[str, str]:
        """The session's settings: sensible defaults, then the URL's own.

        Always UTC for timestamps (naive timestamps are UTC everywhere in Streamwise). In local
        mode, as many shuffle partitions as cores (Spark's 200 suit a cluster, not a laptop),
        no web UI, and the driver bound to the loopback address.
        """
        out = {"spark.sql.session.timeZone": "UTC", "spark.app.name": "streamwise"}
        if self.local:
            inner = self.master[len("local[") : -1] if self.master.startswith("local[") else "1"
            inner = inner.split(",")[0]  # local[N,F]: N cores, F retries
            cores = str(os.cpu_count() or 2) if inner in {"*", ""} else inner
            out |= {
                "spark.sql.shuffle.partitions": str(cores),
                "spark.default.parallelism": str(cores),
                "spark.ui.enabled": "false",
                "spark.ui.showConsoleProgress": "false",
                "spark.driver.host": "127.0.0.1",
                "spark.driver.bindAddress": "127.0.0.1",
            }
        return out | self.conf


def parse_spark_url(url: str) -> SparkUrl:
    """Take ``spark://MASTER[?database=NAME&spark.key=value...]`` apart.

    ``MASTER`` is ``local``, ``local[N]`` or ``local[*]`` (Spark inside this process),
    ``HOST:PORT`` (a standalone cluster, ``spark://HOST:PORT``) or any other master URL
    (``yarn``, ``k8s://https://HOST:443``, ``spark://HOST1:7077,HOST2:7077``). Query parameters
    starting with ``spark.`` become Spark settings; ``database`` names the catalog database.

    Raises
    ------
    ConfigError
        When the URL has no master or an unknown query parameter.

    Examples
    --------
    >>> parse_spark_url("spark://local[2]").master
    'local[2]'
    >>> parse_spark_url("spark://10.0.0.5:7077?database=marketing").master
    'spark://10.0.0.5:7077'
    """
    if not url.startswith("spark://"):
        raise ConfigError(f"not a Spark URL: {redact(url)}; use spark://MASTER")
    rest, _, query = url.removeprefix("spark://").partition("?")
    if not rest:
        raise ConfigError(
            "the spark:// URL names no master; use spark://local[2] (Spark in this process) or "
            "spark://HOST:7077 (a cluster)"
        )
    own = rest in {"local", "yarn"} or rest.startswith("local[") or "://" in rest
    master = rest if own else "spark://" + rest
    database, conf = "", {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "database":
            database = value
        elif key.startswith("spark."):
            conf[key] = value
        else:
            raise ConfigError(
                f"unknown parameter {key!r} in the spark:// URL; use database=NAME or Spark "
                "settings such as spark.executor.memory=8g"
            )
    return SparkUrl(master=master, database=database, conf=conf)


@cache
def _spark_backend_class() -> type[BaseBackend]:
    _ = ibis.pyspark  # loading the backend through ibis registers its options
    from ibis.backends.pyspark import Backend

    class SparkBackend(Backend):  # type: ignore[misc]
        """Ibis's PySpark backend that stops the Spark session only if it started it."""

        owns_session = False

        def disconnect(self) -> None:
            if self.owns_session:
                super().disconnect()

    return SparkBackend


def connect_spark(url: str, *, warehouse: str | Path | None = None) -> BaseBackend:
    """Ibis's PySpark backend on a Spark session with the master of ``url`` (see
    :func:`parse_spark_url`).

    Parameters
    ----------
    url
        ``spark://MASTER[?database=NAME&spark.key=value...]``.
    warehouse
        Where a local session keeps the tables it creates (``spark.sql.warehouse.dir``; Spark's
        own default is ``./spark-warehouse`` in the working directory). A cluster's own setting
        is left alone; the URL's ``spark.sql.warehouse.dir`` wins.

    A process holds one Spark session: when one is running (say, a notebook's or a test
    session's), it is reused if its master is the URL's, and left running on ``disconnect()``;
    otherwise a new one starts, and ``disconnect()`` stops it. Tables are read from the session's
    catalog (``backend.table(name)``), or from files with ``backend.read_parquet(path)``.

    Raises
    ------
    ConfigError
        When PySpark (or Java) is missing, the URL is malformed, or a session with another master
        is running in this process.
    """
    spec = parse_spark_url(url)
    try:
        from pyspark.errors import PySparkRuntimeError
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError(
            "the spark:// engine needs PySpark; install it with pip install 'streamwise[spark]'"
        ) from None
    try:
        running = SparkSession.active()
    except PySparkRuntimeError:
        running = None
    if running is not None:
        if running.sparkContext.master != spec.master:
            raise ConfigError(
                f"a Spark session with master {running.sparkContext.master} already runs in "
                f"this process, and a process holds one; stop it or use that master, not "
                f"{spec.master}"
            )
        session = running
        for key, value in spec.conf.items():  # settings a running session can still take
            session.conf.set(key, value)
    else:
        builder = SparkSession.builder.master(spec.master)
        settings = spec.settings()
        if warehouse is not None and spec.local:
            settings.setdefault("spark.sql.warehouse.dir", str(Path(warehouse).resolve()))
        for key, value in settings.items():
            builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # Java missing, master unreachable: Py4J's errors vary
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "no detail"
            raise ConfigError(
                f"cannot start Spark with master {spec.master} ({type(exc).__name__}: {first}); "
                "check that Java 17 is installed (JAVA_HOME) and the master is reachable"
            ) from None
        session.sparkContext.setLogLevel("WARN")
    # pandas writes a missing float as NaN; DuckDB and PostgreSQL load it as NULL, Spark keeps
    # NaN, which would poison sums and means: read NaN as NULL, as the other engines do.
    backend_class = _spark_backend_class()  # registers ibis.options.pyspark
    ibis.options.pyspark.treat_nan_as_null = True
    backend = backend_class().connect(session)
    backend.owns_session = running is None
    if spec.database:
        try:
            session.catalog.setCurrentDatabase(spec.database)
        except Exception:
            raise ConfigError(
                f"the Spark catalog has no database {spec.database!r}; create it or fix the "
                "URL's database parameter"
            ) from None
    return backend


def connect(engine: str, *, duckdb_path: str | Path = ":memory:", **options: Any) -> BaseBackend:
    """Return the Ibis backend for an ``engine`` setting (see ``Settings.engine``).

    Parameters
    ----------
    engine
        ``"duckdb"``, ``"postgresql://..."`` or ``"spark://MASTER[?key=value&...]"`` (see
        :func:`streamwise.spark.connect_spark`).
    duckdb_path
        The DuckDB file used when ``engine`` is ``"duckdb"``.
    options
        ``memory_limit`` and ``threads`` for DuckDB (ignored by the other engines).
    """
    if engine == "duckdb":
        return connect_duckdb(duckdb_path, **options)
    if engine.startswith(("postgres://", "postgresql://")):
        return connect_postgres(engine)
    if engine.startswith("spark://"):
        in_file = str(duckdb_path) != ":memory:"
        return connect_spark(engine, warehouse=Path(duckdb_path).parent / "spark-warehouse"
                             if in_file else None)  # fmt: skip
    raise ConfigError(
        f'unknown engine {redact(engine)!r}; use "duckdb", a postgresql:// URL or a spark:// URL'
    )


def redact(url: str) -> str:
    """``url`` without its user and password (nor, for Spark, its settings), fit to show."""
    if url.startswith("spark://"):  # settings may hold keys (spark.hadoop.fs.s3a.secret.key)
        return url.partition("?")[0]
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. unbalanced brackets: show the scheme only
        return url.split("://", 1)[0] + "://..."
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


def hash_sample(table: Any, key: str, fraction: float, seed: int = 0) -> Any:
    """The rows of an Ibis ``table`` whose ``key`` hashes (with ``seed``) below ``fraction``: a
    reproducible sample of about that share, drawn by any engine.

    Not ``Table.sample``: Ibis refuses a seeded sample of a query on Spark and PostgreSQL, and a
    hash picks the same rows however the engine plans the query (each engine has its own hash,
    so the engines draw different rows).
    """
    if fraction >= 1:
        return table
    buckets = 1_000_000
    h = (table[key].cast("string") + f":{seed}").hash()
    bucket = ((h % buckets) + buckets) % buckets  # the engines' hashes can be negative
    return table.filter(bucket < int(fraction * buckets))
