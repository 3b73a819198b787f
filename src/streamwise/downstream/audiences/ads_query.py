"""The SQL of an ad export: members → people → normalised identifiers → a status per person.

:func:`export_query` assembles one ``WITH`` query from the audience's members (SQL compiled by
Ibis from the filter, whose values are escaped literals), the customers table, the normalisation
of :mod:`.ads_normalise` and the consent policy of :mod:`.ads_consent`. The export runs it twice in
one transaction: grouped by status for the report, then filtered to ``status = 'ok'`` and streamed
to the file. Table and column names come from code; the only values bound at run time are the
seed list's share or count (as parameters).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from streamwise.downstream.audiences.ads_consent import CONSENT_COLUMN, SUPPRESSED
from streamwise.downstream.audiences.ads_normalise import column_sql, normalised_sql
from streamwise.downstream.audiences.ads_platforms import Platform

__all__ = ["PEOPLE_COLUMNS", "ExportQuery", "export_query", "seed_members_sql"]

#: The customers columns an export reads.
PEOPLE_COLUMNS = (
    "customer_id", "email", "phone", "first_name", "last_name", "country", "birth_year",
    CONSENT_COLUMN,
)  # fmt: skip


@dataclass(frozen=True)
class ExportQuery:
    """The report query, the rows query and their parameters (the same for both)."""

    report: str
    rows: str
    params: list[Any]


def seed_members_sql(scope_sql: str, by: Literal["share", "count"]) -> str:
    """The top of ``scope_sql``'s members by CLV: ``customer_id, value, seed_rank, scope``
    where ``scope`` counts the members that have a CLV. Ties are broken by customer id, so the
    list is the same every time. One parameter: the share (0 < share ≤ 1, rounded up to whole
    people) or the count."""
    cut = "rank <= ceil(CAST(? AS DOUBLE) * scope)" if by == "share" else "rank <= ?"
    return f"""
        SELECT customer_id, value, rank AS seed_rank, scope FROM (
            SELECT m.customer_id, k.clv AS value,
                row_number() OVER (ORDER BY k.clv DESC, m.customer_id) AS rank,
                count(*) OVER () AS scope
            FROM ({scope_sql}) AS m
            JOIN customer_clv AS k ON k.customer_id = m.customer_id
            WHERE k.clv IS NOT NULL AND isfinite(k.clv)
        ) WHERE {cut}
    """


def export_query(
    platform: Platform, members_sql: str, params: list[Any], *, seed: bool = False
) -> ExportQuery:
    """The queries of one export.

    Parameters
    ----------
    platform
        The file format.
    members_sql
        A query with one row per member and a ``customer_id`` column (and ``value`` for seeds).
    params
        Parameters of ``members_sql``.
    seed
        Carry the members' ``value`` and ``seed_rank`` and order the file by rank (highest value
        first).
    """
    extra = ", m.value, m.seed_rank" if seed else ""
    people = ", ".join(f"c.{name}" for name in PEOPLE_COLUMNS)
    ids = platform.identifiers
    present = " OR ".join(f"{i}_state <> 'absent'" for i in ids)
    usable = " OR ".join(f"{i}_state = 'ok'" for i in ids)
    keys = ["SELECT customer_id, 'id:' || customer_id AS key FROM norm"]
    keys.append("SELECT customer_id, 'ad:' || email_key FROM norm WHERE email_key IS NOT NULL")
    keys.append("SELECT customer_id, 'ad:' || phone_e164 FROM norm WHERE phone_e164 IS NOT NULL")
    body = f"""
        WITH members AS ({members_sql}),
        people AS (
            SELECT {people}{extra} FROM customers AS c
            JOIN members AS m ON m.customer_id = c.customer_id
        ),
        norm AS ({normalised_sql(platform, "people")}),
        keys AS ({" UNION ALL ".join(keys)}),
        sup AS (
            SELECT k.customer_id, min(s.rank) AS rank
            FROM keys AS k JOIN {SUPPRESSED} AS s ON s.key = k.key
            GROUP BY k.customer_id
        ),
        status AS (
            SELECT n.*, CASE
                WHEN n.{CONSENT_COLUMN} IS NOT TRUE THEN 'consent'
                WHEN s.rank IS NOT NULL THEN 'sup' || CAST(s.rank AS VARCHAR)
                WHEN NOT ({present}) THEN 'none'
                WHEN NOT ({usable}) THEN 'unusable'
                ELSE 'ok'
            END AS status
            FROM norm AS n LEFT JOIN sup AS s ON s.customer_id = n.customer_id
        )
    """
    checked = "status IN ('ok', 'unusable')"
    report = f"""{body}
        SELECT status, count(*) AS people,
            count(*) FILTER (WHERE {checked} AND email_state = 'invalid') AS email_invalid,
            count(*) FILTER (WHERE {checked} AND phone_state = 'invalid') AS phone_invalid,
            count(*) FILTER (WHERE {checked} AND phone_state = 'no_country') AS phone_no_country
        FROM status GROUP BY status
    """
    order = "seed_rank" if seed else "customer_id"
    # sorted before hashing: the sort then holds the short normalised values, not six digests
    # per person, and the hashes are computed as the rows stream out in that order
    rows = f"""{body}
        SELECT {column_sql(platform, seed=seed)}
        FROM (SELECT * FROM status WHERE status = 'ok' ORDER BY {order})
    """
    return ExportQuery(report=report, rows=rows, params=list(params))
