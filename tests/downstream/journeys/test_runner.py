"""The worker's rules: never twice at once (a database constraint), waits until an event with a
timeout, reaction within seconds, pause and resume, value-change triggers, failures, and the
send ledger's keys for campaigns and journeys."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import duckdb
import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from streamwise.downstream.campaigns.service import run_send
from streamwise.downstream.journeys import Worker, journey_report, set_state
from streamwise.downstream.journeys.schedule import utc
from streamwise.errors import ConfigError
from streamwise.store.models import CampaignSend, CustomerAttribute, JourneyEntry, JourneyStep

from .shop import START, Clock, Tracker, cid, journey_data

E = JourneyEntry.__table__
L = JourneyStep.__table__
A = CustomerAttribute.__table__


def steps_of(ws, customer: str) -> list[tuple[str, str]]:
    with ws.operational().connect() as con:
        rows = con.execute(select(L.c.step, L.c.outcome).where(L.c.customer_id == customer)
                           .order_by(L.c.id)).all()  # fmt: skip
    return [tuple(r) for r in rows]


WAITING = {
    "name": "waiting",
    "trigger": {"event": "Signed Up"},
    "steps": [
        {"id": "first_order", "wait": {"event": "Order Completed", "where": {"total": {"gte": 20}},
                                       "timeout": "2d", "on_timeout": "nudged"}},
        {"id": "thanked", "update": {"first_order": "in time"}, "next": "done"},
        {"id": "nudged", "update": {"first_order": "late"}},
        {"id": "done", "exit": {}},
    ],
}  # fmt: skip


def test_wait_until_an_event_or_the_timeout(ws, tracker: Tracker, install) -> None:
    install(ws, WAITING)
    clock = Clock()
    for i in (1, 2, 3, 4):
        tracker.track(cid(i), "Signed Up", clock.t)
    with Worker(ws, now=clock) as worker:
        worker.run_once()
        tracker.track(cid(1), "Order Completed", clock.t, total=30)
        tracker.track(cid(2), "Order Completed", clock.t, total=5)  # not what the wait wants
        clock.advance(hours=5)
        worker.run_once()  # the event wakes the entry at once, not at the timeout
        assert steps_of(ws, cid(1)) == [("first_order", "event Order Completed came"),
                                        ("thanked", "set first_order=in time"),
                                        ("done", "exit")]  # fmt: skip
        clock.advance(days=2, hours=-5, seconds=-1)
        worker.run_once()
        assert steps_of(ws, cid(2)) == []  # still waiting
        clock.advance(seconds=1)
        worker.run_once()
    assert steps_of(ws, cid(2))[0] == ("first_order", "timed out")
    with ws.operational().connect() as con:
        values = dict(con.execute(select(A.c.customer_id, A.c.value)).all())
    assert values == {cid(1): "in time", cid(2): "late", cid(3): "late", cid(4): "late"}


def test_a_customer_is_never_in_a_journey_twice_at_once(ws, mailbox, install) -> None:
    _, port = mailbox
    jid = install(ws, journey_data("welcome", port))
    now = datetime.now(UTC)
    row = {"journey_id": jid, "customer_id": "C001", "state": "active", "step": "welcome_mail",
           "seq": 0, "due_at": now, "trigger_key": "x1", "event_mark": 0, "email_mark": 0,
           "step_event_mark": 0, "step_email_mark": 0, "context": {}, "entered_at": now,
           "updated_at": now}  # fmt: skip
    with ws.operational().begin() as con:
        con.execute(insert(E), row)
    with pytest.raises(IntegrityError), ws.operational().begin() as con:
        con.execute(insert(E), row | {"trigger_key": "x2"})  # the partial unique index
    with ws.operational().begin() as con:  # once it has ended, another entry may start
        con.execute(E.update().values(state="completed"))
        con.execute(insert(E), row | {"trigger_key": "x2"})


def test_it_reacts_within_seconds(ws, mailbox, tracker: Tracker, install) -> None:
    """A worker running in real time sends the welcome mail a few seconds after the sign-up
    reaches the tracking server."""
    box, port = mailbox
    install(ws, journey_data("welcome", port))
    worker = Worker(ws)
    thread = threading.Thread(target=worker.run, kwargs={"poll": 0.2}, daemon=True)
    thread.start()
    try:
        time.sleep(0.5)
        posted = time.monotonic()
        tracker.track(cid(1), "Signed Up", datetime.now(UTC))
        while not box.messages() and time.monotonic() - posted < 10:
            time.sleep(0.05)
        took = time.monotonic() - posted
    finally:
        worker.stop()
        thread.join(10)
        worker.close()
    assert box.to("Welcome") == {"c1@example.com": 1}
    assert took < 3.0, took


def test_pause_and_resume(ws, mailbox, tracker: Tracker, install) -> None:
    box, port = mailbox
    install(ws, journey_data("welcome", port))
    clock = Clock()
    tracker.track(cid(1), "Signed Up", clock.t)
    with Worker(ws, now=clock) as worker:
        worker.run_once()
        set_state(ws, "welcome", "paused")
        tracker.track(cid(2), "Signed Up", clock.t)  # nobody enters a paused journey
        clock.advance(days=4)
        assert worker.run_once().steps == 0  # and nobody moves
        assert journey_report(ws, "welcome").entries == {"active": 1}
        set_state(ws, "welcome", "active")
        worker.run_once()
    assert box.to() == {"c1@example.com": 2}
    assert journey_report(ws, "welcome").entries == {"completed": 1}


def test_value_change_trigger_with_tiers(ws, install) -> None:
    """CLV tier changed to high: only those whose tier changed to it enter, with from/to."""
    install(ws, {"name": "vip", "trigger": {"changes": "clv", "tiers": {"low": 0, "mid": 500,
                                                                        "high": 1000},
                                            "to": ["high"]},
                 "steps": [{"update": {"vip": True}}, "exit"]})  # fmt: skip
    clock = Clock()
    with Worker(ws, now=clock) as worker:
        assert worker.run_once().entered == 0  # C050..C060 are high already: the baseline
        with duckdb.connect(str(ws.analytics_path)) as con:
            con.execute("UPDATE customer_clv SET clv = 1500 WHERE customer_id IN ('C010', 'C030')")
            con.execute("UPDATE customer_clv SET clv = 700 WHERE customer_id = 'C005'")  # mid
        clock.advance(days=1)
        assert worker.run_once().entered == 2
    with ws.operational().connect() as con:
        rows = con.execute(select(E.c.customer_id, E.c.context)).all()
    assert {c: ctx["state"] for c, ctx in rows} == {
        "C010": {"from": "low", "to": "high"}, "C030": {"from": "mid", "to": "high"}}  # fmt: skip


def test_a_step_that_cannot_run_fails_its_entries_with_the_reason(ws, tracker, install) -> None:
    install(ws, {"name": "needs segments", "trigger": {"event": "Signed Up"},
                 "steps": [{"branch": {"if": {"filter": 'segment = "Campers"'}, "then": "z"}},
                           {"id": "z", "exit": {}}]})  # fmt: skip
    clock = Clock()
    tracker.track(cid(1), "Signed Up", clock.t)
    with Worker(ws, now=clock) as worker:
        assert worker.run_once().failed == 1
    report = journey_report(ws, "needs segments")
    assert report.entries == {"failed": 1}
    assert "streamwise customers segment" in report.failures[0][1]


def test_campaign_commands_leave_journey_steps_alone(ws, mailbox, install) -> None:
    _, port = mailbox
    install(ws, journey_data("welcome", port))
    with pytest.raises(ConfigError, match="send step of a journey"):
        run_send(ws, "welcome/welcome_mail")


def test_the_ledger_key(ws, mailbox, install) -> None:
    """A campaign's own rows stay unique per customer; a journey's are unique per step run."""
    _, port = mailbox
    install(ws, journey_data("welcome", port))
    S = CampaignSend.__table__
    row = {"campaign_id": 1, "customer_id": "C001", "address": "c1@example.com", "arm": "A",
           "status": "pending", "attempts": 0, "detail": "", "context": {}}  # fmt: skip
    with ws.operational().begin() as con:
        con.execute(insert(S), row | {"message_id": "<a@x>"})
        con.execute(insert(S), row | {"message_id": "<b@x>", "journey_step_id": 7})
    with pytest.raises(IntegrityError), ws.operational().begin() as con:
        con.execute(insert(S), row | {"message_id": "<c@x>"})


def test_times_are_the_clock_s(ws, tracker: Tracker, install) -> None:
    """Entry and step times come from the injected clock, not the machine's."""
    install(ws, WAITING)
    clock = Clock(START - timedelta(days=400))
    tracker.track(cid(3), "Signed Up", clock.t)
    with Worker(ws, now=clock) as worker:
        worker.run_once()
    with ws.operational().connect() as con:
        entered, due = con.execute(select(E.c.entered_at, E.c.due_at)).one()
    assert utc(entered) == clock.t
    assert utc(due) == clock.t + timedelta(days=2)


def test_email_engagement_triggers_and_waits(ws, mailbox, tracker: Tracker, install) -> None:
    """A click (through the real /c/ endpoint) on a journey's own e-mail ends its wait; a click
    on another journey's (or campaign's) e-mail enters customers into a journey triggered by it;
    a send step can copy an existing campaign's settings."""
    from streamwise.downstream.campaigns.service import create_campaign

    box, port = mailbox
    base = journey_data("welcome", port)
    promo = {"A": {"subject": "Promo for {{ first_name }}",
                   "html": "<a href='https://shop.example.com/p'>x</a>"}}  # fmt: skip
    create_campaign(ws, "promo", audience="email_consent",
                    settings={**base["settings"], "variants": promo})  # fmt: skip
    install(ws, {"name": "nudge", "trigger": {"event": "Trial Started"},
                 "settings": base["settings"], "steps": [
                     {"id": "hello", "send": {"campaign": "promo"}},
                     {"id": "await_click", "wait": {"email": "clicked", "step": "hello",
                                                    "timeout": "2d", "on_timeout": "gave_up"}},
                     {"id": "clicked", "update": {"engaged": "yes"}, "next": "done"},
                     {"id": "gave_up", "update": {"engaged": "no"}},
                     {"id": "done", "exit": {}}]})  # fmt: skip
    install(ws, {"name": "clickers", "trigger": {"email": "clicked", "campaign": "nudge/hello"},
                 "steps": [{"update": {"clicker": True}}, "exit"]})  # fmt: skip
    clock = Clock()
    tracker.track(cid(1), "Trial Started", clock.t)
    tracker.track(cid(2), "Trial Started", clock.t)
    with Worker(ws, now=clock) as worker:
        worker.run_once()
        mails = {str(m["To"]): m for m in box.messages()}
        assert set(mails) == {"c1@example.com", "c2@example.com"}
        assert str(mails["c1@example.com"]["Subject"]) == "Promo for Name1"  # the campaign's
        tracker.click(mails["c1@example.com"])
        clock.advance(hours=1)
        worker.run_once()
        clock.advance(days=2)
        worker.run_once()
    with ws.operational().connect() as con:
        values = {(c, n): v for c, n, v in con.execute(select(A.c.customer_id, A.c.name,
                                                              A.c.value))}  # fmt: skip
    assert values == {(cid(1), "engaged"): "yes", (cid(2), "engaged"): "no",
                      (cid(1), "clicker"): True}  # fmt: skip
    assert steps_of(ws, cid(1))[1] == ("await_click", "e-mail clicked came")
