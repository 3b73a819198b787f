"""``/campaigns/{id}/results`` and ``/suppressions``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from streamwise.downstream.audiences import suppress
from streamwise.store.db import session_factory
from streamwise.store.models import CampaignSend, Engagement


def test_results_per_arm_add_up_to_the_ledger(api) -> None:
    r = api.get("/campaigns/1/results", scope="read")
    assert r.status_code == 200, r.text
    res = r.json()
    ledger = api.get("/campaigns/1", scope="read").json()["ledger"]
    assert res["campaign_id"] == 1
    assert [a["arm"] for a in res["arms"]][-1] == "holdout"
    assert sum(a["recipients"] for a in res["arms"]) == sum(ledger.values())
    assert sum(a["sent"] for a in res["arms"]) == ledger["sent"] == res["treated"]["sent"]
    holdout = res["arms"][-1]
    assert holdout["holdout"] is True
    assert holdout["sent"] == 0
    assert holdout["open_rate"] is None  # nothing sent: no rate
    assert res["started_at"] is not None


def test_results_count_human_clicks_and_leave_machines_out(api) -> None:
    engine = api.workspace.operational()
    before = {a["arm"]: a for a in api.get("/campaigns/1/results", scope="read").json()["arms"]}
    engaged = select(Engagement.customer_id).where(Engagement.campaign_id == 1)
    with session_factory(engine)() as session, session.begin():
        row = session.scalars(  # a recipient the demo's reactions left alone
            select(CampaignSend).where(CampaignSend.campaign_id == 1, CampaignSend.arm == "A",
                                       CampaignSend.status == "sent",
                                       CampaignSend.customer_id.not_in(engaged))
        ).first()  # fmt: skip
        assert row is not None
        now = datetime.now(UTC)
        session.add_all([
            Engagement(kind="click", campaign_id=1, variant="A", customer_id=row.customer_id,
                       ts=now, url="https://shop.example/x", machine=False),
            Engagement(kind="open", campaign_id=1, variant="A", customer_id=row.customer_id,
                       ts=now, machine=True, rule="prefetch"),
        ])  # fmt: skip
    arms = {a["arm"]: a for a in api.get("/campaigns/1/results", scope="read").json()["arms"]}
    a, was = arms["A"], before["A"]
    assert a["unique_clicks"] == was["unique_clicks"] + 1
    assert a["unique_opens"] == was["unique_opens"] + 1  # a click implies an open
    assert a["machine_opens"] == was["machine_opens"] + 1
    assert a["click_rate"] == a["unique_clicks"] / a["sent"]


def test_results_errors(api) -> None:
    assert api.get("/campaigns/404/results", scope="read").status_code == 404
    assert api.get("/campaigns/1/results", scope=None).status_code == 401
    assert api.get("/campaigns/1/results", scope="ingest").status_code == 403
    assert api.get("/campaigns/x/results", scope="read").status_code == 422


def test_suppressions_are_admin_only_and_paged(api) -> None:
    engine = api.workspace.operational()
    for i in range(3):
        # (webhook: the demo's recipients unsubscribed from e-mail, not from this channel)
        suppress(engine, "webhook", f"Person{i}@Example.com", "manual", source="test")
    assert api.get("/suppressions", scope="read").status_code == 403  # addresses: admin only
    r = api.get("/suppressions?channel=webhook&limit=2&offset=1")
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 3
    assert [i["address"] for i in body["items"]] == ["person1@example.com", "person2@example.com"]
    assert body["items"][0]["reason"] == "manual"
    assert api.get("/suppressions?channel=sms").json() == {
        "channel": "sms", "total": 0, "items": []
    }  # fmt: skip
    assert api.get("/suppressions?channel=E%20MAIL").status_code == 422
    assert api.get("/suppressions?limit=0").status_code == 422
