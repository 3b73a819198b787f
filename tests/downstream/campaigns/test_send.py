"""Sending a campaign to a real SMTP server: who gets what, headers, DKIM, unsubscribe links,
holdout, variants, suppression, pause and resume."""

from __future__ import annotations

import email
import re
import shutil
import threading
from collections import Counter
from email import policy
from pathlib import Path

import dkim
import pytest

from streamwise.downstream.audiences import Audience, resolve
from streamwise.downstream.audiences.suppression import suppress
from streamwise.downstream.campaigns.assignment import HOLDOUT
from streamwise.downstream.campaigns.service import create_campaign, pause, run_send, status
from streamwise.downstream.dkim import generate_key
from streamwise.downstream.tracking import verify_token
from streamwise.errors import ConfigError
from streamwise.workspace import Workspace

AUDIENCE = 'segment = "Weekend Campers"'


def settings(port: int, key_file: Path | None = None, **extra) -> dict:
    out = {
        "sender": {"address": "news@northwind.example", "name": "Northwind", "domain":
                   "northwind.example", "list_id": "Northwind news <news.northwind.example>",
                   "postal_address": "1 Trail Road, Portland, OR 97201, USA",
                   "organisation": "Northwind Outfitters"},
        "variants": {
            "A": {"weight": 1, "subject": "Hi {{ first_name }}, your tent is waiting",
                  "html": "<p>Hello {{ first_name }}!</p><a href='https://shop.example/tents'>Tents</a>"
                          "<p><a href='{{ unsubscribe_url }}'>Unsubscribe</a></p>"},
            "B": {"weight": 1, "subject": "Weekend plans, {{ first_name }}?",
                  "html": "<p>{{ first_name }}, sleep well outside.</p>"
                          "<a href='https://shop.example/sleeping'>Sleeping bags</a>"},
        },
        "holdout": 0.1,
        "tracking_base_url": "https://t.northwind.example",
        "utm": {"source": "newsletter", "medium": "email"},
        "channel": {"host": "127.0.0.1", "port": port, "pool_size": 2, "starttls": False},
        "batch_size": 50,
    }  # fmt: skip
    if key_file is not None:
        out["dkim"] = {"selector": "sw", "domain": "northwind.example", "key_file": str(key_file)}
    return out | extra


@pytest.fixture
def ws(demo_dir: Path, tmp_path: Path):
    shutil.copytree(demo_dir, tmp_path / "ws")
    with Workspace.open(tmp_path / "ws") as w:
        yield w


def test_a_campaign_reaches_each_eligible_member_once(ws, smtp, tmp_path: Path) -> None:
    controller, server = smtp
    pem, txt = generate_key()
    key = tmp_path / "dkim.pem"
    key.write_bytes(pem)
    members = resolve(ws, Audience("x", AUDIENCE)).members
    consented = members[members["email_consent"].astype(bool)]
    unsubscribed = consented["email"].iloc[0]
    suppress(ws, "email", unsubscribed, "unsubscribe")
    create_campaign(ws, "spring", audience=AUDIENCE, settings=settings(controller.port, key))
    report = run_send(ws, "spring")
    assert report.state == "done"
    ids = server.message_ids()
    assert len(ids) == len(set(ids))  # nobody twice
    sent = report.counts["sent"]
    held = report.counts.get(HOLDOUT, 0) + report.counts.get("held_out", 0)
    assert sent == len(ids)
    assert sent + held == len(consented) - 1  # everyone consented, minus the unsubscribed one
    assert 0.03 < held / (sent + held) < 0.2  # holdout 10 %
    msgs = [email.message_from_bytes(m, policy=policy.default) for m in server.messages]
    to = {str(m["To"]).lower() for m in msgs}
    assert unsubscribed.lower() not in to
    assert to <= set(consented["email"].str.lower())
    variants = Counter("tent" in str(m["Subject"]) for m in msgs)
    assert min(variants.values()) / sent > 0.35  # A/B split evenly
    txt_record = txt.encode()
    for raw, m in zip(server.messages[:20], msgs[:20], strict=False):
        assert dkim.verify(raw, dnsfunc=lambda *_a, **_k: txt_record)
        assert m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = str(m["List-Unsubscribe"]).split("<")[1].split(">")[0]
        token = verify_token(
            ws.settings.secret_key.get_secret_value(), url.rsplit("/", 1)[1], kind="unsubscribe"
        )
        assert token.campaign_id
        html = m.get_body(("html",)).get_content()
        clicks = re.findall(r"https://t\.northwind\.example/c/([A-Za-z0-9_.-]+)", html)
        assert clicks  # the shop link goes through the click tracker...
        target = verify_token(ws.settings.secret_key.get_secret_value(), clicks[0], kind="click")
        assert target.url.startswith("https://shop.example/")  # ...to the shop, UTM-tagged
        assert "utm_source=newsletter" in target.url
        assert "utm_content=" in target.url
        assert "shop.example" not in html  # no untracked copy of the link
    assert status(ws, "spring").state == "done"
    with pytest.raises(ConfigError, match="done"):
        run_send(ws, "spring")


def test_pause_stops_between_batches_and_resume_sends_the_rest_once(ws, smtp) -> None:
    controller, server = smtp
    create_campaign(ws, "pausable", audience="email_consent",
                    settings=settings(controller.port, holdout=0.0, batch_size=20))  # fmt: skip
    seen: list[int] = []

    def progress(counts: dict[str, int]) -> None:
        seen.append(counts.get("sent", 0))
        if len(seen) == 3:
            pause(ws, "pausable")

    first = run_send(ws, "pausable", on_progress=progress)
    assert first.state == "paused"
    assert 0 < first.counts["sent"] < sum(first.counts.values())
    with pytest.raises(ConfigError, match="paused"):
        run_send(ws, "pausable")
    from streamwise.downstream.campaigns.ledger import campaign_by_name, move
    from streamwise.store.db import session_factory

    with session_factory(ws.operational())() as s:
        cid = campaign_by_name(s, "pausable").id
    move(ws.operational(), cid, "sending")  # what `streamwise campaign resume` does
    done = run_send(ws, "pausable")
    assert done.state == "done"
    ids = server.message_ids()
    assert len(ids) == len(set(ids)) == done.counts["sent"]
    assert threading.active_count() < 50


def test_budget_pauses_the_campaign_when_spent(ws, smtp) -> None:
    controller, server = smtp
    create_campaign(ws, "thrifty", audience="email_consent",
                    settings=settings(controller.port, holdout=0.0, batch_size=7, budget=2.5,
                                      cost_per_message=0.1))  # fmt: skip
    report = run_send(ws, "thrifty")
    assert report.counts["sent"] == 25 == len(server.messages)  # 2.5 / 0.1
    assert report.state == "paused"
    assert "budget" in report.note
    assert report.counts["pending"] > 0


def test_scheduled_campaigns_wait_for_their_time(ws, smtp) -> None:
    from datetime import UTC, datetime, timedelta

    from streamwise.downstream.campaigns.service import run_due, schedule

    controller, server = smtp
    create_campaign(ws, "later", audience='segment = "Alpine Pros"',
                    settings=settings(controller.port))  # fmt: skip
    at = datetime.now(UTC) + timedelta(hours=2)
    schedule(ws, "later", at)
    with pytest.raises(ConfigError, match="scheduled for"):
        run_send(ws, "later")
    assert run_due(ws) == []  # not yet
    assert not server.messages
    reports = run_due(ws, now=lambda: at + timedelta(minutes=1))
    assert [r.state for r in reports] == ["done"]
    assert len(server.messages) == reports[0].counts["sent"] > 0


def test_one_sender_per_campaign(ws, tmp_path) -> None:
    from streamwise.downstream.campaigns.lease import sender_lease

    busy = pytest.raises(ConfigError, match="being sent by process")
    with sender_lease(ws.root, 99), busy, sender_lease(ws.root, 99):
        pass
    with sender_lease(ws.root, 99):  # released when the first holder left
        pass


def test_content_campaign_queues_each_post_once_and_exports_a_calendar(ws, tmp_path) -> None:
    from datetime import UTC, datetime

    import icalendar

    from streamwise.downstream.campaigns.service import content_calendar
    from streamwise.downstream.channels.social import SocialOutbox

    posts = [
        {"network": "instagram", "account": "@northwind", "text": "{{ campaign }}: tents!",
         "link": "https://shop.example/tents",
         "scheduled_at": datetime(2026, 12, 1, 9, tzinfo=UTC)},
        {"network": "linkedin", "account": "Northwind", "text": "We are hiring guides",
         "scheduled_at": datetime(2026, 12, 2, 9, tzinfo=UTC)},
        {"network": "blog", "account": "blog", "text": "Winter camping guide",
         "scheduled_at": datetime(2026, 12, 3, 9, tzinfo=UTC)},
    ]  # fmt: skip
    create_campaign(ws, "winter posts", audience="", channel="social",
                    settings={"posts": posts, "utm": {"source": "social"}})  # fmt: skip
    report = run_send(ws, "winter posts")
    assert report.state == "done"
    assert report.counts == {"sent": 3}
    outbox = SocialOutbox(ws.root / "outbox" / "social.jsonl")
    queued = outbox.scheduled_posts()
    outbox.close()
    assert [p.network for p in queued] == ["instagram", "linkedin", "blog"]
    assert queued[0].text == "winter posts: tents!"
    assert "utm_source=social" in (queued[0].link or "")
    cal = icalendar.Calendar.from_ical(content_calendar(ws, "winter posts"))
    assert len(list(cal.walk("VEVENT"))) == 3
    with pytest.raises(ConfigError, match="variant with a positive weight"):
        create_campaign(ws, "bad", audience="", channel="social", settings={"posts": []})
