"""Behaviours the templates do not exercise: the ``segment:`` state trigger (the baseline, then
entering, leaving and re-entering a behavioural segment under each re-entry rule), the
``opened:`` branch (opens through the real ``/o/`` pixel endpoint; machine opens do not count)
and a text-message send step posting to a real loopback SMS gateway."""

from __future__ import annotations

import re
from email.message import EmailMessage

import duckdb
from sqlalchemy import select

from streamwise.downstream.journeys import Worker, journey_report
from streamwise.store.models import (
    CampaignSend,
    CustomerAttribute,
    Engagement,
    Journey,
    JourneyEntry,
)
from streamwise.workspace import Workspace

from .shop import CHROME, Clock, Gateway, Tracker, cid, journey_data
from .test_runner import steps_of

E = JourneyEntry.__table__
A = CustomerAttribute.__table__
G = Engagement.__table__
S = CampaignSend.__table__
J = Journey.__table__

# --- segment trigger --------------------------------------------------------------------------

CAMPERS, RUNNERS = 0, 1


def plant_segments(ws: Workspace, campers: range) -> None:
    """Behavioural segments as ``streamwise customers segment`` and ``plan build`` leave them:
    cluster labels per customer, and the clusters' names."""
    with duckdb.connect(str(ws.analytics_path)) as con:
        con.execute("CREATE TABLE customer_segments (customer_id VARCHAR, segment BIGINT)")
        con.executemany("INSERT INTO customer_segments VALUES (?, ?)",
                        [[cid(i), CAMPERS if i in campers else RUNNERS]
                         for i in range(1, 61)])  # fmt: skip
        con.execute("CREATE TABLE segment_clusters (cluster BIGINT, segment VARCHAR, "
                    "surveyed BIGINT, agreeing BIGINT, purity DOUBLE)")  # fmt: skip
        con.execute("INSERT INTO segment_clusters VALUES (0, 'Weekend Campers', 10, 8, 0.8), "
                    "(1, 'Trail Runners', 10, 7, 0.7)")  # fmt: skip


def move(ws: Workspace, customers: list[int], cluster: int) -> None:
    with duckdb.connect(str(ws.analytics_path)) as con:
        con.executemany("UPDATE customer_segments SET segment = ? WHERE customer_id = ?",
                        [[cluster, cid(i)] for i in customers])  # fmt: skip


def entries_of(ws: Workspace, journey: str) -> dict[str, list[str]]:
    """Customer → the states of their entries into ``journey``, oldest first."""
    out: dict[str, list[str]] = {}
    with ws.operational().connect() as con:
        query = (select(E.c.customer_id, E.c.state).join(J, J.c.id == E.c.journey_id)
                 .where(J.c.name == journey).order_by(E.c.id))  # fmt: skip
        for customer, state in con.execute(query):
            out.setdefault(customer, []).append(state)
    return out


def segment_journey(name: str, re_entry: str, **trigger: object) -> dict[str, object]:
    return {"name": name, "trigger": {"segment": "Weekend Campers", **trigger},
            "re_entry": re_entry,
            "steps": [{"id": "welcome", "update": {"camper": True}}, "exit"]}  # fmt: skip


def test_segment_trigger_enters_those_who_join(ws, install) -> None:
    """Nobody in the segment at the first evaluation enters (the state is only recorded);
    those who join later enter once, with the state's from/to; one who leaves and joins again
    enters again after an exit (``after_exit``), never with ``never``; one who stays in the
    segment is not admitted again."""
    plant_segments(ws, campers=range(1, 11))
    install(ws, segment_journey("campers again", "after_exit"))
    install(ws, segment_journey("campers once", "never"))
    clock = Clock()
    with Worker(ws, now=clock) as worker:
        first = worker.run_once()
        assert first.evaluated == 2
        assert first.entered == 0  # C001..C010 were campers already: the baseline
        move(ws, [20, 21], CAMPERS)
        move(ws, [3], RUNNERS)  # one of the baseline leaves: no entry
        clock.advance(days=1)
        second = worker.run_once()
        assert second.entered == 4  # C020 and C021, into both journeys
        clock.advance(days=1)
        assert worker.run_once().entered == 0  # nobody's state changed
        move(ws, [20], RUNNERS)  # C020 leaves ...
        clock.advance(days=1)
        assert worker.run_once().entered == 0
        move(ws, [20, 3], CAMPERS)  # ... and comes back, as does C003
        clock.advance(days=1)
        third = worker.run_once()
    assert third.entered == 3  # C020 again (after_exit only), C003 into both
    again, once = entries_of(ws, "campers again"), entries_of(ws, "campers once")
    assert again == {cid(20): ["completed", "completed"], cid(21): ["completed"],
                     cid(3): ["completed"]}  # fmt: skip
    assert once == {cid(20): ["completed"], cid(21): ["completed"], cid(3): ["completed"]}
    with ws.operational().connect() as con:
        contexts = [c for (c,) in con.execute(select(E.c.context)
                                              .where(E.c.customer_id == cid(21)))]  # fmt: skip
    assert contexts == [{"state": {"from": None, "to": "1"}}] * 2
    assert steps_of(ws, cid(1)) == []


def test_segment_trigger_include_existing(ws, install) -> None:
    """``include_existing: true`` admits everyone in the segment at the first evaluation, and
    only them."""
    plant_segments(ws, campers=range(1, 11))
    install(ws, segment_journey("all campers", "after_exit", include_existing=True))
    clock = Clock()
    with Worker(ws, now=clock) as worker:
        assert worker.run_once().entered == 10
        clock.advance(days=1)
        assert worker.run_once().entered == 0  # still the same ten: no change, no entry
    assert entries_of(ws, "all campers") == {cid(i): ["completed"] for i in range(1, 11)}


# --- opened branch ----------------------------------------------------------------------------

_PIXEL = re.compile(r"https://[^\"']+/o/([A-Za-z0-9_.-]+)")


def pixel_token(message: EmailMessage) -> str:
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    found = _PIXEL.search(html)
    assert found, html
    return found.group(1)


def test_opened_branch_counts_human_opens_only(ws, mailbox, tracker: Tracker, install) -> None:
    """A person's open (GET /o/ with a browser's user agent) and a click take the ``then``
    branch; Apple's privacy proxy ("Mozilla/5.0"), a HEAD request and no open at all take the
    ``else`` branch, although the machine opens are recorded."""
    box, port = mailbox
    base = journey_data("welcome", port)
    install(ws, {"name": "open check", "trigger": {"event": "Trial Started"},
                 "settings": base["settings"], "steps": [
                     {"id": "hello", "send": {"variants": {"A": {
                         "subject": "Hello {{ first_name }}",
                         "html": "<p>Hi</p><a href='https://shop.example.com/x'>x</a>"}}}},
                     {"wait": "2d"},
                     {"id": "did_open", "branch": {"if": {"opened": "hello"}, "then": "yes"}},
                     {"id": "no", "update": {"opened": "no"}, "next": "done"},
                     {"id": "yes", "update": {"opened": "yes"}},
                     {"id": "done", "exit": {}}]})  # fmt: skip
    clock = Clock()
    people = [1, 2, 3, 4, 6]
    for i in people:
        tracker.track(cid(i), "Trial Started", clock.t)
    with Worker(ws, now=clock) as worker:
        worker.run_once()
        mails = {str(m["To"]): m for m in box.messages()}
        assert set(mails) == {f"c{i}@example.com" for i in people}
        for i, method, agent in ((1, "GET", CHROME), (2, "GET", "Mozilla/5.0"),
                                 (3, "HEAD", CHROME)):  # fmt: skip
            token = pixel_token(mails[f"c{i}@example.com"])
            r = tracker.client.request(method, f"/o/{token}", headers={"User-Agent": agent})
            assert r.status_code == 200
            assert r.headers["content-type"] == "image/gif"
        tracker.click(mails["c6@example.com"])  # a click counts as an open
        clock.advance(days=2)
        worker.run_once()
    with ws.operational().connect() as con:
        opens = {c: (m, rule) for c, m, rule in con.execute(
            select(G.c.customer_id, G.c.machine, G.c.rule).where(G.c.kind == "open"))}  # fmt: skip
        values = dict(con.execute(select(A.c.customer_id, A.c.value)
                                  .where(A.c.name == "opened")).all())  # fmt: skip
    assert opens == {cid(1): (False, None), cid(2): (True, "apple_mpp"),
                     cid(3): (True, "head_request")}  # fmt: skip
    assert values == {cid(1): "yes", cid(2): "no", cid(3): "no", cid(4): "no", cid(6): "yes"}
    outcomes = {s.step: s.outcomes for s in journey_report(ws, "open check").steps}
    assert outcomes["did_open"] == {"yes": 2, "no": 3}


def test_an_open_before_entry_does_not_count(ws, mailbox, tracker: Tracker, install) -> None:
    """Since entry: an open of the previous entry's message does not carry over to the next
    entry's branch."""
    box, port = mailbox
    base = journey_data("welcome", port)
    install(ws, {"name": "open again", "trigger": {"event": "Trial Started"},
                 "re_entry": "after_exit", "settings": base["settings"], "steps": [
                     {"id": "hello", "send": {"variants": {"A": {"subject": "Hello",
                                                                 "html": "<p>Hi</p>"}}}},
                     {"wait": "1d"},
                     {"id": "did_open", "branch": {"if": {"opened": "any"}, "then": "yes"}},
                     {"id": "no", "update": {"opened": "no"}, "next": "done"},
                     {"id": "yes", "update": {"opened": "yes"}},
                     {"id": "done", "exit": {}}]})  # fmt: skip
    clock = Clock()
    tracker.track(cid(1), "Trial Started", clock.t)
    with Worker(ws, now=clock) as worker:
        worker.run_once()
        (first,) = box.messages()
        r = tracker.client.get(f"/o/{pixel_token(first)}", headers={"User-Agent": CHROME})
        assert r.status_code == 200
        clock.advance(days=1)
        worker.run_once()
        tracker.track(cid(1), "Trial Started", clock.t)
        worker.run_once()
        assert len(box.messages()) == 2
        clock.advance(days=1)
        worker.run_once()
    ran = [outcome for step, outcome in steps_of(ws, cid(1)) if step == "did_open"]
    assert ran == ["yes", "no"]


# --- text messages through a webhook gateway --------------------------------------------------

PHONES = {i: f"+4477009000{i:02d}" for i in range(1, 7)}


def test_text_message_step_posts_once_per_consented_customer(
    ws, tracker: Tracker, install, gateway: Gateway
) -> None:
    """Two SMS steps a day apart: each consented customer with a number gets exactly one
    signed POST per step (the Idempotency-Key is the ledger's message id); no consent, an
    unknown consent or no number gets none, and the step records why."""
    with duckdb.connect(str(ws.analytics_path)) as con:
        for i, phone in PHONES.items():
            consent = {4: False, 5: None}.get(i, True)
            con.execute("UPDATE customers SET phone = ?, sms_consent = ? WHERE customer_id = ?",
                        [None if i == 6 else phone, consent, cid(i)])  # fmt: skip
    settings = {"text_message": {"address_field": "phone", "consent_field": "sms_consent",
                                 "sender_id": "Shop"},
                "tracking_base_url": "https://t.shop.example.com",
                "channel": {"url": gateway.url, "backoff": [0.01], "max_retries": 1}}  # fmt: skip
    install(ws, {"name": "texts", "trigger": {"event": "Trial Started"}, "settings": settings,
                 "steps": [
                     {"id": "first_text", "send": {"channel": "webhook", "variants": {
                         "A": {"text": "Hi {{ first_name }}, your trial has started."}}}},
                     {"wait": "1d"},
                     {"id": "second_text", "send": {"channel": "webhook", "variants": {
                         "A": {"text": "{{ first_name }}, how is it going?"}}}},
                     {"exit": {}}]})  # fmt: skip
    clock = Clock()
    for i in PHONES:
        tracker.track(cid(i), "Trial Started", clock.t)
    consented = {PHONES[i] for i in (1, 2, 3)}
    with Worker(ws, now=clock) as worker:
        worker.run_once()
        assert gateway.to() == dict.fromkeys(consented, 1)
        worker.run_once()  # nothing is due: nothing more is posted
        assert gateway.to() == dict.fromkeys(consented, 1)
        clock.advance(days=1)
        worker.run_once()
        worker.run_once()
    assert gateway.to() == dict.fromkeys(consented, 2)
    assert gateway.bad_signatures == 0
    texts = {(r["to"], r["body"]["payload"]["text"].split("\n")[0]) for r in gateway.accepted}
    assert texts == {(PHONES[i], t.format(i)) for i in (1, 2, 3) for t in (
        "Hi Name{}, your trial has started.", "Name{}, how is it going?")}  # fmt: skip
    assert all(r["body"]["payload"]["from"] == "Shop" for r in gateway.accepted)
    with ws.operational().connect() as con:
        ledger = dict(con.execute(select(S.c.message_id, S.c.status)).all())
    keys = [r["key"] for r in gateway.accepted]
    assert len(set(keys)) == 6
    assert {ledger[k] for k in keys} == {"sent"}
    assert set(ledger) == set(keys)  # nobody else has a ledger row
    assert steps_of(ws, cid(4))[0] == ("first_text", "skipped: no SMS consent")
    assert steps_of(ws, cid(5))[0] == ("first_text", "skipped: no SMS consent")
    assert steps_of(ws, cid(6))[0] == ("first_text", "skipped: no SMS address")
    assert steps_of(ws, cid(1))[0] == ("first_text", "queued A")
