"""``/audiences``: previews (size, removals by reason, ids) and the field list; hostile filters."""

from __future__ import annotations

import duckdb
import pytest

from streamwise.downstream.audiences import FIELDS, suppress

WEEKEND = 'segment = "Weekend Campers"'


def test_preview_counts_members_kept_and_removed_by_reason(api) -> None:
    r = api.post("/audiences/preview", scope="read", json={"filter": WEEKEND, "limit": 5})
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["population"] == 300
    assert 0 < p["members"] < p["population"]
    assert p["kept"] + p["removed"] == p["members"]
    assert sum(p["reasons"].values()) == p["removed"]
    assert p["reasons"]["no e-mail consent"] > 0
    assert len(p["customer_ids"]) == 5
    assert p["customer_ids"] == sorted(p["customer_ids"])
    assert "@" not in r.text  # ids, never addresses


def test_preview_reports_suppressed_and_frequency_capped_people(api) -> None:
    first = api.post("/audiences/preview", scope="read", json={"filter": WEEKEND, "limit": 1000})
    kept = first.json()["customer_ids"]
    con = duckdb.connect(str(api.workspace.analytics_path), read_only=True)
    try:
        holders = con.execute(
            "select lower(email), customer_id from customers where lower(email) in "
            "(select lower(email) from customers where customer_id in (select unnest(?)))",
            [kept],
        ).fetchall()
    finally:
        con.close()
    # The sample has people who share an address (a household): all of them go. Pick an address
    # whose holders all came back in the (limited) preview, so the count is known.
    by_address: dict[str, list[str]] = {}
    for address, customer in holders:
        by_address.setdefault(address, []).append(str(customer))
    address, sharing = next(
        (a, ids) for a, ids in by_address.items() if set(ids) <= set(map(str, kept))
    )
    assert sharing
    suppress(api.workspace.operational(), "email", address, "unsubscribe")
    second = api.post("/audiences/preview", scope="read", json={"filter": WEEKEND}).json()
    # the demo's recipients may have unsubscribed already (their reactions are random)
    before = first.json()["reasons"].get("suppressed: unsubscribed", 0)
    assert second["reasons"]["suppressed: unsubscribed"] == before + len(sharing)
    assert second["kept"] == first.json()["kept"] - len(sharing)
    capped = api.post(
        "/audiences/preview", scope="read",
        json={"filter": WEEKEND, "frequency_cap": [1, 30], "limit": 1000},
    ).json()  # fmt: skip
    # The demo sent its Weekend Campers campaign a moment ago: everyone sent is over a 1/30 cap.
    assert capped["reasons"]["frequency cap: 1 in 30 days"] > 0
    assert capped["kept"] < second["kept"]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('segmnt = "x"', "did you mean 'segment'"),
        ("clv >= 'lots'", "clv is number"),
        ("(" * 200 + "clv > 1" + ")" * 200, "nest"),
        ('country = "GB" or ' * 600 + 'country = "GB"', ""),
        ('country = "GB"; drop table customers', ""),
        ("", ""),
        ("\x00\ud7ff", ""),
    ],
)
def test_hostile_filters_are_422_problems(api, text: str, where: str) -> None:
    r = api.post("/audiences/preview", scope="read", json={"filter": text})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"].endswith(("/invalid-filter", "/validation"))
    assert where in body["detail"]


def test_too_long_filter_and_bad_cap_are_422(api) -> None:
    long = api.post("/audiences/preview", scope="read", json={"filter": "x" * 10_001})
    assert long.status_code == 422
    assert long.json()["errors"][0]["field"] == "filter"
    cap = api.post("/audiences/preview", scope="read",
                   json={"filter": WEEKEND, "frequency_cap": [0, 7]})  # fmt: skip
    assert cap.status_code == 422
    assert "frequency cap" in cap.json()["detail"]
    assert api.post("/audiences/preview", scope="read", json={}).status_code == 422


def test_unknown_filter_error_has_line_and_column(api) -> None:
    r = api.post("/audiences/preview", scope="read", json={"filter": 'clv > 1 and\ncolor = "red"'})
    body = r.json()
    assert r.status_code == 422
    assert (body["line"], body["column"]) == (2, 1)


def test_preview_needs_a_key(api) -> None:
    assert api.post("/audiences/preview", scope=None, json={"filter": WEEKEND}).status_code == 401
    r = api.post("/audiences/preview", scope="ingest", json={"filter": WEEKEND})
    assert r.status_code == 403


def test_fields_lists_every_field_with_availability(api) -> None:
    r = api.get("/audiences/fields", scope="read")
    assert r.status_code == 200
    items = {f["name"]: f for f in r.json()["items"]}
    assert list(items) == [f.name for f in FIELDS]
    assert items["segment"]["available"] is True
    assert items["segment"]["hint"] is None
    assert items["clv"]["type"] == "number"


def test_fields_says_what_to_run_in_an_empty_workspace(tmp_path) -> None:
    from fastapi.testclient import TestClient

    from streamwise.web.app import create_app
    from streamwise.web.auth import create_key
    from streamwise.workspace import Workspace

    ws = Workspace.init(tmp_path / "empty", demo=True)
    _, key = create_key(ws.operational(), "r", "read")
    ws.close()
    with TestClient(create_app(tmp_path / "empty")) as client:
        r = client.get("/audiences/fields", headers={"Authorization": f"Bearer {key}"})
        p = client.post("/audiences/preview", headers={"Authorization": f"Bearer {key}"},
                        json={"filter": "clv > 100"})  # fmt: skip
    items = {f["name"]: f for f in r.json()["items"]}
    assert items["clv"]["available"] is False
    assert "streamwise customers clv" in items["clv"]["hint"]
    assert p.status_code == 422
    assert "streamwise customers clv" in p.json()["detail"]


def test_preview_is_503_while_another_process_writes_the_analytics_file(api) -> None:
    import subprocess
    import sys

    path = str(api.workspace.analytics_path)
    holder = subprocess.Popen(  # another process holds the file for writing (as an import does)
        [sys.executable, "-c", "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); "
         "print('ok', flush=True); time.sleep(60)", path],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ok"
        r = api.post("/audiences/preview", scope="read", json={"filter": WEEKEND})
        assert r.status_code == 503
        assert r.headers["retry-after"] == "5"
    finally:
        holder.kill()
        holder.wait()
    assert api.post("/audiences/preview", scope="read", json={"filter": WEEKEND}).status_code == 200
