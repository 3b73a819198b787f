"""The send ledger: one row per recipient, moved pending → sending → sent in committed steps.

The protocol (what makes a crash lose nothing and send nothing twice, as far as that is possible):

1. **Enrol** every recipient once, in one transaction, with their arm (variant or holdout) and a
   deterministic Message-ID. Held-out recipients are written as ``held_out`` and never sent.
2. **Claim** a batch: ``pending`` rows whose send time has come become ``sending`` (committed
   before any of them is handed to the channel).
3. **Record** each outcome as soon as the channel reports the batch: ``sent``, ``bounced``
   (the address is then suppressed), ``deferred`` (back to ``pending`` with a later send time
   until the attempts run out), ``failed``.
4. **Recover** on resume: rows left in ``sending`` by a crash are the only ones whose fate is
   unknown (their SMTP transaction may or may not have completed). They are re-sent with the
   *same* Message-ID (``policy="resend"``, the default, so a receiver that deduplicates by
   Message-ID shows them once) or marked ``unknown`` and not re-sent (``policy="skip"``).

So: every enrolled recipient is sent at least once unless the policy is ``skip``; a recipient is
sent twice only when the process died between the server's acceptance of the message and the
next ledger commit, which touches at most one batch per crash and always reuses the Message-ID.
Exactly-once across a network hop is impossible in general (the two-generals problem); this is
the strongest guarantee SMTP allows without the server's help.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any, Literal

from sqlalchemy import Engine, bindparam, case, func, select, update
from sqlalchemy.orm import Session

from streamwise.downstream.campaigns.assignment import HOLDOUT
from streamwise.downstream.campaigns.lifecycle import State, check_transition
from streamwise.errors import ConfigError
from streamwise.store.db import session_factory
from streamwise.store.models import Campaign, CampaignSend

__all__ = [
    "Enrolment",
    "Outcome",
    "batched",
    "campaign_by_name",
    "claim",
    "counts",
    "enrol",
    "move",
    "record",
    "recover",
    "release",
]


def batched(items: Iterable[Enrolment], n: int) -> Iterator[list[Enrolment]]:
    """Lists of up to ``n`` items (itertools.batched arrives with Python 3.12)."""
    it = iter(items)
    while part := list(islice(it, n)):
        yield part


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Enrolment:
    """One recipient to enrol."""

    customer_id: str
    address: str
    arm: str
    message_id: str
    send_after: datetime | None
    context: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """What the channel reported for one message."""

    message_id: str
    status: Literal["sent", "deferred", "bounced", "failed", "ambiguous"]
    detail: str = ""


def campaign_by_name(session: Session, name: str) -> Campaign:
    """The campaign called ``name`` (a clear error listing the campaigns when missing, or when
    it is a journey's send step, which no campaign command may touch)."""
    found = session.scalar(select(Campaign).where(Campaign.name == name))
    if found is None:
        names = session.scalars(select(Campaign.name).order_by(Campaign.name)).all()
        known = (
            ", ".join(names) if names else "none yet (create one with streamwise campaign create)"
        )
        raise ConfigError(f"no campaign named {name!r}; campaigns: {known}")
    if found.state == "journey":
        raise ConfigError(
            f"{name!r} is a send step of a journey, sent by `streamwise worker`; see it with "
            "`streamwise journey show JOURNEY` and pause or resume the journey instead"
        )
    return found


def move(engine: Engine, campaign_id: int, target: State) -> State:
    """Change a campaign's state if the lifecycle allows it; returns the previous state."""
    with session_factory(engine)() as session, session.begin():
        campaign = session.get(Campaign, campaign_id, with_for_update=True)
        if campaign is None:
            raise ConfigError(f"campaign {campaign_id} does not exist")
        before: State = campaign.state  # type: ignore[assignment]
        check_transition(before, target)
        campaign.state = target
        campaign.updated_at = _now()
    return before


def enrol(engine: Engine, campaign_id: int, rows: Iterable[Enrolment]) -> int:
    """Write the ledger rows of a campaign once (a second call adds no one twice).

    Returns the number of rows written now.
    """
    written = 0
    with session_factory(engine)() as session, session.begin():  # all or nobody
        have = set(session.scalars(
            select(CampaignSend.customer_id).where(CampaignSend.campaign_id == campaign_id)
        ))  # fmt: skip
        for part in batched(rows, 5_000):  # bounded memory, whatever the audience's size
            new = [
                {
                    "campaign_id": campaign_id, "customer_id": r.customer_id,
                    "address": r.address, "arm": r.arm, "message_id": r.message_id,
                    "status": "held_out" if r.arm == HOLDOUT else "pending", "attempts": 0,
                    "send_after": r.send_after, "detail": "", "context": r.context,
                }
                for r in part
                if r.customer_id not in have
            ]  # fmt: skip
            if new:
                session.execute(CampaignSend.__table__.insert(), new)
                written += len(new)
    return written


def claim(
    engine: Engine, campaign_id: int, limit: int, *, now: datetime | None = None
) -> list[CampaignSend]:
    """Mark up to ``limit`` due ``pending`` rows as ``sending`` (committed) and return them."""
    now = now or _now()
    with session_factory(engine)() as session, session.begin():
        due = (CampaignSend.send_after.is_(None)) | (CampaignSend.send_after <= now)
        ids = session.scalars(
            select(CampaignSend.id)
            .where(CampaignSend.campaign_id == campaign_id, CampaignSend.status == "pending", due)
            .order_by(CampaignSend.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not ids:
            return []
        session.execute(
            update(CampaignSend)
            .where(CampaignSend.id.in_(ids))
            .values(status="sending", claimed_at=now, attempts=CampaignSend.attempts + 1)
        )
        rows = session.scalars(select(CampaignSend).where(CampaignSend.id.in_(ids))).all()
        session.expunge_all()
    return list(rows)


def record(
    engine: Engine,
    outcomes: Sequence[Outcome],
    *,
    max_attempts: int = 5,
    retry_after: timedelta = timedelta(minutes=10),
    ambiguous: Literal["resend", "skip"] = "resend",
) -> dict[str, int]:
    """Write the channel's outcomes for claimed rows; deferred rows go back to ``pending`` with
    a later send time until ``max_attempts`` is reached; an ``ambiguous`` outcome (the message
    went out but no reply came) is settled like a crash: re-sent with the same Message-ID
    (``"resend"``) or marked ``unknown`` (``"skip"``). Returns counts per status written."""
    now = _now()
    written: dict[str, int] = {}
    sent = [o for o in outcomes if o.status == "sent"]
    rest = [o for o in outcomes if o.status != "sent"]
    with session_factory(engine)() as session, session.begin():
        if sent:  # the common case, one statement for the whole chunk
            table = CampaignSend.__table__
            keep = table.c.detail.like("re-sent after a crash%")
            result = session.execute(
                update(table)
                .where(table.c.message_id == bindparam("mid"), table.c.status == "sending")
                .values(status="sent", sent_at=now, detail=case(
                    (keep, table.c.detail + "; " + bindparam("d")), else_=bindparam("d")
                )),
                [{"mid": o.message_id, "d": o.detail[:1000]} for o in sent],
                execution_options={"synchronize_session": False},
            )  # fmt: skip
            if result.rowcount:
                written["sent"] = int(result.rowcount)
        wanted = [o.message_id for o in rest]
        found = (
            session.scalars(select(CampaignSend).where(CampaignSend.message_id.in_(wanted)))
            if rest else []
        )  # fmt: skip
        rows = {r.message_id: r for r in found}
        for o in rest:
            row = rows.get(o.message_id)
            if row is None or row.status != "sending":
                continue  # recorded already (a resumed run reporting the same message)
            status: str = o.status
            if o.status == "ambiguous":
                status = (
                    "pending"
                    if ambiguous == "resend" and row.attempts < max_attempts
                    else ("unknown")
                )
                row.status = status
            elif o.status == "deferred" and row.attempts < max_attempts:
                row.status, row.send_after = "pending", now + retry_after
            else:
                row.status = status
            kept = row.detail + "; " if row.detail.startswith("re-sent after a crash") else ""
            row.detail = (kept + o.detail)[:2000]  # a re-sent row keeps saying so
            written[row.status] = written.get(row.status, 0) + 1
    return written


def recover(
    engine: Engine, campaign_id: int, *, policy: Literal["resend", "skip"] = "resend"
) -> int:
    """Settle the rows a crash left in ``sending``: back to ``pending`` (re-sent with the same
    Message-ID) or ``unknown`` (not re-sent). Returns how many rows were settled."""
    if policy not in ("resend", "skip"):
        raise ConfigError(f"policy must be 'resend' or 'skip', not {policy!r}")
    status = "pending" if policy == "resend" else "unknown"
    detail = ("re-sent after a crash left its outcome unknown" if policy == "resend"
              else "outcome unknown after a crash; not re-sent")  # fmt: skip
    with session_factory(engine)() as session, session.begin():
        result = session.execute(
            update(CampaignSend)
            .where(CampaignSend.campaign_id == campaign_id, CampaignSend.status == "sending")
            .values(status=status, detail=detail)
        )
    return int(result.rowcount or 0)


def release(engine: Engine, ids: Sequence[int]) -> int:
    """Put claimed rows that were never handed to a channel back to ``pending``."""
    if not ids:
        return 0
    with session_factory(engine)() as session, session.begin():
        result = session.execute(
            update(CampaignSend)
            .where(CampaignSend.id.in_(list(ids)), CampaignSend.status == "sending")
            .values(status="pending", attempts=CampaignSend.attempts - 1)
        )
    return int(result.rowcount or 0)


def counts(engine: Engine, campaign_id: int) -> dict[str, int]:
    """Ledger rows per status."""
    with session_factory(engine)() as session:
        rows = session.execute(
            select(CampaignSend.status, func.count())
            .where(CampaignSend.campaign_id == campaign_id)
            .group_by(CampaignSend.status)
        ).all()
    return {s: int(n) for s, n in rows}
