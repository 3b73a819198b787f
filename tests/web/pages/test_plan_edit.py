"""Plan versions, differences and editing goals and KPIs through the real app."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.web.pages import conftest as H  # noqa: N812 (importlib mode: by dotted path)

from streamwise.errors import StreamwiseError
from streamwise.plan.store import load_plan_version, plan_versions
from streamwise.store.db import session_factory
from streamwise.store.models import AuditEntry
from streamwise.web.pages.plan_edit import edited_plan


def _engine(client: TestClient) -> Any:
    return client.app.state.engine  # type: ignore[attr-defined]


def test_versions_page_shows_the_difference_between_versions(client: TestClient) -> None:
    H.sign_in(client, "sales")
    page = client.get("/app/plan/versions")
    assert page.status_code == 200
    assert "after the first measurement" in page.text  # the notes of the versions
    assert "Version 1 → version 2" in page.text
    assert "<code>summary</code>" in page.text  # what the second version changed
    assert "Now with repairs." in page.text
    assert "Edit goals and KPIs" not in page.text  # sales does not edit the plan
    same = client.get("/app/plan/versions?a=2&b=2")
    assert "No differences." in same.text
    assert client.get("/app/plan/versions?a=1&b=9").status_code == 404


def test_an_edit_saves_a_new_version_and_shows_what_changed(client: TestClient) -> None:
    H.sign_in(client, "product")
    engine = _engine(client)
    info, doc = load_plan_version(engine)
    kpi, goal = doc.kpis[0], doc.goals[0]
    other = next(t for t in ("product", "sales", "marketing") if t != goal.owner)
    form = {"csrf_token": H.csrf_of(client, "/app/plan/edit"), "base": str(info.version),
            f"kpi.{kpi.id}.target": str(kpi.target * 2), f"goal.{goal.id}.owner": other,
            "note": "stretch target"}  # fmt: skip
    response = client.post("/app/plan/edit", data=form)
    assert response.status_code == 303, response.text
    new_info, new_doc = load_plan_version(engine)
    assert new_info.version == info.version + 1
    assert new_info.author == "product"
    assert new_info.note == "stretch target"
    assert new_doc.kpis[0].target == pytest.approx(kpi.target * 2)
    assert new_doc.goals[0].owner == other
    assert new_doc.kpis[1:] == doc.kpis[1:]  # nothing else moved
    shown = client.get(response.headers["location"]).text
    assert f"kpis[{kpi.id}].target" in shown or "target" in shown
    assert "Saved version" in shown
    with session_factory(engine)() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "plan.edit")).one()
    assert entry.actor == "product"
    assert len(entry.detail["changed"]) == 2


def test_an_edit_over_a_newer_version_is_refused(client: TestClient) -> None:
    H.sign_in(client, "marketing")
    engine = _engine(client)
    versions = len(plan_versions(engine))
    stale = client.post("/app/plan/edit", data={"csrf_token": H.csrf_of(client), "base": "1",
                                                "summary": "mine"})  # fmt: skip
    assert stale.status_code == 409
    assert "Someone saved version 2" in stale.text
    assert len(plan_versions(engine)) == versions


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("target", "lots", "is not a number"),
        ("target", "nan", "finite"),
        ("owner", "finance", "is not a team"),
        ("due", "next spring", "is not a date"),
    ],
)
def test_wrong_values_name_the_field_and_save_nothing(
    client: TestClient, field: str, value: str, says: str
) -> None:
    H.sign_in(client, "admin")
    engine = _engine(client)
    info, doc = load_plan_version(engine)
    key = f"kpi.{doc.kpis[0].id}.{field}"
    form = {"csrf_token": H.csrf_of(client), "base": str(info.version), key: value}
    response = client.post("/app/plan/edit", data=form)
    assert response.status_code == 422
    assert key in response.text
    assert says in response.text
    assert load_plan_version(engine)[0].version == info.version


def test_sales_may_not_edit_the_plan(client: TestClient) -> None:
    H.sign_in(client, "sales")
    assert client.get("/app/plan/edit").status_code == 403
    refused = client.post("/app/plan/edit", data={"csrf_token": H.csrf_of(client), "base": "2"})
    assert refused.status_code == 403


def test_an_unchanged_form_saves_no_version(client: TestClient) -> None:
    H.sign_in(client, "product")
    engine = _engine(client)
    info, _ = load_plan_version(engine)
    response = client.post("/app/plan/edit", data={"csrf_token": H.csrf_of(client),
                                                   "base": str(info.version)})  # fmt: skip
    assert "Nothing%20changed" in response.headers["location"]
    assert load_plan_version(engine)[0].version == info.version


def test_edited_plan_rejects_an_unknown_team() -> None:
    doc = H._make_plan()
    with pytest.raises(StreamwiseError, match="not a team"):
        edited_plan(doc, {f"goal.{doc.goals[0].id}.owner": "legal"})
