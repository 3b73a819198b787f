"""Each shipped template, driven by a simulated clock and real events posted to the tracking
server, reaches the right people at the right times through a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select

from streamwise.downstream.journeys import Worker, journey_report
from streamwise.downstream.journeys.schedule import utc
from streamwise.store.models import CampaignSend, CustomerAttribute, JourneyEntry, JourneyStep
from streamwise.workspace import Workspace

from .shop import START, Clock, Tracker, cid, consents, journey_data, shop

E = JourneyEntry.__table__


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ws(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workspace]:
    """The shop with its operational database on SQLite, then on a fresh PostgreSQL database."""
    url = None if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))
    with Workspace.open(shop(tmp_path / "ws", url)) as w:
        yield w
        w.operational().dispose()  # before the database is dropped


L = JourneyStep.__table__
S = CampaignSend.__table__


def runs(ws: Workspace, step: str) -> dict[str, list[datetime]]:
    """Customer → the times ``step`` ran for them (the worker's clock, UTC)."""
    out: dict[str, list[datetime]] = {}
    with ws.operational().connect() as con:
        for customer, at in con.execute(select(L.c.customer_id, L.c.at).where(L.c.step == step)):
            out.setdefault(customer, []).append(utc(at))
    return out


def entries(ws: Workspace) -> dict[str, list[tuple[str, str | None]]]:
    out: dict[str, list[tuple[str, str | None]]] = {}
    with ws.operational().connect() as con:
        for c, state, why in con.execute(select(E.c.customer_id, E.c.state, E.c.exit_reason)
                                         .order_by(E.c.id)):  # fmt: skip
            out.setdefault(c, []).append((state, why))
    return out


def emails(customers: list[int]) -> set[str]:
    return {f"c{i}@example.com" for i in customers if consents(i)}


def test_welcome_series(ws, mailbox, tracker: Tracker, install) -> None:
    """Sign-up → mail 1 at once; mail 2 three days later, only to those who did not buy."""
    box, port = mailbox
    install(ws, journey_data("welcome", port))
    clock = Clock()
    people = list(range(1, 11))
    for i in people:
        tracker.track(cid(i), "Signed Up", clock.t)
    with Worker(ws, now=clock) as worker:
        worker.run_once()
        assert set(box.to("Welcome")) == emails(people)  # 5 and 10 have no e-mail consent
        assert all(n == 1 for n in box.to("Welcome").values())
        tracker.track(cid(1), "Order Completed", clock.t + timedelta(days=1))
        tracker.track(cid(2), "Order Completed", clock.t + timedelta(days=2))
        clock.advance(days=3, seconds=-1)
        worker.run_once()
        assert not box.to("ships free")  # not yet
        clock.advance(seconds=1)
        worker.run_once()
        assert set(box.to("ships free")) == emails(people[2:])  # not those who bought
        tracker.track(cid(3), "Signed Up", clock.t)  # re-entry: never
        worker.run_once()
    ran = runs(ws, "nudge_mail")
    assert set(ran) == {cid(i) for i in people[2:]}  # consent is checked by the step
    assert all(at == [START + timedelta(days=3)] for at in ran.values())
    assert all(v == [("completed", "exit")] for v in entries(ws).values())
    assert len(box.messages()) == 8 + 6
    report = journey_report(ws, "welcome")
    assert {s.step: s.outcomes for s in report.steps}["bought_yet"] == {"yes": 2, "no": 8}


def test_cart_abandonment(ws, mailbox, tracker: Tracker, install) -> None:
    """An order exits before the reminder; a click (through /c/) skips the second reminder; an
    unsubscribe exits; the cool-down keeps a customer out for 7 days, then admits them again."""
    box, port = mailbox
    install(ws, journey_data("cart_abandonment", port))
    clock = Clock()
    for i in (1, 2, 3, 4, 6, 7):
        tracker.track(
            cid(i), "Cart Abandoned", clock.t, cart_url=f"https://shop.example.com/cart/{i}"
        )
    tracker.track(cid(4), "Cart Abandoned", clock.t)  # never twice at once
    with Worker(ws, now=clock) as worker:
        worker.run_once()
        tracker.track(cid(2), "Order Completed", clock.t + timedelta(minutes=30))
        clock.advance(minutes=30)
        worker.run_once()
        assert entries(ws)[cid(2)] == [("exited", "exit_on: event Order Completed")]
        clock.advance(minutes=30)
        worker.run_once()
        reminders = {str(m["To"]): m for m in box.messages() if "left something" in m["Subject"]}
        assert set(reminders) == emails([1, 3, 4, 6, 7])
        assert tracker.click(reminders["c1@example.com"]).startswith(
            "https://shop.example.com/cart/1"
        )
        unsubscribe = reminders["c7@example.com"]["List-Unsubscribe"].split("<")[1].split(">")[0]
        token = unsubscribe.rsplit("/u/", 1)[1]
        r = tracker.client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
        assert r.status_code == 200, r.text
        clock.advance(days=1)
        worker.run_once()
        assert set(box.to("10% off")) == emails([3, 4, 6])  # 1 clicked, 2 bought, 7 left
        assert entries(ws)[cid(7)] == [("exited", "exit_on: e-mail unsubscribed")]
        tracker.track(cid(3), "Cart Abandoned", clock.t)  # within the 7-day cool-down
        worker.run_once()
        assert len(entries(ws)[cid(3)]) == 1
        clock.advance(days=7)
        tracker.track(cid(3), "Cart Abandoned", clock.t)
        worker.run_once()
        clock.advance(hours=1)
        worker.run_once()
    assert [s for s, _ in entries(ws)[cid(3)]] == ["completed", "active"]
    assert len(entries(ws)[cid(4)]) == 1
    assert box.to("left something")["c3@example.com"] == 2
    ids = [m["Message-ID"] for m in box.messages() if m["To"] == "c3@example.com"
           and "left something" in m["Subject"]]  # fmt: skip
    assert len(set(ids)) == 2  # the second entry's reminder is a new message


def test_post_purchase_cross_sell(ws, mailbox, tracker: Tracker, install) -> None:
    """Three days after an order: the category most bought by the buyers of the same category
    (checked against the planted baskets and against DuckDB directly)."""
    box, port = mailbox
    install(ws, journey_data("post_purchase", port))
    clock = Clock()
    tracker.track(cid(1), "Order Completed", clock.t, category="tents")
    tracker.track(cid(22), "Order Completed", clock.t)  # no category: their history says
    tracker.track(cid(41), "Order Completed", clock.t, products=[{"category": "apparel"}])
    with Worker(ws, now=clock) as worker:
        worker.run_once()
        clock.advance(days=1)
        tracker.track(cid(1), "Order Completed", clock.t, category="sleeping")  # in it already
        worker.run_once()
        assert not box.messages()
        clock.advance(days=2)
        worker.run_once()
        got = {str(m["To"]): str(m["Subject"]).rsplit(" ", 1)[-1] for m in box.messages()}
        assert got == {"c1@example.com": "sleeping", "c22@example.com": "footwear",
                       "c41@example.com": "footwear"}  # fmt: skip
        tracker.track(cid(1), "Order Completed", clock.t, category="sleeping")  # after exit
        worker.run_once()
        clock.advance(days=3)
        worker.run_once()
    assert box.to()["c1@example.com"] == 2
    assert "tents" in [str(m["Subject"]) for m in box.messages()][-1]
    with duckdb.connect(str(ws.analytics_path), read_only=True) as con:
        best = dict(
            con.execute("""
            WITH b AS (SELECT DISTINCT o.customer_id, p.category FROM order_lines l
                       JOIN orders o USING (order_id) JOIN products p USING (product_id)),
            c AS (SELECT x.category AS cat, y.category AS other, count(*) AS n FROM b x
                  JOIN b y ON x.customer_id = y.customer_id AND x.category <> y.category
                  GROUP BY 1, 2)
            SELECT cat, arg_max(other, (n, -ascii(other))) FROM c GROUP BY cat""").fetchall()
        )
    assert best["tents"] == "sleeping"
    assert best["apparel"] == "footwear"
    assert best["backpacks"] == "footwear"


def test_win_back(ws, mailbox, tracker: Tracker, install, sales_hook) -> None:
    """P(alive) falling below 0.3 admits exactly those whose P(alive) fell (not those below it
    at the first evaluation); the A/B arm decides the offer; two weeks later buyers are marked
    won, valuable non-buyers are handed to sales by signed webhook, the rest marked lapsed."""
    box, port = mailbox
    data = journey_data("win_back", port)
    data["steps"][-3]["notify_sales"]["url"] = sales_hook.url
    install(ws, data)
    clock = Clock()
    with Worker(ws, now=clock) as worker:
        first = worker.run_once()
        assert first.evaluated == 1
        assert first.entered == 0  # the state is only recorded
        fallen = [30, 31, 32, 33, 34, 35]
        with duckdb.connect(str(ws.analytics_path)) as con:
            for i in fallen:
                con.execute("UPDATE customer_clv SET probability_alive = 0.1 WHERE customer_id = ?",
                            [cid(i)])  # fmt: skip
            con.execute("UPDATE customer_clv SET clv = 100 WHERE customer_id = ?", [cid(32)])
        clock.advance(hours=1)  # before `every` (1d): the changed file triggers the evaluation
        second = worker.run_once()
        assert second.entered == len(fallen)
        assert set(entries(ws)) == {cid(i) for i in fallen}
        with ws.operational().connect() as con:
            query = select(L.c.customer_id, L.c.outcome).where(L.c.step == "offer")
            arms = dict(con.execute(query).all())
        offers = {str(m["To"]): "20%" in str(m["Subject"]) for m in box.messages()}
        assert offers == {f"c{i}@example.com": arms[cid(i)] == "arm twenty"
                          for i in fallen if consents(i)}  # fmt: skip
        # the journey's seed is random: six customers may all draw one arm (p ≈ 3 %)
        assert set(arms.values()) <= {"arm ten", "arm twenty"}
        tracker.track(cid(31), "Order Completed", clock.t + timedelta(days=3))
        clock.advance(days=14)
        worker.run_once()
        again = worker.run_once()
        assert again.evaluated == 0  # evaluated a moment ago, and the file has not changed
        assert again.entered == 0
    with ws.operational().connect() as con:
        query = select(CustomerAttribute.customer_id, CustomerAttribute.value)
        marks = dict(con.execute(query).all())
    assert marks == {cid(31): "won"} | {cid(i): "lapsed" for i in (30, 32, 33, 34, 35)}
    assert sales_hook.bad_signatures == 0
    handed = sorted(h["body"]["payload"]["customer"]["customer_id"] for h in sales_hook.accepted)
    assert handed == [cid(i) for i in (30, 33, 34, 35)]  # 32 is not valuable, 31 came back
    note = sales_hook.accepted[0]["body"]["payload"]
    assert note["journey"] == "win_back"
    assert note["customer"]["clv"] >= 500


@pytest.mark.parametrize("template", ["welcome", "post_purchase", "win_back", "cart_abandonment"])
def test_template_reports(ws, mailbox, install, template: str) -> None:
    """Every template installs; its report lists every step and nobody yet."""
    _, port = mailbox
    install(ws, journey_data(template, port))
    report = journey_report(ws, template)
    assert report.entries == {}
    assert all(s.runs == 0 for s in report.steps)
    assert report.to_frame()["step"].tolist() == [s.step for s in report.steps]
