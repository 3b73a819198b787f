"""SmtpChannel against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import time
from typing import Any

import pytest

from streamwise.downstream.channels import (
    OutgoingMessage,
    SmtpChannel,
    channel_from_config,
)
from streamwise.errors import ConfigError, DeliveryError

# aiosmtpd warns that the test server takes AUTH without TLS, which is what the test wants.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

Server = tuple[Any, int]  # (the scripted handler, the port)
FAST: dict[str, Any] = {"backoff": (0.01,), "timeout": 5.0}


def message(i: int, recipient: str | None = None) -> OutgoingMessage:
    to = recipient or f"customer{i}@example.com"
    payload = (
        f"From: Shop <news@shop.example>\r\nTo: <{to}>\r\nSubject: Offer {i}\r\n"
        f"Message-ID: <{i}@shop.example>\r\n\r\nHello {i},\r\n.a line starting with a dot\r\n"
        "ümlaut-free ascii body\r\n.\r\nend\r\n"
    ).encode()
    return OutgoingMessage(f"m{i}", to, payload, "bounces@shop.example", {"campaign": "c1"})


def test_all_messages_arrive_byte_identical(smtp_server: Server) -> None:
    handler, port = smtp_server
    messages = [message(i) for i in range(30)]
    with SmtpChannel("127.0.0.1", port, pool_size=3, **FAST) as channel:
        results = channel.push(messages)
    assert [r.message_id for r in results] == [m.message_id for m in messages]
    assert {r.status for r in results} == {"sent"}
    assert all(r.code == 250 and r.attempts == 1 for r in results)
    got = {rcvd.rcpt_tos[0]: rcvd for rcvd in handler.messages}
    assert len(handler.messages) == 30
    for m in messages:
        assert got[m.recipient].content == m.payload
        assert got[m.recipient].mail_from == "bounces@shop.example"


def test_pool_reuses_connections_across_pushes(smtp_server: Server) -> None:
    handler, port = smtp_server
    with SmtpChannel("127.0.0.1", port, pool_size=2, **FAST) as channel:
        channel.push([message(i) for i in range(20)])
        channel.push([message(i) for i in range(20, 40)])
        assert channel.connections_opened == 2
    assert len(handler.messages) == 40
    assert len(handler.peers) == 2


def test_4xx_then_success_is_sent_once(smtp_server: Server) -> None:
    handler, port = smtp_server
    handler.rcpt_replies["later@example.com"] = ["451 4.7.1 Greylisted, try later", "250 OK"]
    with SmtpChannel("127.0.0.1", port, **FAST) as channel:
        [result] = channel.push([message(1, "later@example.com")])
    assert (result.status, result.code, result.attempts) == ("sent", 250, 2)
    assert [m.rcpt_tos for m in handler.messages] == [["later@example.com"]]


def test_persistent_4xx_is_deferred_after_all_retries(
    smtp_server: Server,
) -> None:
    handler, port = smtp_server
    handler.rcpt_replies["full@example.com"] = ["452 4.2.2 Mailbox full"]
    with SmtpChannel("127.0.0.1", port, max_retries=2, **FAST) as channel:
        results = channel.push([message(1, "full@example.com"), message(2)])
    assert (results[0].status, results[0].code, results[0].attempts) == ("deferred", 452, 3)
    assert "Mailbox full" in results[0].detail
    assert results[1].status == "sent"


def test_5xx_bounces_with_server_code_and_text(smtp_server: Server) -> None:
    handler, port = smtp_server
    handler.rcpt_replies["gone@example.com"] = ["550 5.1.1 No such user here"]
    handler.data_replies["spam@example.com"] = ["554 5.7.1 Message rejected as spam"]
    with SmtpChannel("127.0.0.1", port, **FAST) as channel:
        gone, spam, ok = channel.push(
            [message(1, "gone@example.com"), message(2, "spam@example.com"), message(3)]
        )
    assert (gone.status, gone.code, gone.attempts) == ("bounced", 550, 1)
    assert "5.1.1 No such user here" in gone.detail
    assert (spam.status, spam.code) == ("bounced", 554)
    assert "rejected as spam" in spam.detail
    assert ok.status == "sent"  # the connection was reset and reused after the refusals
    assert [m.rcpt_tos for m in handler.messages] == [["customer3@example.com"]]


def test_dropped_connection_before_data_is_retried_on_a_fresh_one(
    smtp_server: Server,
) -> None:
    handler, port = smtp_server
    handler.rcpt_replies["flaky@example.com"] = ["drop", "250 OK"]
    with SmtpChannel("127.0.0.1", port, pool_size=1, **FAST) as channel:
        [result] = channel.push([message(1, "flaky@example.com")])
        assert channel.connections_opened == 2
    assert (result.status, result.attempts) == ("sent", 2)
    assert len(handler.messages) == 1


def test_no_reply_after_data_is_ambiguous_and_never_retried(
    smtp_server: Server,
) -> None:
    handler, port = smtp_server
    handler.data_replies["slow@example.com"] = ["slow 0.8"]
    with SmtpChannel("127.0.0.1", port, timeout=0.3, backoff=(0.01,)) as channel:
        [result] = channel.push([message(1, "slow@example.com")])
        assert (result.status, result.attempts, result.ambiguous) == ("failed", 1, True)
        assert result.detail.startswith("outcome unknown")
        time.sleep(0.8)
        assert channel.push([message(2)])[0].status == "sent"  # the channel recovers
    assert sorted(m.rcpt_tos[0] for m in handler.messages) == ["customer2@example.com"]


def test_throttle_spaces_transactions(smtp_server: Server) -> None:
    _, port = smtp_server
    with SmtpChannel("127.0.0.1", port, pool_size=4, rate_per_second=20, **FAST) as channel:
        channel.push([message(0)])  # connect first, so only the throttle is timed
        start = time.perf_counter()
        results = channel.push([message(i) for i in range(1, 11)])
        elapsed = time.perf_counter() - start
    assert {r.status for r in results} == {"sent"}
    assert elapsed >= (10 - 1) / 20 * 0.95


def test_server_down_fails_every_message_naming_host_and_port(closed_port: int) -> None:
    port = closed_port
    with SmtpChannel("127.0.0.1", port, max_retries=1, backoff=(0.01,), timeout=2) as channel:
        results = channel.push([message(i) for i in range(5)])
    assert {r.status for r in results} == {"failed"}
    assert all(f"127.0.0.1:{port}" in r.detail and r.attempts == 0 for r in results)
    assert not any(r.ambiguous for r in results)


def test_login_and_hidden_password(auth_smtp_server: Server) -> None:
    handler, port = auth_smtp_server
    good = SmtpChannel("127.0.0.1", port, username="marketer", password="s3cret-pass", **FAST)
    assert "s3cret" not in repr(good)
    assert "***" in repr(good)
    with good:
        assert good.push([message(1)])[0].status == "sent"
    bad = SmtpChannel("127.0.0.1", port, username="marketer", password="wrong", **FAST)
    with bad:
        [result] = bad.push([message(2)])
    assert result.status == "failed"
    assert "refused login" in result.detail
    assert "wrong" not in result.detail
    assert len(handler.messages) == 1


def test_invalid_input(smtp_server: Server) -> None:
    _, port = smtp_server
    with SmtpChannel("127.0.0.1", port, **FAST) as channel:
        bad = OutgoingMessage(
            "x", "a@b.c\r\nRCPT TO:<evil@x.y>", b"Subject: x\r\n\r\nx\r\n", "s@b.c"
        )
        [result] = channel.push([bad])
        assert (result.status, result.attempts) == ("failed", 0)
        with pytest.raises(DeliveryError, match="bytes"):
            channel.push([OutgoingMessage("y", "a@b.c", {"not": "bytes"}, "s@b.c")])
        assert channel.push([]) == []
    with pytest.raises(DeliveryError, match="closed"):
        channel.push([message(1)])


def test_built_from_config(smtp_server: Server) -> None:
    _, port = smtp_server
    channel = channel_from_config({"type": "email", "host": "127.0.0.1", "port": port})
    assert isinstance(channel, SmtpChannel)
    channel.close()
    with pytest.raises(ConfigError, match="one of"):
        channel_from_config({"type": "pigeon"})
    with pytest.raises(ConfigError, match="no setting"):
        channel_from_config({"type": "email", "host": "h", "colour": "red"})
    with pytest.raises(ConfigError, match="needs setting"):
        channel_from_config({"type": "email"})


def test_starttls_then_login(tls_smtp_server: tuple[Any, int, Any]) -> None:
    handler, port, client_ctx = tls_smtp_server
    with SmtpChannel(
        "127.0.0.1",
        port,
        username="marketer",
        password="s3cret-pass",
        starttls=True,
        tls_context=client_ctx,
        **FAST,
    ) as channel:
        results = channel.push([message(1), message(2)])
    assert [r.status for r in results] == ["sent", "sent"]
    assert sorted(m.content for m in handler.messages) == [message(1).payload, message(2).payload]
    with SmtpChannel("127.0.0.1", port, starttls=False, max_retries=0, **FAST) as plain:
        [refused] = plain.push([message(3)])
    assert (refused.status, refused.code) == ("failed", 530)
    assert "STARTTLS" in refused.detail
    assert len(handler.messages) == 2
