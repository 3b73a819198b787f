"""``/plans``: list, latest and given versions, saving a new version."""

from __future__ import annotations

import json
from urllib.parse import quote

from streamwise.plan.store import plan_versions

PLAN = "/plans/" + quote("Marketing plan")


def test_list_has_the_demo_plan_with_its_latest_version(api) -> None:
    r = api.get("/plans", scope="read")
    assert r.status_code == 200
    [plan] = r.json()["items"]
    assert plan["name"] == "Marketing plan"
    assert plan["versions"] == 2  # built, then measured by the demo's feedback run
    assert plan["latest"]["version"] == 2
    assert len(plan["latest"]["content_hash"]) == 64


def test_latest_and_given_version_carry_the_document(api) -> None:
    latest = api.get(PLAN, scope="read")
    assert latest.status_code == 200
    doc = latest.json()["document"]
    assert doc["name"] == "Marketing plan"
    assert doc["personas"]
    assert doc["measurement"]["kpis"]  # the demo's measurement run
    assert api.get(f"{PLAN}/versions/2", scope="read").json() == latest.json()
    assert api.get(f"{PLAN}/versions/1", scope="read").json()["document"]["measurement"] is None
    versions = api.get(f"{PLAN}/versions", scope="read").json()["items"]
    assert [v["version"] for v in versions] == [1, 2]


def test_unknown_plan_or_version_is_404(api) -> None:
    r = api.get("/plans/nope", scope="read")
    assert r.status_code == 404
    assert "Marketing plan" in r.json()["detail"]  # says which plans exist
    missing = api.get(f"{PLAN}/versions/7", scope="read")
    assert missing.status_code == 404
    assert "versions are 1–2" in missing.json()["detail"]
    assert api.get("/plans/nope/versions", scope="read").status_code == 404
    assert api.get(f"{PLAN}/versions/0", scope="read").status_code == 422


def test_save_adds_a_version_with_the_key_as_author(api) -> None:
    doc = api.get(PLAN, scope="read").json()["document"]
    doc["summary"] = "A sharper summary."
    r = api.post("/plans", json={"document": doc, "note": "sharpened"})
    assert r.status_code == 201, r.text
    saved = r.json()
    assert saved["version"] == 3
    assert saved["author"] == "api key test admin"
    assert saved["note"] == "sharpened"
    assert [v.version for v in plan_versions(api.workspace.operational())] == [1, 2, 3]
    assert api.get(PLAN, scope="read").json()["document"]["summary"] == "A sharper summary."
    again = api.post("/plans", json={"document": doc})
    assert again.status_code == 200  # unchanged: nothing saved
    assert again.json()["version"] == 3


def test_save_a_new_plan_name_starts_at_version_1(api) -> None:
    doc = api.get(PLAN, scope="read").json()["document"]
    doc["name"] = "Plan B"
    r = api.post("/plans", json={"document": doc})
    assert r.status_code == 201
    assert r.json()["version"] == 1
    names = [p["name"] for p in api.get("/plans", scope="read").json()["items"]]
    assert names == ["Plan B", "Marketing plan"]  # most recently saved first


def test_save_refuses_invalid_documents_and_read_keys(api) -> None:
    doc = api.get(PLAN, scope="read").json()["document"]
    assert api.post("/plans", scope="read", json={"document": doc}).status_code == 403
    broken = {**doc, "currency": 3}
    r = api.post("/plans", json={"document": broken})
    assert r.status_code == 422
    assert any(e["field"].startswith("document.currency") for e in r.json()["errors"])
    assert api.post("/plans", json={"document": doc, "note": "x" * 2001}).status_code == 422
    assert api.post("/plans", json={"note": "no document"}).status_code == 422
    assert len(plan_versions(api.workspace.operational())) == 2


def test_a_nan_in_a_saved_plan_becomes_null(api) -> None:
    doc = api.get(PLAN, scope="read").json()["document"]
    text = json.dumps({"document": {**doc, "inputs": {"bad": float("nan")}}})  # a NaN literal
    r = api.post("/plans", content=text, headers={"Content-Type": "application/json"})
    assert r.status_code == 201
    assert api.get(PLAN, scope="read").json()["document"]["inputs"] == {"bad": None}
