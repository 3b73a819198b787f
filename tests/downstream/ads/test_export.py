"""Exports on the demo workspace: every platform's file, consent and suppression with their
counts, unusable identifiers counted (never lost), hostile filters, and seed lists that really
are the top CLV customers (checked against direct queries, hashed with hashlib)."""

from __future__ import annotations

import csv
import hashlib
import math
import re
from pathlib import Path

import duckdb
import pandas as pd
import phonenumbers
import pytest

from streamwise.downstream.audiences import FilterError
from streamwise.downstream.audiences.ads import export_audience, export_seed
from streamwise.downstream.audiences.suppression import suppress
from streamwise.errors import ConfigError
from streamwise.workspace import Workspace

SEGMENT = "Weekend Campers"
FILTER = f'segment = "{SEGMENT}"'
HEX = re.compile(r"^[0-9a-f]{64}$")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def rows(path: Path, header: bool = True) -> tuple[list[str] | None, list[list[str]]]:
    with path.open(newline="") as f:
        lines = list(csv.reader(f))
    return (lines[0], lines[1:]) if header else (None, lines)


def e164(phone: str, country: str) -> str:
    return phonenumbers.format_number(
        phonenumbers.parse(phone, country), phonenumbers.PhoneNumberFormat.E164
    )


def sql(ws: Workspace, statement: str) -> None:
    ws.duckdb().execute(statement)


@pytest.fixture
def clean(ws: Workspace) -> Workspace:
    """The copy without the suppressions the demo's recipients caused (the reference below
    follows consent alone)."""
    with ws.operational().begin() as conn:
        conn.exec_driver_sql("DELETE FROM suppressions")
    return ws


@pytest.mark.parametrize(
    ("platform", "header"),
    [
        ("meta", "email,phone,fn,ln,doby,country"),
        ("google", "Email,Phone"),
        ("tiktok", "Email_SHA256,Phone_SHA256"),
        ("linkedin", "email,firstname,lastname,jobtitle,employeecompany,country,googleaid"),
        ("x", None),
    ],
)
def test_every_platform_writes_its_format(
    clean: Workspace, customers: pd.DataFrame, tmp_path: Path, platform: str, header: str | None
) -> None:
    out = tmp_path / f"{platform}.csv"
    result = export_audience(clean, FILTER, platform, out)
    first = out.read_text().splitlines()[0]
    if header is None:
        assert HEX.match(first)  # X: a bare list, no header line
    else:
        assert first == header
    _, body = rows(out, header=header is not None)
    members = customers[customers["segment_name"] == SEGMENT]
    consenting = members[members["ads_consent"] == True]  # noqa: E712
    assert result.members == len(members)
    assert result.exported == len(body) == len(consenting)
    assert result.removed == {"no ads consent": len(members) - len(consenting)}
    assert result.members == result.exported + sum(result.removed.values())
    for row in body:
        assert HEX.match(row[0])
        assert all(HEX.match(v) or v == "" for v in row)
    in_order = consenting.sort_values("customer_id")["email"]
    expected = [sha(e.strip().lower()) for e in in_order]
    if platform != "google":  # Google's rule differs only for gmail addresses; none in the demo
        assert [r[0] for r in body] == expected  # one row per person, by customer id


def test_google_rows_match_a_reference_built_with_hashlib_and_phonenumbers(
    clean: Workspace, customers: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "google.csv"
    export_audience(clean, FILTER, "google", out)
    _, body = rows(out)
    members = customers[(customers["segment_name"] == SEGMENT) & customers["ads_consent"]]
    expected = {
        (sha(r.email.strip().lower()), sha(e164(r.phone, r.country))) for r in members.itertuples()
    }
    assert {tuple(r) for r in body} == expected


def test_consent_is_never_assumed(ws: Workspace, tmp_path: Path) -> None:
    first = "(SELECT customer_id FROM customers WHERE ads_consent ORDER BY customer_id LIMIT {})"
    sql(ws, "UPDATE customers SET ads_consent = NULL WHERE customer_id IN " + first.format(7))
    sql(ws, "UPDATE customers SET ads_consent = false WHERE customer_id IN " + first.format(5))
    n_true = (
        ws.duckdb().execute("SELECT count(*) FROM customers WHERE ads_consent").fetchall()[0][0]
    )
    total = ws.duckdb().execute("SELECT count(*) FROM customers").fetchall()[0][0]
    result = export_audience(ws, "customer_id is not null", "x", tmp_path / "all.txt")
    suppressed = sum(n for r, n in result.removed.items() if r.startswith("suppressed"))
    assert result.removed["no ads consent"] == total - n_true
    assert result.exported + suppressed == n_true  # the demo's unsubscribers stay out too
    # e-mail consent does not stand in for consent to ad matching
    sql(ws, "UPDATE customers SET email_consent = true, ads_consent = NULL")
    again = export_audience(ws, "customer_id is not null", "x", tmp_path / "none.txt")
    assert again.exported == 0
    assert again.removed == {"no ads consent": total}
    assert (tmp_path / "none.txt").read_text() == ""


def test_suppression_policy_and_counts(
    ws: Workspace, customers: pd.DataFrame, tmp_path: Path
) -> None:
    """The ads list stops matching whatever the reason; on other channels only complaints and
    unsubscribes do; entries match by address, phone or customer id."""
    chosen = (
        customers[(customers["segment_name"] == SEGMENT) & customers["ads_consent"]]
        .sort_values("customer_id")
        .head(7)
    )
    a, b, c, d, e, f, g = chosen.itertuples()
    before = export_audience(ws, FILTER, "x", tmp_path / "before.txt")
    suppress(ws, "ads", a.email.upper(), "manual")  # ads list: any reason, by address
    suppress(ws, "ads", "unknown@example.com", "hard_bounce", customer_id=b.customer_id)  # by id
    suppress(ws, "email", c.email, "complaint")  # a complaint on any channel
    suppress(ws, "email", d.email, "unsubscribe")  # an objection to marketing
    suppress(ws, "sms", e164(e.phone, e.country), "unsubscribe")  # matched by phone number
    suppress(ws, "email", f.email, "hard_bounce")  # deliverability only: still matched
    suppress(ws, "email", g.email, "manual")  # likewise
    suppress(ws, "ads", c.email, "manual")  # c: the complaint is the stronger reason
    out = tmp_path / "x.txt"
    result = export_audience(ws, FILTER, "x", out)
    _, body = rows(out, header=False)
    hashes = {r[0] for r in body}
    for person in (a, b, c, d, e):
        assert sha(person.email.lower()) not in hashes, person.customer_id
    for person in (f, g):
        assert sha(person.email.lower()) in hashes, person.customer_id
    added = {r: n - before.removed.get(r, 0) for r, n in result.removed.items()}
    assert {r: n for r, n in added.items() if n} == {
        "suppressed: complaint": 1,
        "suppressed: unsubscribed": 2,
        "suppressed: hard bounce": 1,
        "suppressed: manual": 1,
    }
    assert next(iter(result.removed)) == "no ads consent"  # rule order
    assert before.exported - result.exported == 5
    assert result.members == result.exported + sum(result.removed.values())
    table = result.to_frame()
    assert list(table.columns) == ["reason", "removed"]
    assert table["removed"].sum() == result.members - result.exported


def test_unusable_identifiers_are_counted_not_lost(ws: Workspace, tmp_path: Path) -> None:
    ids = [r[0] for r in ws.duckdb().execute(
        "SELECT customer_id FROM customers WHERE ads_consent ORDER BY customer_id LIMIT 6"
    ).fetchall()]  # fmt: skip
    updates = {
        ids[0]: "email = 'not-an-address', phone = NULL",  # nothing usable
        ids[1]: "email = NULL, phone = NULL",  # nothing at all
        ids[2]: "email = 'broken@', phone = '+16502531234'",  # the phone still matches
        ids[3]: "email = NULL, phone = '07700 900123', country = NULL",  # national, no country
        ids[4]: "email = NULL, phone = '07700 900123', country = 'GB'",  # national, GB
        ids[5]: "phone = '12'",  # e-mail fine, phone too short
    }
    for cid, assignment in updates.items():
        sql(ws, f"UPDATE customers SET {assignment} WHERE customer_id = '{cid}'")
    audience = "customer_id in (" + ", ".join(f'"{i}"' for i in ids) + ")"
    out = tmp_path / "meta.csv"
    result = export_audience(ws, audience, "meta", out)
    assert result.members == 6
    assert result.exported == 3  # ids 2, 4, 5
    assert result.removed == {
        "no e-mail address or phone number": 1,
        "no usable e-mail address or phone number": 2,
    }
    assert result.unusable == {
        "invalid e-mail address": 2,
        "invalid phone number": 1,
        "national phone number of a customer without a country": 1,
    }
    _, body = rows(out)
    phones = {r[1] for r in body}
    assert sha("16502531234") in phones
    assert sha("447700900123") in phones
    # X matches on e-mail only: the phone-only customers are left out for want of an address
    x = export_audience(ws, audience, "x", tmp_path / "x.txt")
    assert x.exported == 1
    assert x.removed == {"no e-mail address": 3, "no usable e-mail address": 2}


@pytest.mark.parametrize(
    "hostile",
    [
        'segment = "x"; DROP TABLE customers; --',
        "segment = 'x' OR 1=1",
        "customer_id = customer_id",
        "1 = 1",
        'segment = "x" union select email from customers',
    ],
)
def test_hostile_filters_are_rejected(ws: Workspace, tmp_path: Path, hostile: str) -> None:
    out = tmp_path / "hostile.csv"
    with pytest.raises(FilterError):
        export_audience(ws, hostile, "meta", out)
    assert not out.exists()
    assert ws.duckdb().execute("SELECT count(*) FROM customers").fetchall()[0][0] == 1500


def test_quotes_in_a_filter_value_stay_a_value(ws: Workspace, tmp_path: Path) -> None:
    text = "segment = \"x' OR '1'='1\" or first_name = \"Robert'); DROP TABLE customers;--\""
    result = export_audience(ws, text, "google", tmp_path / "g.csv")
    assert result.members == 0
    assert ws.duckdb().execute("SELECT count(*) FROM customers").fetchall()[0][0] == 1500


def _top(customers: pd.DataFrame, k: int, scope: pd.DataFrame | None = None) -> pd.DataFrame:
    frame = customers if scope is None else scope
    ranked = frame.dropna(subset=["clv"]).sort_values(["clv", "customer_id"],
                                                       ascending=[False, True])  # fmt: skip
    return ranked.head(k)


def test_seed_is_the_top_share_by_clv(
    clean: Workspace, customers: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "seed.csv"
    result = export_seed(clean, "meta", out, share=0.1)
    k = math.ceil(0.1 * customers["clv"].notna().sum())
    top = _top(customers, k)
    consenting = top[top["ads_consent"] == True]  # noqa: E712
    assert result.scope == customers["clv"].notna().sum()
    assert result.members == k
    assert result.exported == len(consenting)
    assert result.removed == {"no ads consent": k - len(consenting)}
    header, body = rows(out)
    assert header == ["email", "phone", "fn", "ln", "doby", "country", "value"]
    assert [r[0] for r in body] == [sha(e.lower()) for e in consenting["email"]]  # in CLV order
    values = [float(r[-1]) for r in body]
    assert values == pytest.approx(consenting["clv"].round(2).tolist(), abs=0.006)
    assert values == sorted(values, reverse=True)
    # the cut-off: nobody left out of the seed is worth more than anybody in it
    assert customers["clv"].drop(top.index).max() <= top["clv"].min()


def test_seed_within_a_segment_by_count_against_a_direct_query(
    clean: Workspace, ws_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "seed.csv"
    result = export_seed(clean, "tiktok", out, count=40, within=FILTER)
    clean.close()
    con = duckdb.connect(str(ws_root / "analytics.duckdb"), read_only=True)
    try:
        direct = con.execute(
            "SELECT c.email, c.ads_consent FROM customers c "
            "JOIN customer_clv k USING (customer_id) "
            "JOIN customer_segments s USING (customer_id) "
            "JOIN segment_clusters n ON n.cluster = s.segment "
            "WHERE n.segment = ? AND k.clv IS NOT NULL "
            "ORDER BY k.clv DESC, c.customer_id LIMIT 40",
            [SEGMENT],
        ).fetchall()
    finally:
        con.close()
    expected = [sha(email.lower()) for email, consent in direct if consent]
    header, body = rows(out)
    assert header == ["Email_SHA256", "Phone_SHA256"]  # no value column: TikTok has none
    assert [r[0] for r in body] == expected
    assert result.members == 40
    assert result.exported == len(expected)


def test_seed_with_a_persona_of_the_plan(ws: Workspace, tmp_path: Path) -> None:
    by_persona = export_seed(ws, "x", tmp_path / "a.txt", share=0.2, within='persona = "Wendy"')
    by_segment = export_seed(ws, "x", tmp_path / "b.txt", share=0.2, within=FILTER)
    assert (tmp_path / "a.txt").read_text() == (tmp_path / "b.txt").read_text()
    assert by_persona.scope == by_segment.scope > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "share .* or a count"),
        ({"share": 0.1, "count": 5}, "not both"),
        ({"share": 1.5}, r"\(0, 1\]"),
        ({"share": 0.0}, r"\(0, 1\]"),
        ({"count": 0}, "at least 1"),
    ],
)
def test_seed_size_is_checked(ws: Workspace, tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        export_seed(ws, "meta", tmp_path / "s.csv", **kwargs)


def test_seed_needs_clv(ws: Workspace, tmp_path: Path) -> None:
    sql(ws, "DROP TABLE customer_clv")
    with pytest.raises(ConfigError, match="streamwise customers clv"):
        export_seed(ws, "meta", tmp_path / "s.csv", share=0.1)


def test_a_workspace_without_ads_consent_is_refused(ws: Workspace, tmp_path: Path) -> None:
    sql(ws, "ALTER TABLE customers DROP COLUMN ads_consent")
    with pytest.raises(ConfigError, match="streamwise init WORKSPACE"):
        export_audience(ws, FILTER, "meta", tmp_path / "m.csv")
    assert not (tmp_path / "m.csv").exists()
    ws.upgrade()  # what `streamwise init` does: the column comes back, empty (= no consent)
    result = export_audience(ws, FILTER, "meta", tmp_path / "m.csv")
    assert result.exported == 0
    assert result.members > 0


def test_an_existing_file_is_replaced_whole(ws: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "m.csv"
    out.write_text("old\n" * 10_000)
    result = export_audience(ws, FILTER, "google", out)
    assert len(out.read_text().splitlines()) == result.exported + 1
    assert not list(tmp_path.glob(".*partial"))


def test_progress_reports_every_row(ws: Workspace, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    result = export_audience(ws, "customer_id is not null", "meta", tmp_path / "m.csv",
                             progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    assert seen[-1] == (result.exported, result.exported)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
