"""Ad audiences: any audience, or a lookalike seed of high-CLV customers, as an upload file.

:func:`export_audience` resolves an audience filter the way campaigns do and writes its members'
normalised, SHA-256-hashed identifiers in the customer-list format of an ad platform
(:data:`~.ads_platforms.PLATFORMS`: Meta, Google Ads Customer Match, TikTok, LinkedIn, X).
:func:`export_seed` does the same for the top share or top N customers by CLV (table
``customer_clv``), optionally within an audience (a segment, a persona), with the customer-value
column where the platform builds value-based lookalikes from it.

Consent is respected (see :mod:`.ads_consent`): people without ``ads_consent`` or on the
suppression list are left out, and so are people without a usable identifier; the result says
how many for each reason, and how many identifiers were unusable. Nobody is dropped silently:
``members == exported + sum(removed)``.

The work runs in the workspace's DuckDB file: the filter compiles to SQL through Ibis, identifiers
are normalised and hashed in SQL, and the rows stream to the file in Arrow batches, so memory
stays bounded for ten million customers. The file is written next to its destination and renamed
into place when complete.

Examples
--------
>>> from streamwise.downstream.audiences.ads import export_audience, export_seed
>>> export_audience(ws, 'segment = "Alpine Pros"', "meta", "alpine.csv")    # doctest: +SKIP
>>> export_seed(ws, "meta", "seed.csv", share=0.1)                          # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow.csv as pacsv

from streamwise.downstream.audiences.ads_consent import (
    CONSENT_COLUMN,
    SUPPRESSED,
    suppression_keys,
)
from streamwise.downstream.audiences.ads_normalise import CODES, arrow_reader, calling_codes
from streamwise.downstream.audiences.ads_platforms import Platform, get_platform
from streamwise.downstream.audiences.ads_query import (
    PEOPLE_COLUMNS,
    export_query,
    seed_members_sql,
)
from streamwise.downstream.audiences.ads_report import AdsExport, count_report
from streamwise.downstream.audiences.audience import Audience, plan_personas
from streamwise.downstream.audiences.compiler import compile_filter, filter_fields
from streamwise.downstream.audiences.fields import field_table
from streamwise.downstream.audiences.filters import parse_filter
from streamwise.errors import ConfigError

if TYPE_CHECKING:
    import duckdb

    from streamwise.workspace import Workspace

__all__ = ["AdsExport", "Progress", "export_audience", "export_seed"]

#: Called with (rows written, rows to write) as the file is written.
Progress = Callable[[int, int], None]


def export_audience(
    workspace: Workspace,
    audience: Audience | str,
    platform: str | Platform,
    out: str | Path,
    *,
    at: datetime | None = None,
    personas: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> AdsExport:
    """Write an audience's members as a platform's customer-list file.

    Parameters
    ----------
    workspace
        The workspace (its analytics engine must be DuckDB).
    audience
        An :class:`~.audience.Audience` or a filter in the audience filter language.
    platform
        ``meta``, ``google``, ``tiktok``, ``linkedin`` or ``x`` (or a :class:`Platform`).
    out
        The file to write (replaced when it exists).
    at, personas
        As for :func:`~.audience.resolve`.
    progress
        Called with (rows written, rows to write).

    Raises
    ------
    FilterError
        For a malformed filter or one using a field the workspace lacks.
    ConfigError
        For an unknown platform, a customers table without ``ads_consent``, or an engine other
        than DuckDB.
    """
    text = audience.filter if isinstance(audience, Audience) else audience
    at = _utc(at)
    members = _members_sql(workspace, text, at, personas)
    return _export(
        workspace, _platform(platform), Path(out), members, [], kind="audience",
        audience=text, at=at, progress=progress,
    )  # fmt: skip


def export_seed(
    workspace: Workspace,
    platform: str | Platform,
    out: str | Path,
    *,
    share: float | None = None,
    count: int | None = None,
    within: Audience | str | None = None,
    at: datetime | None = None,
    personas: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> AdsExport:
    """Write a lookalike seed list: the top ``share`` or top ``count`` customers by CLV.

    The customers in scope (everyone, or the members of ``within``) that have a CLV are ranked
    by it, highest first, ties broken by customer id; the top ``share`` (rounded up) or
    ``count`` of them form the seed. Consent and suppression then apply as for any export, so a
    seed holds the high-value customers that may be matched; the report says how many of the
    chosen were left out. Platforms that build value-based lookalikes (Meta) get a ``value``
    column with each customer's CLV.

    Raises
    ------
    ConfigError
        Without exactly one of ``share`` (0 < share ≤ 1) and ``count`` (≥ 1), or without a
        ``customer_clv`` table (run ``streamwise customers clv``).
    """
    if (share is None) == (count is None):
        raise ConfigError("give the seed's size as a share (e.g. 0.1) or a count, not both")
    if share is not None and not 0 < share <= 1:
        raise ConfigError(f"the seed share must lie in (0, 1], got {share}; 0.1 is the top 10%")
    if count is not None and count < 1:
        raise ConfigError(f"the seed count must be at least 1, got {count}")
    text = within.filter if isinstance(within, Audience) else within
    at = _utc(at)
    con = _connection(workspace)
    if not _has_table(con, "customer_clv"):
        raise ConfigError(
            "the workspace has no customer_clv table; run `streamwise customers clv` first"
        )
    scope = (
        _members_sql(workspace, text, at, personas) if text else "SELECT customer_id FROM customers"
    )
    by: Literal["share", "count"] = "share" if share is not None else "count"
    members = seed_members_sql(scope, by)
    top = share if share is not None else count
    return _export(
        workspace, _platform(platform), Path(out), members, [top], kind="seed",
        audience=text, at=at, progress=progress, top=top,
    )  # fmt: skip


def _utc(at: datetime | None) -> datetime:
    at = datetime.now(UTC) if at is None else at
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _platform(platform: str | Platform) -> Platform:
    return platform if isinstance(platform, Platform) else get_platform(platform)


def _connection(workspace: Workspace) -> duckdb.DuckDBPyConnection:
    if workspace.settings.engine != "duckdb":
        raise ConfigError(
            "ad exports run in the workspace's DuckDB file; this workspace uses engine "
            f'{workspace.settings.engine.split("://")[0]}://..., set engine = "duckdb"'
        )
    return workspace.duckdb()


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    sql = "SELECT count(*) FROM information_schema.tables WHERE table_name = ?"
    return bool(con.execute(sql, [name]).fetchall()[0][0])


def _members_sql(
    workspace: Workspace, text: str, at: datetime, personas: Mapping[str, str] | None
) -> str:
    """The audience's members (``customer_id``) as SQL compiled by Ibis (values are escaped
    literals, never pasted text)."""
    if personas is None and "persona" in filter_fields(parse_filter(text)):
        personas = plan_personas(workspace)
    backend = workspace.analytics()
    fields = field_table(backend, personas=personas)
    members = fields.table.filter(compile_filter(text, fields, at=at)).select("customer_id")
    return str(backend.compile(members))


def _check_customers(con: duckdb.DuckDBPyConnection) -> None:
    sql = "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?"
    types = dict(con.execute(sql, ["customers"]).fetchall())
    lacking = [c for c in PEOPLE_COLUMNS if c not in types]
    if CONSENT_COLUMN in lacking:
        raise ConfigError(
            f"the customers table has no {CONSENT_COLUMN} column, and consent to ad matching is "
            "never assumed. This workspace predates the column: run `streamwise init WORKSPACE` "
            f"(it adds the column, empty), then re-import your customers with an "
            f"{CONSENT_COLUMN} column (true/false)"
        )
    if lacking:
        raise ConfigError(
            f"the customers table lacks {', '.join(lacking)}; upgrade the workspace with "
            "`streamwise init WORKSPACE` and re-import customers"
        )
    if types[CONSENT_COLUMN] != "BOOLEAN":
        raise ConfigError(
            f"customers.{CONSENT_COLUMN} is {types[CONSENT_COLUMN]}, not BOOLEAN; re-import it "
            "as true/false"
        )


def _export(
    workspace: Workspace,
    platform: Platform,
    out: Path,
    members_sql: str,
    params: list[Any],
    *,
    kind: Literal["audience", "seed"],
    audience: str | None,
    at: datetime,
    progress: Progress | None,
    top: float | int | None = None,
) -> AdsExport:
    con = _connection(workspace)
    _check_customers(con)
    if not out.parent.is_dir():
        raise ConfigError(f"{out.parent} is not a folder; create it or write the file elsewhere")
    seed = kind == "seed"
    query = export_query(platform, members_sql, params, seed=seed)
    keys = suppression_keys(workspace)
    con.register(CODES, calling_codes())
    con.register(SUPPRESSED, keys)
    partial = out.with_name(f".{out.name}.partial")
    try:
        con.execute("BEGIN TRANSACTION")  # one snapshot for the report and the rows
        try:
            counts = con.execute(query.report, query.params).fetchall()
            report = count_report(platform, counts)
            scope = None
            if seed:
                scope = _scope(con, members_sql, params)
            written = _write(con, query.rows, query.params, platform, partial, report, progress)
        finally:
            con.execute("ROLLBACK")
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
        con.unregister(CODES)
        con.unregister(SUPPRESSED)
    return AdsExport(
        platform=platform.name,
        path=out,
        headers=tuple(platform.headers(seed=seed)),
        kind=kind,
        audience=audience,
        at=at,
        members=report["members"],
        exported=written,
        removed=report["removed"],
        unusable=report["unusable"],
        scope=scope,
        top=top,
    )


def _scope(con: duckdb.DuckDBPyConnection, members_sql: str, params: list[Any]) -> int:
    rows = con.execute(f"SELECT max(scope) FROM ({members_sql})", params).fetchall()
    return int(rows[0][0] or 0)


def _write(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: list[Any],
    platform: Platform,
    path: Path,
    report: dict[str, Any],
    progress: Progress | None,
) -> int:
    """Stream the rows to ``path`` as CSV (UTF-8, header as the platform wants); returns the
    number of rows written."""
    total = int(report["exported"])
    reader = arrow_reader(con, sql, params)
    # hex digests, digits and numbers only: nothing that needs quotes (quoted hashes would be
    # read as other values by platforms that take a bare list, as X does)
    # (pyarrow quotes header names whatever the style, so the header line is written here)
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    written = 0
    with path.open("wb") as sink:
        if platform.header:
            sink.write((",".join(reader.schema.names) + "\n").encode())
        with pacsv.CSVWriter(sink, reader.schema, write_options=options) as writer:
            for batch in reader:
                writer.write_batch(batch)
                written += batch.num_rows
                if progress is not None:
                    progress(written, total)
    if progress is not None and total == 0:
        progress(0, 0)
    return written
