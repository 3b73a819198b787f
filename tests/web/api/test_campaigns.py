"""``/campaigns``: list, read, create and the lifecycle moves, with their errors."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from streamwise.downstream.campaigns.service import run_due
from streamwise.store.db import session_factory
from streamwise.store.models import Campaign


def test_list_shows_the_demo_campaigns_newest_first(api) -> None:
    r = api.get("/campaigns", scope="read")
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 2
    ids = [c["id"] for c in body["items"]]
    assert ids == sorted(ids, reverse=True)
    assert {c["state"] for c in body["items"]} == {"done"}
    assert "settings" not in body["items"][0]


def test_list_filters_by_state_and_pages(api) -> None:
    assert api.get("/campaigns?state=draft", scope="read").json() == {"total": 0, "items": []}
    page = api.get("/campaigns?limit=1&offset=1", scope="read").json()
    assert page["total"] == 2
    assert len(page["items"]) == 1
    assert page["items"][0]["id"] == 1
    bad = api.get("/campaigns?state=flying", scope="read")
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["field"] == "state"


def test_get_has_ledger_counts_plan_version_and_next_moves(api) -> None:
    r = api.get("/campaigns/1", scope="read")
    assert r.status_code == 200
    c = r.json()
    assert c["plan_version_id"] == 1
    assert c["persona"]
    assert c["goal"]
    assert c["ledger"]["sent"] > 0
    assert c["ledger"]["held_out"] > 0
    assert c["next"] == {}  # done: nothing more
    assert c["settings"]["sender"]["domain"] == "northwind.example"


def test_get_unknown_campaign_is_404(api) -> None:
    r = api.get("/campaigns/999", scope="read")
    assert r.status_code == 404
    assert r.json()["type"].endswith("/no-such-campaign")


def test_create_makes_a_draft_and_hides_secrets(api, campaign_body) -> None:
    r = api.post("/campaigns", json=campaign_body("spring", persona="Wendy", plan_version_id=1))
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["state"] == "draft"
    assert c["name"] == "spring"
    assert c["plan_version_id"] == 1
    assert c["ledger"] == {}
    assert c["next"] == {"schedule": "scheduled", "send": "sending", "cancel": "cancelled"}
    channel = c["settings"]["channel"]
    assert channel["password"] == "(redacted)"
    assert channel["host"] == "127.0.0.1"
    assert "hunter2" not in r.text
    assert api.get(f"/campaigns/{c['id']}", scope="read").json()["name"] == "spring"


def test_create_twice_is_409(api, campaign_body) -> None:
    assert api.post("/campaigns", json=campaign_body("twice")).status_code == 201
    r = api.post("/campaigns", json=campaign_body("twice"))
    assert r.status_code == 409
    assert "exists already" in r.json()["detail"]


def test_create_refuses_bad_input_with_422(api, campaign_body) -> None:
    bad_filter = api.post("/campaigns", json=campaign_body(audience='segmnt = "x"'))
    assert bad_filter.status_code == 422
    assert bad_filter.json()["type"].endswith("/invalid-filter")
    assert "did you mean 'segment'" in bad_filter.json()["detail"]
    no_variant = campaign_body()
    no_variant["settings"]["variants"] = {}
    assert api.post("/campaigns", json=no_variant).status_code == 422
    plain_http = campaign_body()
    plain_http["settings"]["tracking_base_url"] = "http://t.shop.example"
    r = api.post("/campaigns", json=plain_http)
    assert r.status_code == 422
    assert any(e["field"] == "settings.tracking_base_url" for e in r.json()["errors"])
    assert api.post("/campaigns", json=campaign_body(channel="pigeon")).status_code == 422
    r = api.post("/campaigns", json=campaign_body(plan_version_id=99))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "plan_version_id"
    assert api.post("/campaigns", json=campaign_body(name="   ")).status_code == 422
    assert api.post("/campaigns", json=campaign_body(extra=1)).status_code == 422
    assert api.get("/campaigns?state=draft", scope="read").json()["total"] == 0


def test_writes_need_the_admin_scope(api, campaign_body) -> None:
    r = api.post("/campaigns", scope="read", json=campaign_body())
    assert r.status_code == 403
    assert "admin" in r.json()["detail"]
    assert api.post("/campaigns/1/pause", scope="read").status_code == 403
    assert api.get("/campaigns", scope="ingest").status_code == 403
    assert api.get("/campaigns", scope=None).status_code == 401


def test_lifecycle_schedule_unschedule_cancel_and_illegal_moves(api, campaign_body) -> None:
    cid = api.post("/campaigns", json=campaign_body("life")).json()["id"]
    assert api.post(f"/campaigns/{cid}/pause").status_code == 409  # a draft is not sending
    at = "2030-01-02T09:00:00+01:00"
    r = api.post(f"/campaigns/{cid}/schedule", json={"at": at})
    assert r.status_code == 200
    assert r.json()["state"] == "scheduled"
    assert datetime.fromisoformat(r.json()["scheduled_at"]) == datetime(2030, 1, 2, 8, tzinfo=UTC)
    again = api.post(f"/campaigns/{cid}/schedule", json={"at": at})
    assert again.status_code == 409
    assert again.json()["type"].endswith("/illegal-transition")
    assert "cannot become scheduled" in again.json()["detail"]
    assert api.post(f"/campaigns/{cid}/unschedule").json()["state"] == "draft"
    assert api.post(f"/campaigns/{cid}/cancel").json()["state"] == "cancelled"
    final = api.post(f"/campaigns/{cid}/resume")
    assert final.status_code == 409
    assert "nothing more" in final.json()["detail"]
    assert api.post("/campaigns/999/cancel").status_code == 404


def test_pause_and_resume_a_sending_campaign(api, campaign_body) -> None:
    cid = api.post("/campaigns", json=campaign_body("pausable")).json()["id"]
    with session_factory(api.workspace.operational())() as session, session.begin():
        session.execute(update(Campaign).where(Campaign.id == cid).values(state="sending"))
    assert api.post(f"/campaigns/{cid}/pause").json()["state"] == "paused"
    assert api.post(f"/campaigns/{cid}/pause").status_code == 409
    assert api.post(f"/campaigns/{cid}/resume").json()["state"] == "sending"


def test_schedule_without_a_time_queues_it_for_the_sender(api, campaign_body, smtp) -> None:
    body = campaign_body("now")
    body["settings"]["channel"] = {"host": "127.0.0.1", "port": smtp.port,
                                   "starttls": False}  # fmt: skip
    cid = api.post("/campaigns", json=body).json()["id"]
    r = api.post(f"/campaigns/{cid}/schedule")
    assert r.status_code == 200
    assert r.json()["state"] == "scheduled"
    reports = run_due(api.workspace)  # what cron runs: the sender, not the web server
    assert [x.campaign for x in reports] == ["now"]
    c = api.get(f"/campaigns/{cid}", scope="read").json()
    assert c["state"] == "done"
    assert c["ledger"]["sent"] == len(smtp.received) > 0
