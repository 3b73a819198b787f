"""Opens, clicks, unsubscribes and conversions in the operational database (SQLite and
PostgreSQL), and campaign results per arm with machine requests left out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, insert, select

from streamwise.downstream.audiences import suppressed
from streamwise.downstream.tracking import sign_token, verify_token
from streamwise.downstream.tracking.bots import BotSettings, RequestInfo
from streamwise.downstream.tracking.engagement import (
    attribute_conversions,
    record,
    subscription,
    unsubscribe,
)
from streamwise.downstream.tracking.privacy import Scrubber
from streamwise.downstream.tracking.results import ArmResults, campaign_results
from streamwise.errors import ConfigError, DataError
from streamwise.store import Campaign, CampaignSend, Engagement, make_engine, migrate
from streamwise.store.db import MIGRATIONS

SECRET = "test-secret"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HUMAN = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
ORDER = "Order Completed"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated operational database; emptied afterwards (the PostgreSQL one is shared)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    eng = make_engine(url)
    migrate(eng)
    yield eng
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with eng.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "base")
    eng.dispose()


ARMS = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B", "h1": "holdout", "h2": "holdout"}


def seed(engine: Engine, campaign_id: int = 1, *, sent_at: datetime = T0, name: str = "") -> None:
    """A campaign with arms A (3 sent), B (2 sent) and the holdout (2 held out)."""
    with engine.begin() as con:
        con.execute(insert(Campaign.__table__).values(
            id=campaign_id, name=name or f"spring-{campaign_id}", channel="email", state="done",
            audience="email_consent", seed="s", created_at=T0, updated_at=T0,
            settings={"sender": {"organisation": "Northwind Outfitters", "address": "n@x.example"}},
        ))  # fmt: skip
        for cid, arm in ARMS.items():
            held = arm == "holdout"
            con.execute(insert(CampaignSend.__table__).values(
                campaign_id=campaign_id, customer_id=cid, address=f"{cid.upper()}@Example.com",
                arm=arm, message_id=f"<{campaign_id}.{cid}@x.example>",
                status="held_out" if held else "sent", attempts=0 if held else 1,
                sent_at=None if held else sent_at, detail="", context={},
            ))  # fmt: skip


def token(kind: str, customer: str, *, campaign: str = "1", url: str | None = None):
    raw = sign_token(SECRET, kind=kind, campaign_id=campaign, recipient_id=customer,  # type: ignore[arg-type]
                     variant=ARMS.get(customer), url=url)  # fmt: skip
    return verify_token(SECRET, raw, kind=kind)  # type: ignore[arg-type]


def hit(engine: Engine, kind: str, customer: str, at: datetime, ua: str | None = HUMAN,
        url: str | None = None, **kw: object):  # fmt: skip
    data = token(kind, customer, url=url)
    return record(engine, data, RequestInfo(kind=kind, at=at, user_agent=ua, url=url, **kw))  # type: ignore[arg-type]


def rows(engine: Engine, kind: str) -> list:
    e = Engagement.__table__
    with engine.connect() as con:
        return list(con.execute(select(e).where(e.c.kind == kind).order_by(e.c.id)))


def test_opens_are_recorded_with_their_machine_rule(engine: Engine) -> None:
    seed(engine)
    late = T0 + timedelta(hours=2)
    human = hit(engine, "open", "a1", late, ip="198.51.100.4")
    assert human is not None
    assert (human.machine, human.rule, human.variant, human.campaign_id) == (False, None, "A", 1)
    assert hit(engine, "open", "a2", late, ua="Mozilla/5.0", ip="17.58.1.1").rule == "apple_mpp"
    assert hit(engine, "open", "a3", T0 + timedelta(seconds=1)).rule == "too_fast"
    assert hit(engine, "open", "b1", late, method="HEAD").rule == "head_request"
    stored = rows(engine, "open")
    assert [(r.customer_id, r.machine, r.rule) for r in stored] == [
        ("a1", False, None), ("a2", True, "apple_mpp"), ("a3", True, "too_fast"),
        ("b1", True, "head_request"),
    ]  # fmt: skip
    assert stored[0].ip == "198.51.100.4"
    assert stored[0].user_agent == HUMAN


def test_a_row_still_sending_is_judged_by_its_claim_time(engine: Engine) -> None:
    seed(engine)
    s = CampaignSend.__table__
    with engine.begin() as con:  # claimed, pushed, but the ledger has not recorded it yet
        con.execute(s.update().where(s.c.customer_id == "a1")
                    .values(status="sending", sent_at=None, claimed_at=T0))  # fmt: skip
    assert hit(engine, "open", "a1", T0 + timedelta(seconds=1)).rule == "too_fast"
    assert hit(engine, "open", "a1", T0 + timedelta(minutes=5)).rule is None


def test_ip_and_user_agent_go_through_the_scrubber(engine: Engine) -> None:
    seed(engine)
    data = token("open", "a1")
    scrub = Scrubber("hash", SECRET)
    request = RequestInfo("open", T0 + timedelta(hours=1), user_agent=HUMAN, ip="198.51.100.4")
    record(engine, data, request, scrub=scrub)
    record(engine, data, request, scrub=Scrubber("drop", SECRET))
    hashed, dropped = rows(engine, "open")
    assert hashed.ip == scrub("198.51.100.4") != "198.51.100.4"
    assert hashed.user_agent.startswith("h:")
    assert (dropped.ip, dropped.user_agent) == (None, None)


def test_a_burst_of_clicks_flags_the_earlier_ones_too(engine: Engine) -> None:
    seed(engine)
    at = T0 + timedelta(hours=1)
    first = hit(engine, "click", "b1", at, url="https://shop.example/tents")
    assert first.machine is False  # alone, it looked human...
    second = hit(engine, "click", "b1", at + timedelta(milliseconds=250),
                 url="https://shop.example/bags")  # fmt: skip
    assert second.rule == "burst"
    clicks = rows(engine, "click")
    assert [(r.machine, r.rule) for r in clicks] == [(True, "burst"), (True, "burst")]  # ...not
    later = hit(engine, "click", "b1", at + timedelta(hours=1), url="https://shop.example/tents")
    assert later.machine is False
    # another recipient's click at the same moment is no part of b1's burst
    assert hit(engine, "click", "b2", at, url="https://shop.example/bags").machine is False


def test_tokens_of_no_known_campaign_are_not_recorded(engine: Engine) -> None:
    seed(engine)
    odd = token("open", "a1", campaign="newsletter-7")
    assert record(engine, odd, RequestInfo("open", T0, user_agent=HUMAN)) is None
    assert rows(engine, "open") == []
    with pytest.raises(DataError, match="cannot record"):
        record(engine, token("open", "a1"), RequestInfo("click", T0, url="https://x.example"))


def test_unsubscribe_suppresses_the_ledger_address_once(engine: Engine) -> None:
    seed(engine)
    data = token("unsubscribe", "a2")
    before = subscription(engine, data)
    assert before is not None
    assert (before.address, before.suppressed, before.sender) == (
        "A2@Example.com",
        None,
        "Northwind Outfitters",
    )
    assert before.masked == "A***@Example.com"
    assert before.to_dict()["address"] == "A***@Example.com"
    first = unsubscribe(engine, data, ip="198.51.100.9", user_agent="GoogleOneClick")
    again = unsubscribe(engine, data)
    assert first is not None
    assert again is not None
    assert (first.changed, again.changed) == (True, False)
    assert first.subscription.suppressed == "unsubscribe"
    table = suppressed(engine, "email")
    assert table["address"].tolist() == ["a2@example.com"]  # normalised
    assert table["reason"].tolist() == ["unsubscribe"]
    assert table["customer_id"].tolist() == ["a2"]
    assert len(rows(engine, "unsubscribe")) == 1  # recorded once
    assert subscription(engine, data).suppressed == "unsubscribe"
    assert unsubscribe(engine, token("unsubscribe", "zz")) is None  # not in the ledger
    assert subscription(engine, token("unsubscribe", "a1", campaign="x")) is None


def event(mid: str, user: str | None, at: datetime, *, name: str = ORDER, **props: object):
    return {"message_id": mid, "type": "track", "user_id": user, "event": name,
            "timestamp": at, "properties": json.dumps(props) if props else None}  # fmt: skip


def attribute(engine: Engine, events: list[dict], days: float = 7) -> int:
    with engine.begin() as con:
        return attribute_conversions(con, events, conversion_events=[ORDER],
                                     attribution_days=days)  # fmt: skip


def conversions(engine: Engine) -> list[tuple]:
    return sorted(
        (r.event_message_id, r.campaign_id, r.customer_id, r.variant, r.url, r.rule, r.revenue)
        for r in rows(engine, "conversion")
    )


def test_conversions_go_to_the_last_human_click(engine: Engine) -> None:
    seed(engine, 1)
    seed(engine, 2, sent_at=T0 - timedelta(days=30))  # an old campaign, outside any window
    day = timedelta(days=1)
    hit(engine, "click", "a1", T0 + timedelta(hours=1), url="https://shop.example/tents")
    e = Engagement.__table__
    with engine.begin() as con:  # a later human click in campaign 2, and a machine click
        con.execute(insert(e).values(kind="click", campaign_id=2, variant="B", customer_id="a1",
                                     ts=T0 + 2 * day, url="https://shop.example/old",
                                     machine=False))  # fmt: skip
        con.execute(insert(e).values(kind="click", campaign_id=1, variant="A", customer_id="a1",
                                     ts=T0 + 3 * day, url="https://shop.example/scan",
                                     machine=True, rule="security_scanner"))  # fmt: skip
    new = attribute(engine, [
        event("e1", "a1", T0 + 4 * day, revenue="19.5"),
        event("e2", "a1", T0 - day, revenue=5),  # before any click or send: nobody's
        event("e3", None, T0 + 4 * day, revenue=5),  # anonymous
        event("e4", "a1", T0 + 4 * day, name="Product Viewed"),  # not a conversion
        {**event("e5", "a1", T0 + 4 * day), "type": "page"},
    ])  # fmt: skip
    assert new == 2
    assert conversions(engine) == [
        ("e1", 1, "a1", "A", None, "window", 19.5),  # in campaign 1's window, not clicked last
        ("e1", 2, "a1", "B", "https://shop.example/old", None, 19.5),  # the last human click
    ]


def test_holdout_conversions_are_credited_by_the_window(engine: Engine) -> None:
    seed(engine)
    day = timedelta(days=1)
    hit(engine, "click", "a1", T0 + timedelta(hours=1), url="https://shop.example/tents")
    new = attribute(engine, [
        event("o1", "a1", T0 + 2 * day, total=40),       # clicked, in the window
        event("o2", "h1", T0 + 3 * day, value="12.25"),  # held out, in the window
        event("o3", "h2", T0 + 8 * day, revenue=99),     # held out, after the window
        event("o4", "b1", T0 + 6 * day),                 # sent, no click, in the window
        event("o5", "a1", T0 + 9 * day, revenue=7),      # click 9 days ago: too old
    ])  # fmt: skip
    assert new == 3
    assert conversions(engine) == [
        ("o1", 1, "a1", "A", "https://shop.example/tents", "window", 40.0),
        ("o2", 1, "h1", "holdout", None, "window", 12.25),
        ("o4", 1, "b1", "B", None, "window", None),
    ]
    # replaying the same events (a retried batch) adds nothing
    assert attribute(engine, [event("o1", "a1", T0 + 2 * day, total=40),
                              event("o2", "h1", T0 + 3 * day)]) == 0  # fmt: skip
    assert len(conversions(engine)) == 3
    assert attribute(engine, [event("o3", "h2", T0 + 8 * day)], days=10) == 1  # longer window
    assert attribute(engine, []) == 0


def test_timestamps_may_be_text_and_revenue_may_be_missing(engine: Engine) -> None:
    seed(engine)
    hit(engine, "click", "a1", T0 + timedelta(hours=1), url="https://shop.example/tents")
    when = (T0 + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    bad = {**event("t2", "a1", T0), "timestamp": "yesterday"}
    weird = event("t3", "a2", T0 + timedelta(hours=2))
    weird["properties"] = '{"revenue": "lots", "total": true, "value": NaN}'
    assert attribute(engine, [{**event("t1", "a1", T0), "timestamp": when}, bad, weird]) == 2
    assert [(c[0], c[6]) for c in conversions(engine)] == [("t1", None), ("t3", None)]


def test_campaign_results_per_arm(engine: Engine) -> None:
    seed(engine)
    seed(engine, 2)  # another campaign's engagement must not leak in
    late = T0 + timedelta(hours=2)
    hit(engine, "open", "a1", late)
    hit(engine, "open", "a1", late + timedelta(hours=1))  # twice: one unique opener
    hit(engine, "open", "a2", late, ua="Mozilla/5.0")  # Apple's prefetch: a machine
    hit(engine, "click", "a3", late, url="https://shop.example/tents")  # a click implies an open
    hit(engine, "click", "a3", late + timedelta(minutes=1), url="https://shop.example/tents")
    hit(engine, "click", "b1", late, ua="Barracuda Sentinel (EE)", url="https://shop.example/x")
    unsubscribe(engine, token("unsubscribe", "b2"))
    unsubscribe(engine, token("unsubscribe", "b2"))
    attribute(engine, [event("c1", "a3", late + timedelta(days=1), revenue=50),
                       event("c2", "h1", late + timedelta(days=1), revenue=30),
                       event("c3", "b1", late + timedelta(days=1), revenue=20)])  # fmt: skip
    results = campaign_results(engine, 1)
    assert results.campaign == "spring-1"
    assert results.started_at == T0
    assert [a.arm for a in results.arms] == ["A", "B", "holdout"]
    a, b, h = results.arms
    assert (a.recipients, a.sent, a.held_out) == (3, 3, 0)
    assert (a.unique_opens, a.machine_opens, a.unique_clicks, a.clicks) == (2, 1, 1, 2)
    assert (a.conversions, a.revenue, a.arm_conversions, a.arm_revenue) == (1, 50.0, 1, 50.0)
    assert a.open_rate == pytest.approx(2 / 3)
    assert a.click_to_open_rate == pytest.approx(1 / 2)
    assert a.conversion_rate == pytest.approx(1 / 3)
    assert (b.unique_opens, b.unique_clicks, b.machine_clicks, b.unsubscribes) == (0, 0, 1, 1)
    assert (b.conversions, b.arm_conversions, b.arm_revenue) == (0, 1, 20.0)  # scanner: no credit
    assert b.unsubscribe_rate == pytest.approx(1 / 2)
    assert b.click_to_open_rate is None
    assert (h.holdout, h.recipients, h.sent, h.held_out) == (True, 2, 0, 2)
    assert (h.conversions, h.arm_conversions, h.arm_revenue) == (0, 1, 30.0)
    assert h.open_rate is None
    assert h.arm_conversion_rate == pytest.approx(1 / 2)
    treated = results.treated
    assert (treated.arm, treated.recipients, treated.unique_opens, treated.arm_conversions) == (
        "treated",
        5,
        2,
        2,
    )
    data = results.to_dict()
    assert data["arms"][2]["holdout"] is True
    assert data["treated"]["recipients"] == 5
    assert json.loads(json.dumps(data)) == data  # JSON-ready
    frame = results.to_frame()
    assert frame["arm"].tolist() == ["A", "B", "holdout"]
    assert frame["unique_opens"].sum() == 2
    other = campaign_results(engine, 2)
    assert sum(x.unique_opens + x.unsubscribes + x.conversions for x in other.arms) == 0


def test_arm_results_add_up() -> None:
    x = ArmResults("A", recipients=10, sent=9, unique_opens=4, unique_clicks=2, revenue=5.0)
    y = ArmResults("B", recipients=5, sent=5, unique_opens=1, unique_clicks=1, revenue=1.5)
    both = x + y
    assert (both.arm, both.recipients, both.sent, both.unique_opens, both.revenue) == (
        "A+B",
        15,
        14,
        5,
        6.5,
    )
    assert both.click_rate == pytest.approx(3 / 14)


def test_results_of_an_unknown_campaign(engine: Engine) -> None:
    with pytest.raises(ConfigError, match="no campaign with id 41"):
        campaign_results(engine, 41)
    seed(engine, 5)
    assert [a.sent for a in campaign_results(engine, 5).arms] == [3, 2, 0]


def test_too_fast_threshold_is_configurable(engine: Engine) -> None:
    seed(engine)
    data = token("open", "a1")
    quick = RequestInfo("open", T0 + timedelta(seconds=1), user_agent=HUMAN)
    assert record(engine, data, quick, settings=BotSettings(too_fast_seconds=0.5)).rule is None
    assert record(engine, data, quick).rule == "too_fast"


def test_the_event_writer_attributes_in_its_transaction(engine: Engine) -> None:
    """The contract with :class:`EventWriter`: ``on_batch`` gets the new rows as stored."""
    import asyncio
    from functools import partial

    from streamwise.downstream.tracking.writer import EventWriter

    seed(engine)
    hit(engine, "click", "a1", T0 + timedelta(hours=1), url="https://shop.example/tents")
    on_batch = partial(attribute_conversions, conversion_events=[ORDER], attribution_days=7)
    writer = EventWriter(engine, on_batch=on_batch)
    writer.start()
    received = T0 + timedelta(days=1)
    base = {"type": "track", "anonymous_id": None, "name": None, "traits": None,
            "context": None, "original_timestamp": None, "sent_at": None,
            "received_at": received, "compacted": False}  # fmt: skip
    batch = [
        {**base, "message_id": "w1", "user_id": "a1", "event": ORDER, "timestamp": received,
         "properties": json.dumps({"revenue": 25})},
        {**base, "message_id": "w2", "user_id": "h1", "event": ORDER, "timestamp": received,
         "properties": json.dumps({"value": 3})},
        {**base, "message_id": "w3", "user_id": "a1", "event": "Product Viewed",
         "timestamp": received, "properties": None},
    ]  # fmt: skip
    try:
        assert asyncio.run(writer.submit(batch)) == 3
        assert asyncio.run(writer.submit(batch)) == 0  # duplicates: not new, not attributed
    finally:
        writer.stop()
    assert writer.stats().on_batch_errors == 0
    assert conversions(engine) == [
        ("w1", 1, "a1", "A", "https://shop.example/tents", "window", 25.0),
        ("w2", 1, "h1", "holdout", None, "window", 3.0),
    ]


def test_a_burst_is_caught_when_the_clicks_arrive_at_once(engine: Engine) -> None:
    """A scanner fetching every link in parallel: each request is judged after the others
    (the ledger row lock on PostgreSQL, the write lock on SQLite), so all are flagged."""
    import threading

    seed(engine)
    at = T0 + timedelta(hours=1)
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def click(i: int) -> None:
        try:
            start.wait()
            hit(engine, "click", "a1", at + timedelta(milliseconds=10 * i),
                url=f"https://shop.example/{i}")  # fmt: skip
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=click, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [(r.machine, r.rule) for r in rows(engine, "click")] == [(True, "burst")] * 6
