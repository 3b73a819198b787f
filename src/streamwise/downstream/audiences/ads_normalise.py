"""Normalise and hash customers' identifiers for ad platforms, in SQL run by DuckDB.

Everything happens in the analytics database, so ten million customers never pass through
pandas. :func:`normalised_sql` turns a relation of people (``customer_id, email, phone,
first_name, last_name, country, birth_year``) into their normalised identifiers and the state of
each (``ok``, ``absent``, ``invalid``, ``no_country``); :func:`column_sql` hashes them per
platform with DuckDB's ``sha256`` (lower-case hex, as every platform asks).

Phone numbers become E.164 the way libphonenumber reads a number dialled in the customer's
country: ``+`` or the country's international prefix (``00``, ``011`` ...) starts an
international number; otherwise the national (trunk) prefix is dropped and the country's calling
code put in front. The country table (:func:`calling_codes`) comes from the ``phonenumbers``
package's metadata; the rest is SQL. A national number whose length no number of the country has
is refused. Countries whose trunk prefix depends on the area (Argentina, Brazil, Mexico) are only
read right when the number is written internationally.

Every SQL fragment here is built from this module's constants and :mod:`.ads_platforms`, never
from input.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import duckdb
import pyarrow as pa

from streamwise.downstream.audiences.ads_platforms import Field, Platform

__all__ = [
    "CODES",
    "EMAIL_PATTERN",
    "IDENTIFIER_STATES",
    "arrow_reader",
    "calling_codes",
    "column_sql",
    "normalise_frame",
    "normalised_sql",
]

#: Name under which :func:`calling_codes` is registered on the connection.
CODES = "_sw_ads_calling_codes"
#: What an e-mail address must look like after normalisation (as the campaign rules check it).
EMAIL_PATTERN = r"[^@\s\"'<>(),;:\\\[\]]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)+"
#: States of an identifier: usable, missing, malformed, or a national phone number of a customer
#: without a (known) country.
IDENTIFIER_STATES = ("ok", "absent", "invalid", "no_country")
_TRIM = r"regexp_replace({0}, '^\s+|\s+$', '', 'g')"


@functools.lru_cache(maxsize=1)
def calling_codes() -> pa.Table:
    """One row per region of ``phonenumbers``: ``country`` (ISO 3166-1 alpha-2),
    ``calling_code``, ``national_prefix`` (trunk prefix, e.g. ``0``; ``1`` in North America),
    ``international_prefix`` (when it is a plain digit string, e.g. ``00`` or ``011``) and the
    shortest and longest national significant number (``min_length``, ``max_length``)."""
    import phonenumbers  # a large package; only exports need it

    rows: dict[str, list[Any]] = {
        "country": [],
        "calling_code": [],
        "national_prefix": [],
        "international_prefix": [],
        "min_length": [],
        "max_length": [],
    }
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if meta is None:  # pragma: no cover - every supported region has metadata
            continue
        intl = meta.international_prefix or ""
        lengths = [n for n in (meta.general_desc.possible_length or ()) if n > 0]
        rows["country"].append(region)
        rows["calling_code"].append(str(phonenumbers.country_code_for_region(region)))
        rows["national_prefix"].append(meta.national_prefix or None)
        rows["international_prefix"].append(intl if re.fullmatch(r"\d+", intl) else None)
        rows["min_length"].append(min(lengths) if lengths else None)
        rows["max_length"].append(max(lengths) if lengths else None)
    return pa.table(
        rows,
        schema=pa.schema(
            [
                ("country", pa.string()),
                ("calling_code", pa.string()),
                ("national_prefix", pa.string()),
                ("international_prefix", pa.string()),
                ("min_length", pa.int32()),
                ("max_length", pa.int32()),
            ]
        ),
    )


def arrow_reader(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None, rows: int = 100_000
) -> pa.RecordBatchReader:
    """Stream a query's result as Arrow record batches of ``rows`` rows (bounded memory)."""
    relation = con.sql(sql, params=params)
    method = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader  # DuckDB 1
    return method(rows)  # type: ignore[no-any-return]


def _sql_text(text: str) -> str:
    """``text`` as the body of a SQL string literal (quotes doubled)."""
    return text.replace("'", "''")


def _email_rule(platform: Platform) -> str:
    key = "email_key"
    if platform.email_rule == "gmail_dots":
        return (
            f"CASE WHEN split_part({key}, '@', 2) IN ('gmail.com', 'googlemail.com') "
            f"THEN replace(split_part({key}, '@', 1), '.', '') || '@' || split_part({key}, '@', 2) "
            f"ELSE {key} END"
        )
    if platform.email_rule == "drop_plus":
        return rf"regexp_replace({key}, '^([^@+]*)\+[^@]*@', '\1@')"
    return key


def _name(column: str) -> str:
    trimmed = _TRIM.format(f"CAST({column} AS VARCHAR)")
    letters = r"'[^\p{L}\p{M}]'"  # keep letters and their marks (accents), any script
    return f"nullif(regexp_replace(lower(nfc_normalize({trimmed})), {letters}, '', 'g'), '')"


def normalised_sql(platform: Platform, source: str = "people") -> str:
    """A query over the relation ``source`` giving each person's normalised identifiers.

    ``source`` must have ``customer_id, email, phone, first_name, last_name, country,
    birth_year`` (extra columns are kept) and :data:`CODES` must be registered. The result adds
    ``email_key`` (trimmed, lower-case: what suppression lists hold), ``email_n`` (after the
    platform's rule), ``email_state``, ``phone_e164``, ``phone_state``, ``first_name_n``,
    ``last_name_n``, ``country_n``, ``birth_year_n``. ``source`` is a name from code.
    """
    phone = "regexp_replace(coalesce(CAST(p.phone AS VARCHAR), ''), '[^0-9+]', '', 'g')"
    stage1 = f"""
        SELECT p.*,
            nullif(lower({_TRIM.format("CAST(p.email AS VARCHAR)")}), '') AS email_key,
            nullif({_TRIM.format("CAST(p.phone AS VARCHAR)")}, '') AS _phone_raw,
            {phone} AS _phone_chars,
            k.calling_code AS _cc, k.national_prefix AS _np,
            coalesce(k.international_prefix, '00') AS _ip,
            k.min_length AS _min, k.max_length AS _max
        FROM {source} AS p
        LEFT JOIN {CODES} AS k ON k.country = upper({_TRIM.format("CAST(p.country AS VARCHAR)")})
    """
    national = (
        "CASE WHEN _np IS NOT NULL AND starts_with(_phone_chars, _np) "
        "THEN substr(_phone_chars, length(_np) + 1) ELSE _phone_chars END"
    )
    stage2 = f"""
        SELECT *,
            {_email_rule(platform)} AS email_n,
            CASE
                WHEN _phone_raw IS NULL THEN NULL
                WHEN starts_with(_phone_chars, '+') THEN
                    regexp_replace(_phone_chars, '[^0-9]', '', 'g')
                WHEN _phone_chars <> '' AND starts_with(_phone_chars, _ip) THEN
                    substr(_phone_chars, length(_ip) + 1)
                WHEN _phone_chars = '' THEN ''
                WHEN _cc IS NULL THEN NULL
                WHEN _min IS NOT NULL
                    AND NOT length({national}) BETWEEN _min AND _max THEN ''
                ELSE _cc || {national}
            END AS _phone_digits
        FROM ({stage1})
    """
    country = f"lower({_TRIM.format('CAST(country AS VARCHAR)')})"
    return f"""
        SELECT * EXCLUDE (_phone_raw, _phone_chars, _cc, _np, _ip, _min, _max, _phone_digits),
            CASE
                WHEN email_key IS NULL THEN 'absent'
                WHEN length(email_n) <= 254
                    AND regexp_full_match(email_n, '{_sql_text(EMAIL_PATTERN)}') THEN 'ok'
                ELSE 'invalid'
            END AS email_state,
            CASE WHEN regexp_full_match(_phone_digits, '[1-9][0-9]{{6,14}}')
                THEN '+' || _phone_digits END AS phone_e164,
            CASE
                WHEN _phone_raw IS NULL THEN 'absent'
                WHEN _phone_digits IS NULL THEN 'no_country'
                WHEN regexp_full_match(_phone_digits, '[1-9][0-9]{{6,14}}') THEN 'ok'
                ELSE 'invalid'
            END AS phone_state,
            {_name("first_name")} AS first_name_n,
            {_name("last_name")} AS last_name_n,
            CASE WHEN regexp_full_match({country}, '[a-z]{{2}}') THEN {country} END AS country_n,
            CASE WHEN TRY_CAST(birth_year AS BIGINT) BETWEEN 1900 AND year(current_date)
                THEN CAST(TRY_CAST(birth_year AS BIGINT) AS VARCHAR) END AS birth_year_n
        FROM ({stage2})
    """


def _value(field: Field, platform: Platform) -> str:
    if field == "email":
        return "CASE WHEN email_state = 'ok' THEN email_n END"
    if field == "phone":
        digits = "phone_e164" if platform.phone_format == "e164" else "substr(phone_e164, 2)"
        return f"CASE WHEN phone_state = 'ok' THEN {digits} END"
    if field == "value":
        return "round(greatest(CAST(value AS DOUBLE), 0), 2)"
    if field == "blank":
        return "CAST(NULL AS VARCHAR)"
    return f"{field}_n"


def column_sql(platform: Platform, *, seed: bool = False, hashed: bool = True) -> str:
    """The select list of the platform's file over :func:`normalised_sql`'s columns: each
    identifier normalised and (with ``hashed``, the default) SHA-256 hashed, aliased to the
    platform's header; the value column last for seed lists where the platform has one.
    ``hashed=False`` shows the normalised values instead (for checks; never upload them)."""
    parts = []
    for col in platform.columns:
        expr = _value(col.field, platform)
        if col.hashed and hashed:
            expr = f"sha256({expr})"
        parts.append(f'{expr} AS "{col.header}"')
    if seed and platform.value_header:
        parts.append(f'{_value("value", platform)} AS "{platform.value_header}"')
    return ", ".join(parts)


def normalise_frame(people: Any, platform: Platform, *, hashed: bool = True) -> pa.Table:
    """Normalise (and hash) a small table of people in an in-memory DuckDB: the same SQL the
    export runs, for previews and tests.

    Parameters
    ----------
    people
        A pandas frame or Arrow table with ``customer_id, email, phone, first_name, last_name,
        country, birth_year`` (missing columns are taken as empty).
    platform
        The platform whose rules apply.
    hashed
        Hash the identifiers (default) or show them normalised.

    Returns
    -------
    pyarrow.Table
        ``customer_id``, ``email_state``, ``phone_state`` and the platform's columns.
    """
    table = people if isinstance(people, pa.Table) else pa.Table.from_pandas(people)
    for name in ("email", "phone", "first_name", "last_name", "country", "birth_year"):
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(len(table), pa.string()))
    con = duckdb.connect()
    try:
        con.register("people", table)
        con.register(CODES, calling_codes())
        sql = (
            f"SELECT customer_id, email_state, phone_state, {column_sql(platform, hashed=hashed)} "
            f"FROM ({normalised_sql(platform)}) ORDER BY customer_id"
        )
        return arrow_reader(con, sql).read_all()
    finally:
        con.close()
