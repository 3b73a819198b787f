"""SMS campaigns through the campaign service, posted to a real HTTP gateway on loopback that
verifies every signature: consent per channel, suppression, holdout, variants, segments, the
ledger's message ids as idempotency keys, retries, failures and invalid numbers."""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import text

from streamwise.downstream.audiences.suppression import suppress, suppressed
from streamwise.downstream.campaigns.preview import preview_message
from streamwise.downstream.campaigns.service import create_campaign, run_send, status
from streamwise.downstream.campaigns.sms import sms_length
from streamwise.downstream.tracking import sign_token, unsubscribe, verify_token
from streamwise.errors import ConfigError
from streamwise.workspace import Workspace

AUDIENCE = 'segment = "Weekend Campers"'


@pytest.fixture
def ws(sms_root: Path):
    with Workspace.open(sms_root) as w:
        yield w


def _members(ws: Workspace, where: str = "true") -> list[tuple[str, str, bool | None]]:
    """(customer_id, phone, sms_opt_in) of the Weekend Campers, read straight from DuckDB."""
    con: duckdb.DuckDBPyConnection = ws.duckdb()
    return con.execute(
        "SELECT c.customer_id, c.phone, c.sms_opt_in FROM customers c "
        "JOIN customer_segments s USING (customer_id) "
        "JOIN segment_clusters n ON n.cluster = s.segment "
        f"WHERE n.segment = 'Weekend Campers' AND {where} ORDER BY c.customer_id"
    ).fetchall()


def _ledger(ws: Workspace, name: str) -> dict[str, tuple[str, str, str]]:
    with ws.operational().connect() as con:
        rows = con.execute(
            text("SELECT s.message_id, s.address, s.status, s.detail FROM campaign_sends s "
                 "JOIN campaigns c ON c.id = s.campaign_id WHERE c.name = :n"), {"n": name}
        ).all()  # fmt: skip
    return {m: (a, st, d) for m, a, st, d in rows}


def test_sms_reaches_each_consented_number_once_with_variants_and_holdout(
    ws, gateway, sms_settings
) -> None:
    everyone = _members(ws)
    consented = {phone: cid for cid, phone, ok in everyone if ok}
    assert 0 < len(consented) < len(everyone)  # some have no SMS consent (or an unknown one)
    stopped = sorted(consented)[0]
    suppress(ws, "webhook", stopped, "unsubscribe")  # replied STOP
    create_campaign(ws, "tents-sms", audience=AUDIENCE, channel="webhook",
                    settings=sms_settings(gateway.url))  # fmt: skip
    report = run_send(ws, "tents-sms")
    assert report.state == "done"
    assert gateway.bad_signatures == 0  # every request verified with the shared secret
    keys = gateway.keys()
    assert len(keys) == len(set(keys)) == report.counts["sent"]  # nobody twice
    ledger = _ledger(ws, "tents-sms")
    sent = {m for m, (_, st, _) in ledger.items() if st == "sent"}
    assert set(keys) == sent  # the Idempotency-Key is the ledger's message id
    to = [r["to"] for r in gateway.accepted]
    assert set(to) <= set(consented) - {stopped}  # consented, not suppressed
    held = report.counts["held_out"]
    assert report.counts["sent"] + held == len(consented) - 1
    assert 0.03 < held / (len(consented) - 1) < 0.2  # holdout 10 %
    assert report.removed == {
        "no SMS consent": len(everyone) - len(consented),
        "suppressed: unsubscribed": 1,
    }
    bodies = [r["body"] for r in gateway.accepted]
    arms = Counter(b["metadata"]["variant"] for b in bodies)
    assert set(arms) == {"A", "B"}
    assert min(arms.values()) / len(bodies) > 0.35
    secret = ws.settings.secret_key.get_secret_value()
    for b in bodies:
        p = b["payload"]
        size = sms_length(p["text"])
        assert (p["encoding"], p["segments"]) == (size.encoding, size.segments)
        assert p["text"].endswith("\nReply STOP to opt out.")
        assert p["from"] == "Northwind"
        assert b["recipient"] == p["to"]
        if b["metadata"]["variant"] == "A":
            token = p["text"].split("https://t.northwind.example/c/")[1].split()[0]
            target = verify_token(secret, token, kind="click")
            assert target.url.startswith("https://shop.example/tents")
            assert "utm_source=sms-blast" in target.url
            assert "utm_medium=sms" in target.url
    assert report.segments == sum(b["payload"]["segments"] for b in bodies)
    assert status(ws, "tents-sms").state == "done"
    with pytest.raises(ConfigError, match="done"):
        run_send(ws, "tents-sms")
    assert len(gateway.accepted) == len(keys)  # a done campaign sends nothing more


def test_unsubscribing_from_a_text_message_stops_the_next_one(ws, gateway, sms_settings) -> None:
    create_campaign(ws, "sms-one", audience=AUDIENCE, channel="webhook",
                    settings=sms_settings(gateway.url))  # fmt: skip
    run_send(ws, "sms-one")
    sent = {a: m for m, (a, st, _) in _ledger(ws, "sms-one").items() if st == "sent"}
    phone = sorted(sent)[0]
    with ws.operational().connect() as con:
        cid, customer = con.execute(
            text("SELECT campaign_id, customer_id FROM campaign_sends WHERE message_id = :m"),
            {"m": sent[phone]},
        ).one()
    token = sign_token(ws.settings.secret_key.get_secret_value(), kind="unsubscribe",
                       campaign_id=str(cid), recipient_id=customer)  # fmt: skip
    data = verify_token(ws.settings.secret_key.get_secret_value(), token, kind="unsubscribe")
    done = unsubscribe(ws.operational(), data)
    assert done is not None
    assert done.changed
    assert done.subscription.channel == "webhook"
    lists = {ch: set(suppressed(ws, ch)["address"]) for ch in ("webhook", "email")}
    assert phone in lists["webhook"]
    assert phone not in lists["email"]
    before = len(gateway.accepted)
    create_campaign(ws, "sms-two", audience=AUDIENCE, channel="webhook",
                    settings=sms_settings(gateway.url))  # fmt: skip
    report = run_send(ws, "sms-two")
    second = [r["to"] for r in gateway.accepted[before:]]
    assert second
    assert phone not in second
    assert report.removed.get("suppressed: unsubscribed") == 1


def test_gateway_answers_retry_defer_fail_and_invalid_numbers_are_suppressed(
    ws, gateway, sms_settings
) -> None:
    people = [(cid, phone) for cid, phone, ok in _members(ws, "sms_opt_in") if ok][:6]
    (_, flaky), (_, busy), (_, bad), (_, invalid), (_, down), (_, fine) = people
    gateway.script = {
        flaky: [(503, {}, b"{}"), (200, {}, b"{}")],  # one 503, then accepted
        busy: [(429, {"Retry-After": "0"}, b"{}"), (200, {}, b"{}")],
        bad: [(400, {}, b'{"error": "malformed"}')],  # failed, not suppressed
        invalid: [(400, {}, b'{"error": "invalid_number", "code": 21211}')],
        down: [(503, {}, b"{}")],  # down until told otherwise
    }
    ids = ", ".join(f'"{cid}"' for cid, _ in people)
    create_campaign(ws, "answers", audience=f"customer_id in ({ids})", channel="webhook",
                    settings=sms_settings(gateway.url, holdout=0.0))  # fmt: skip
    first = run_send(ws, "answers")
    assert first.state == "sending"  # the deferred one waits for its retry time
    assert first.counts == {"sent": 3, "failed": 1, "bounced": 1, "pending": 1}
    ledger = {a: (st, d) for a, st, d in _ledger(ws, "answers").values()}
    assert ledger[fine][0] == ledger[flaky][0] == ledger[busy][0] == "sent"
    assert ledger[bad][0] == "failed"
    assert "malformed" in ledger[bad][1]
    assert ledger[invalid][0] == "bounced"
    assert ledger[down][0] == "pending"
    assert "503" in ledger[down][1]
    tries = Counter(r["to"] for r in gateway.requests)
    assert (tries[flaky], tries[busy], tries[down], tries[fine]) == (2, 2, 3, 1)  # 1 + 2 retries
    keys = {r["key"] for r in gateway.requests if r["to"] == flaky}
    assert len(keys) == 1  # a retry carries the same idempotency key
    entries = suppressed(ws, "webhook")
    assert entries["address"].tolist() == [invalid]  # only the invalid number
    assert entries["reason"].tolist() == ["hard_bounce"]
    gateway.script[down] = [(200, {}, b"{}")]
    later = datetime.now(UTC) + timedelta(minutes=11)
    done = run_send(ws, "answers", now=lambda: later)
    assert done.state == "done"
    assert done.counts == {"sent": 4, "failed": 1, "bounced": 1}
    assert Counter(r["to"] for r in gateway.accepted) == Counter({flaky: 1, busy: 1, fine: 1,
                                                                   down: 1})  # fmt: skip
    create_campaign(ws, "again", audience=f"customer_id in ({ids})", channel="webhook",
                    settings=sms_settings(gateway.url, holdout=0.0))  # fmt: skip
    again = run_send(ws, "again")
    assert again.removed == {"suppressed: hard bounce": 1}  # the invalid number is not retried


def test_long_or_unicode_texts_are_measured_and_too_long_ones_fail(
    ws, gateway, sms_settings
) -> None:
    settings = sms_settings(gateway.url, holdout=0.0, variants={
        "long": {"weight": 1, "text": "{{ first_name }}: " + "Tents and stoves on sale. " * 14},
        "emoji": {"weight": 1, "text": "⛺ {{ first_name }}, the forest is calling"},
    })  # fmt: skip
    settings["text_message"] |= {"max_segments": 2, "footer": ""}
    create_campaign(ws, "lengths", audience=AUDIENCE + " and email_consent", channel="webhook",
                    settings=settings)  # fmt: skip
    report = run_send(ws, "lengths")
    ledger = _ledger(ws, "lengths")
    failed = [d for _, st, d in ledger.values() if st == "failed"]
    assert failed
    assert all("segments" in d and "the limit is 2" in d for d in failed)
    bodies = [r["body"]["payload"] for r in gateway.accepted]
    assert bodies
    assert all(p["encoding"] == "UCS-2" and p["segments"] == 1 for p in bodies)
    assert report.counts["sent"] == len(bodies)
    assert report.counts["failed"] == len(failed)
    assert report.segments == len(bodies)
    with ws.operational().connect() as con:
        ids = con.execute(
            text("SELECT s.customer_id FROM campaign_sends s JOIN campaigns c "
                 "ON c.id = s.campaign_id WHERE c.name = 'lengths' ORDER BY s.id")
        ).scalars()  # fmt: skip
        some = list(ids)[:6]
    for cid in some:
        shown = preview_message(ws, "lengths", cid)
        assert shown.channel == "webhook"
        assert shown.address.startswith("+")
        assert shown.text is not None
        assert shown.message.payload["to"] == shown.address
        size = sms_length(shown.text)
        if shown.arm == "long":  # shown, with the reason it would not be sent
            assert size.segments == 3
            assert "the limit is 2" in str(shown.problem)
        else:
            assert (size.encoding, size.segments, shown.problem) == ("UCS-2", 1, None)


def test_webhook_campaigns_refuse_missing_consent_and_secrets_in_settings(
    ws, gateway, sms_settings
) -> None:
    base = sms_settings(gateway.url)
    no_text = {k: v for k, v in base.items() if k != "text_message"}
    with pytest.raises(ConfigError, match="text_message"):
        create_campaign(ws, "x", audience=AUDIENCE, channel="webhook", settings=no_text)
    leaky = base | {"channel": {**base["channel"], "secret": gateway.secret}}
    with pytest.raises(ConfigError, match="STREAMWISE_WEBHOOK_SECRET"):
        create_campaign(ws, "x", audience=AUDIENCE, channel="webhook", settings=leaky)
    email_like = {"A": {"subject": "s", "html": "<p>"}}
    with pytest.raises(ConfigError, match="needs its message in `text`"):
        create_campaign(ws, "x", audience=AUDIENCE, channel="webhook",
                        settings=base | {"variants": email_like})  # fmt: skip
    broken = {"A": {"text": "Hi {{ first_name"}}
    with pytest.raises(ConfigError, match="template error"):
        create_campaign(ws, "x", audience=AUDIENCE, channel="webhook",
                        settings=base | {"variants": broken})  # fmt: skip
    with pytest.raises(ConfigError, match="need channel webhook"):
        create_campaign(ws, "x", audience=AUDIENCE, channel="email", settings=base)
    wrong = {**base, "text_message": {"address_field": "phone", "consent_field": "chat_consent"}}
    create_campaign(ws, "no-such-column", audience=AUDIENCE, channel="webhook", settings=wrong)
    with pytest.raises(ConfigError, match=r"'chat_consent'.*its columns are"):
        run_send(ws, "no-such-column")
    assert status(ws, "no-such-column").state == "draft"  # refused before anything moved
    textual = {**base, "text_message": {"address_field": "phone", "consent_field": "first_name"}}
    create_campaign(ws, "not-boolean", audience=AUDIENCE, channel="webhook", settings=textual)
    with pytest.raises(ConfigError, match="not boolean"):
        run_send(ws, "not-boolean")
    create_campaign(ws, "ok", audience=AUDIENCE, channel="webhook", settings=base)
    os.environ.pop("STREAMWISE_WEBHOOK_SECRET")
    with pytest.raises(ConfigError, match="STREAMWISE_WEBHOOK_SECRET"):
        run_send(ws, "ok")
    assert status(ws, "ok").state == "draft"
    assert status(ws, "ok").counts == {}  # nobody enrolled either
    assert not gateway.requests  # nothing was posted by any of these
