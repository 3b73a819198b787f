"""Delivering what journeys queued, through the campaigns' send ledger.

Each send or notify step has its own campaign row (state ``journey``); its messages are ledger
rows written by the step's transaction. Delivery is the campaigns' protocol unchanged (see
:mod:`streamwise.downstream.campaigns.ledger`): claim a batch (``pending`` → ``sending``,
committed), compose, push in chunks of the channel's pool size, record each chunk at once. A
worker holds a step campaign's sender lease (:mod:`~streamwise.downstream.campaigns.lease`:
a flock on SQLite, an advisory lock on PostgreSQL) while it delivers it, so two workers never
send the same step's messages; when it takes a lease it first settles the rows a crashed worker
left in ``sending`` (re-sent with the same Message-ID, or marked unknown with ``skip``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Engine, and_, create_engine, or_, select
from sqlalchemy.pool import NullPool

from streamwise.downstream.campaigns.compose import Composer
from streamwise.downstream.campaigns.lease import Lease, sender_lease
from streamwise.downstream.campaigns.ledger import Outcome, claim, record, recover
from streamwise.downstream.campaigns.service import campaign_channel, deliver_chunks
from streamwise.downstream.campaigns.settings import CampaignSettings
from streamwise.downstream.channels import Channel, OutgoingMessage, WebhookChannel
from streamwise.errors import ConfigError, StreamwiseError
from streamwise.store.db import session_factory
from streamwise.store.models import Campaign, CampaignSend

__all__ = ["Delivery", "DeliveryReport"]

log = logging.getLogger("streamwise.journeys")
S = CampaignSend.__table__
_RETRY_LEASE = 10.0  # seconds before asking again for a lease another worker holds


@dataclass(frozen=True)
class DeliveryReport:
    """Messages of one round: ``pushed`` (handed to a channel; its outcome is in the ledger)
    and ``failed`` (could not be rendered)."""

    pushed: int = 0
    failed: int = 0


@dataclass
class _Sender:
    campaign: Campaign
    lease: Lease
    channel: Channel
    compose: Callable[[CampaignSend], OutgoingMessage]
    batch: int


class Delivery:
    """Delivers journey steps' queued messages; holds leases until :meth:`close`."""

    def __init__(
        self,
        workspace: Any,
        engine: Engine,
        *,
        now: Callable[[], datetime],
        policy: Literal["resend", "skip"] = "resend",
    ) -> None:
        self.workspace = workspace
        self.engine = engine
        self.now = now
        self.policy = policy
        self._stack = ExitStack()
        self._senders: dict[int, _Sender] = {}
        self._refused: dict[int, float] = {}
        self.errors: dict[int, str] = {}
        # A PostgreSQL lease holds a connection of its own for as long as this worker sends the
        # step: outside the worker's pool, so that many steps cannot exhaust it.
        self._lease_engine = (
            create_engine(engine.url, poolclass=NullPool)
            if engine.dialect.name == "postgresql" else engine
        )  # fmt: skip

    def close(self) -> None:
        """Close channels and give the leases back."""
        self._senders.clear()
        self._stack.close()
        self._stack = ExitStack()
        if self._lease_engine is not self.engine:
            self._lease_engine.dispose()

    def _due(self, campaign_id: int) -> bool:
        """Whether the step has messages to send now — or, while another worker (or a crashed
        one) may hold its lease, messages left ``sending``, which the lease's next holder
        settles first."""
        due = or_(S.c.send_after.is_(None), S.c.send_after <= self.now())
        waiting = and_(S.c.status == "pending", due)
        if campaign_id not in self._senders:
            waiting = or_(waiting, S.c.status == "sending")
        with self.engine.connect() as con:
            query = select(S.c.id).where(S.c.campaign_id == campaign_id, waiting).limit(1)
            return con.execute(query).first() is not None

    def _sender(self, campaign_id: int) -> _Sender | None:
        if campaign_id in self._senders:
            return self._senders[campaign_id]
        if time.monotonic() - self._refused.get(campaign_id, -1e9) < _RETRY_LEASE:
            return None
        stack = ExitStack()
        try:
            lease = stack.enter_context(sender_lease(self.workspace.root, campaign_id,
                                                     engine=self._lease_engine))  # fmt: skip
        except ConfigError:  # another worker delivers this step
            self._refused[campaign_id] = time.monotonic()
            stack.close()
            return None
        try:
            with session_factory(self.engine)() as session:
                c = session.get(Campaign, campaign_id)
                assert c is not None
                session.expunge(c)
            sender = self._build(c, lease, stack)
        except StreamwiseError as exc:
            self.errors[campaign_id] = str(exc)
            self._refused[campaign_id] = time.monotonic()
            stack.close()
            return None
        recovered = recover(self.engine, campaign_id, policy=self.policy)
        if recovered:
            log.warning("campaign %s: %d message(s) a crash left in flight settled (%s)",
                        c.name, recovered, self.policy)  # fmt: skip
        self._stack.enter_context(stack)
        self._senders[campaign_id] = sender
        return sender

    def _build(self, c: Campaign, lease: Lease, stack: ExitStack) -> _Sender:
        raw = dict(c.settings or {})
        if "notify" in raw:
            n = raw["notify"]
            secret = _env(n.get("secret_env", "STREAMWISE_SALES_WEBHOOK_SECRET"), c.name)
            channel: Channel = WebhookChannel(n["url"], secret)
            stack.callback(channel.close)
            return _Sender(c, lease, channel, _notification, 100)
        s = CampaignSettings(**raw)
        channel = campaign_channel(self.workspace, c, s)
        stack.callback(channel.close)
        secret = self.workspace.settings.secret_key.get_secret_value()
        composer = Composer(int(c.id), c.name, s, secret)

        def compose(row: CampaignSend) -> OutgoingMessage:
            return composer.compose(customer_id=row.customer_id, address=row.address,
                                    arm=row.arm, message_id=row.message_id,
                                    context=dict(row.context or {}))  # fmt: skip

        return _Sender(c, lease, channel, compose, s.batch_size)

    def run(
        self, campaign_ids: Iterable[int], *, stop: Callable[[], bool], budget: float = 5.0
    ) -> DeliveryReport:
        """Deliver what is due for ``campaign_ids`` for at most about ``budget`` seconds,
        stopping between chunks when ``stop()`` says so."""
        pushed = failures = 0
        deadline = time.monotonic() + budget
        for cid in campaign_ids:
            if stop() or time.monotonic() > deadline or not self._due(cid):
                continue
            sender = self._sender(cid)
            if sender is None:
                continue
            while not stop() and time.monotonic() < deadline:
                try:
                    sender.lease.verify()
                except StreamwiseError as exc:  # the lock was lost: let another worker take it
                    log.error("%s", exc)
                    self._senders.pop(cid, None)
                    break
                rows = claim(self.engine, cid, sender.batch, now=self.now())
                if not rows:
                    break
                messages, failed = [], []
                for row in rows:
                    try:
                        messages.append(sender.compose(row))
                    except StreamwiseError as exc:
                        failed.append(Outcome(row.message_id, "failed", f"could not render: {exc}"))
                record(self.engine, failed)
                failures += len(failed)
                chunk = max(1, int(getattr(sender.channel, "pool_size", 1)))
                bad = {f.message_id for f in failed}
                deliver_chunks(self.engine, sender.campaign, sender.channel,
                               [r for r in rows if r.message_id not in bad], messages, chunk,
                               self.policy)  # fmt: skip
                pushed += len(messages)
        return DeliveryReport(pushed, failures)


def _env(variable: str, name: str) -> str:
    import os

    value = os.environ.get(variable, "")
    if len(value) < 16:
        raise ConfigError(
            f"{name} posts signed webhooks to the sales team; set the shared secret (16 "
            f"characters or more) in the environment variable {variable}"
        )
    return value


def _notification(row: CampaignSend) -> OutgoingMessage:
    """The sales team's webhook: the customer, the journey and the note (the ledger row's
    context), under the row's Message-ID as idempotency key."""
    meta = {"kind": "sales_handoff", "customer_id": row.customer_id}
    return OutgoingMessage(message_id=row.message_id, recipient=row.address,
                           payload=dict(row.context or {}), metadata=meta)  # fmt: skip
