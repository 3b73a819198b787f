"""The Campaigns pages through the real app on a demo workspace: create from a persona, edit
variants, preview, send to a real SMTP server (aiosmtpd on loopback) in a background job and
follow it to done; roles on every action."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.web.pages import conftest as H  # noqa: N812 (importlib mode: by dotted path)

from streamwise.downstream.campaigns.demo import LocalSmtp
from streamwise.downstream.campaigns.ledger import counts, move
from streamwise.store.db import session_factory
from streamwise.store.models import AuditEntry, Campaign, Job


def _form(client: TestClient, path: str) -> dict[str, str]:
    """The named inputs of the page's form at ``path`` with their values (a tiny form reader)."""
    import html.parser

    fields: dict[str, str] = {}

    class Reader(html.parser.HTMLParser):
        textarea: str | None = None

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            name = a.get("name")
            if tag == "input" and name and a.get("type") != "checkbox":
                fields[name] = a.get("value") or ""
            elif tag == "input" and name and "checked" in a:
                fields[name] = "on"
            elif tag == "textarea" and name:
                self.textarea = name
                fields[name] = ""

        def handle_data(self, data: str) -> None:
            if self.textarea:
                fields[self.textarea] += data

        def handle_endtag(self, tag: str) -> None:
            if tag == "textarea":
                self.textarea = None

    page = client.get(path)
    assert page.status_code == 200, page.text
    Reader().feed(page.text)
    return fields


def _app(client: TestClient) -> Any:
    return client.app.state  # type: ignore[attr-defined]


def _create(client: TestClient, smtp_port: int, **changes: str) -> int:
    form = _form(client, "/app/campaigns/new?persona=0")
    form.update(smtp_host="127.0.0.1", smtp_port=str(smtp_port), **changes)
    form.pop("smtp_starttls", None)  # the test server speaks plain SMTP
    response = client.post("/app/campaigns", data=form)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].split("/")[3].split("?")[0])


def _wait_for_job(client: TestClient, job_id: int, seconds: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        job = client.get(f"/app/jobs/{job_id}").json()
        seen.append(job["progress"])
        if not job["active"]:
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} still running after {seconds} s: {job}")


def _jobs(client: TestClient) -> list[Job]:
    with session_factory(_app(client).engine)() as session:
        return list(session.scalars(select(Job).order_by(Job.id)).all())


def test_a_campaign_from_a_persona_previews_sends_and_finishes(demo_client: TestClient) -> None:
    state = _app(demo_client)
    plan = state.plan_views.latest().document
    persona = plan.personas[0]
    assert H.sign_in(demo_client, "marketing").status_code == 303
    form = _form(demo_client, "/app/campaigns/new?persona=0")
    assert persona.segment in form["audience"]  # the audience is the persona's segment
    assert form["sender_postal_address"]  # the house style (the demo's campaigns) fills it in
    with LocalSmtp() as smtp:
        cid = _create(demo_client, smtp.port, name="Spring for the persona")
        with session_factory(state.engine)() as session:
            c = session.get(Campaign, cid)
            assert c is not None
            assert c.state == "draft"
            assert c.persona == persona.name
            assert c.plan_version_id == state.plan_views.latest().info.id
        preview = demo_client.get(f"/app/campaigns/{cid}/preview")
        assert preview.status_code == 200, preview.text
        assert "made for" in preview.text
        assert "{{ first_name }}" not in preview.text.split("<iframe")[0]  # rendered per person
        assert "sandbox" in preview.text  # the e-mail's HTML is shown inert
        assert smtp.received == []  # a preview sends nothing

        sent = demo_client.post(
            f"/app/campaigns/{cid}/send", data={"csrf_token": H.csrf_of(demo_client)}
        )
        assert sent.status_code == 303
        (job,) = [j for j in _jobs(demo_client) if j.kind == "send" and j.target == c.name]
        outcome = _wait_for_job(demo_client, job.id)
        assert outcome["status"] == "done", outcome
        ledger = counts(state.engine, cid)
        assert ledger.get("sent", 0) > 0
        assert ledger.get("pending", 0) == 0
        assert len(smtp.received) == ledger["sent"]  # every message arrived, none twice
        assert f"{ledger['sent']:,} sent" in outcome["message"]
    page = demo_client.get(f"/app/campaigns/{cid}").text
    assert "data-state>done<" in page
    assert f"{ledger['sent']:,} sent of" in page
    with session_factory(state.engine)() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.target == c.name))
        assert {"campaign.create", "campaign.send"} <= set(actions)


def test_sales_reads_campaigns_but_is_refused_every_change(demo_client: TestClient) -> None:
    H.sign_in(demo_client, "sales")
    listing = demo_client.get("/app/campaigns")
    assert listing.status_code == 200
    assert "Start a campaign" not in listing.text
    cid = int(listing.text.split('href="/app/campaigns/')[1].split('"')[0])
    page = demo_client.get(f"/app/campaigns/{cid}")
    assert page.status_code == 200
    assert "Send now" not in page.text
    assert "Only marketing and admin send" in page.text
    token = H.csrf_of(demo_client)
    before = len(_jobs(demo_client))
    for action in ("send", "pause", "resume", "schedule", "variants"):
        refused = demo_client.post(f"/app/campaigns/{cid}/{action}", data={"csrf_token": token})
        assert refused.status_code == 403, action
        assert "may not do this" in refused.text
    assert demo_client.get("/app/campaigns/new").status_code == 403
    assert len(_jobs(demo_client)) == before  # nothing was started


def test_a_send_needs_the_session_csrf_token(demo_client: TestClient) -> None:
    H.sign_in(demo_client, "marketing")
    cid = _create(demo_client, 1, name="Forged")
    forged = demo_client.post(f"/app/campaigns/{cid}/send", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert _jobs(demo_client) == []


def test_a_wrong_form_says_what_is_wrong_and_saves_nothing(demo_client: TestClient) -> None:
    H.sign_in(demo_client, "marketing")
    form = _form(demo_client, "/app/campaigns/new?persona=0")
    form.update(name="No address", sender_postal_address="", tracking_base_url="http://x.example")
    response = demo_client.post("/app/campaigns", data=form)
    assert response.status_code == 422
    assert "Not saved" in response.text
    assert "postal_address" in response.text or "https" in response.text
    assert 'value="No address"' in response.text  # what was typed is kept
    with session_factory(_app(demo_client).engine)() as session:
        assert session.scalar(select(Campaign.id).where(Campaign.name == "No address")) is None


def test_variants_are_edited_while_a_draft(demo_client: TestClient) -> None:
    H.sign_in(demo_client, "marketing")
    cid = _create(demo_client, 1, name="Two subjects")
    token = H.csrf_of(demo_client)
    variant_b = {"new_arm": "B", "subject_B": "Hi {{ first_name }}, B",
                 "html_B": "<p>B for {{ first_name }}</p>", "weight_B": "1"}  # fmt: skip
    added = demo_client.post(
        f"/app/campaigns/{cid}/variants", data={"csrf_token": token, **variant_b}
    )
    assert "Variants%20saved" in added.headers["location"]
    page = demo_client.get(f"/app/campaigns/{cid}").text
    assert "Variant B" in page
    bad = demo_client.post(f"/app/campaigns/{cid}/variants", data={"csrf_token": token,
                           "new_arm": "C", "subject_C": "only a subject"})  # fmt: skip
    assert "Not" in bad.headers["location"]
    with session_factory(_app(demo_client).engine)() as session:
        c = session.get(Campaign, cid)
        assert c is not None
        assert sorted(c.settings["variants"]) == ["A", "B"]
    move(_app(demo_client).engine, cid, "cancelled")
    late = demo_client.post(f"/app/campaigns/{cid}/variants", data={"csrf_token": token,
                            "subject_A": "changed"})  # fmt: skip
    assert "only%20a%20draft" in late.headers["location"]


def test_pause_then_resume_finishes_the_send(demo_client: TestClient) -> None:
    H.sign_in(demo_client, "admin")
    state = _app(demo_client)
    with LocalSmtp() as smtp:
        cid = _create(demo_client, smtp.port, name="Interrupted")
        move(state.engine, cid, "sending")  # as if a sender had started (nobody enrolled yet)
        token = H.csrf_of(demo_client)
        paused = demo_client.post(f"/app/campaigns/{cid}/pause", data={"csrf_token": token})
        assert "Pausing" in paused.headers["location"]
        with session_factory(state.engine)() as session:
            assert session.scalar(select(Campaign.state).where(Campaign.id == cid)) == "paused"
        demo_client.post(f"/app/campaigns/{cid}/resume", data={"csrf_token": token})
        (job,) = [j for j in _jobs(demo_client) if j.target == "Interrupted"]
        assert _wait_for_job(demo_client, job.id)["status"] == "done"
        assert counts(state.engine, cid)["sent"] == len(smtp.received) > 0


def test_scheduling_needs_a_future_time(demo_client: TestClient) -> None:
    H.sign_in(demo_client, "marketing")
    cid = _create(demo_client, 1, name="Later")
    token = H.csrf_of(demo_client)
    past = demo_client.post(f"/app/campaigns/{cid}/schedule",
                            data={"csrf_token": token, "at": "2001-01-01T09:00"})  # fmt: skip
    assert "passed" in past.headers["location"]
    later = demo_client.post(f"/app/campaigns/{cid}/schedule",
                             data={"csrf_token": token, "at": "2999-01-01T09:00"})  # fmt: skip
    assert "Scheduled" in later.headers["location"]
    with session_factory(_app(demo_client).engine)() as session:
        c = session.get(Campaign, cid)
        assert c is not None
        assert c.state == "scheduled"
        assert c.scheduled_at is not None
        assert c.scheduled_at.year == 2999


@pytest.mark.parametrize("path", ["/app/campaigns/999999", "/app/jobs/999999"])
def test_unknown_ids_are_404(demo_client: TestClient, path: str) -> None:
    H.sign_in(demo_client, "sales")
    assert demo_client.get(path).status_code == 404


def test_the_progress_script_is_served_from_the_package(demo_client: TestClient) -> None:
    H.sign_in(demo_client, "sales")
    script = demo_client.get("/app/static/progress.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "data-job-url" in script.text
    assert demo_client.get("/app/static/..%2Fjobs.py").status_code == 404
