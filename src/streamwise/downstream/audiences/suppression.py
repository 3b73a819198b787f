"""The suppression list in the operational database (SQLite or PostgreSQL).

One row per channel and normalised address (stripped, lower-cased). Adding an address twice
changes nothing but may strengthen the reason: a complaint outranks an unsubscribe, which
outranks a hard bounce, which outranks a manual entry, so a manual entry never hides (and
:func:`unsuppress` never lifts) an unsubscribe. Only manual entries can be lifted.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, get_args

import pandas as pd
from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from streamwise.downstream.audiences.rules import REASONS, normalise_address
from streamwise.errors import ConfigError, DataError
from streamwise.store import Suppression, session_factory
from streamwise.store.db import engine_of, needs_table

if TYPE_CHECKING:
    from streamwise.workspace import Workspace

__all__ = ["SuppressionEntry", "SuppressionReason", "suppress", "suppressed", "unsuppress"]

SuppressionReason = Literal["unsubscribe", "hard_bounce", "complaint", "manual"]
_PRECEDENCE = {reason: i for i, reason in enumerate(REASONS)}  # complaint first
COLUMNS = ["channel", "address", "customer_id", "reason", "source", "created_at"]


@dataclass(frozen=True)
class SuppressionEntry:
    """One row of the suppression list."""

    channel: str
    address: str
    customer_id: str | None
    reason: str
    source: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """The entry, JSON-ready."""
        return {**asdict(self), "created_at": self.created_at.isoformat()}

    def to_frame(self) -> pd.DataFrame:
        """The entry as a one-row frame."""
        return pd.DataFrame([asdict(self)], columns=COLUMNS)


def suppress(
    target: Engine | Workspace,
    channel: str,
    address: str,
    reason: SuppressionReason,
    *,
    customer_id: str | None = None,
    source: str = "",
) -> SuppressionEntry:
    """Add ``address`` to the suppression list of ``channel`` (idempotent).

    An existing entry keeps its creation time; it takes the stronger reason and, when it had
    none, the customer id and source given here.

    Raises
    ------
    ConfigError
        For an unknown reason or an empty channel.
    DataError
        For an empty address.
    """
    channel, key = _check(channel, address)
    if reason not in get_args(SuppressionReason):
        raise ConfigError(
            f"unknown suppression reason {reason!r}; use one of "
            + ", ".join(get_args(SuppressionReason))
        )
    engine = _engine(target)
    values = {
        "channel": channel,
        "address": key,
        "customer_id": customer_id,
        "reason": reason,
        "source": source,
        "created_at": datetime.now(UTC),
    }
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    with _tables(engine), session_factory(engine).begin() as session:
        session.execute(insert(Suppression).values(**values).on_conflict_do_nothing())
        row = _find(session, channel, key, lock=True)
        assert row is not None
        if _PRECEDENCE[reason] < _PRECEDENCE.get(row.reason, len(_PRECEDENCE)):
            row.reason = reason
        if row.customer_id is None and customer_id is not None:
            row.customer_id = customer_id
        if not row.source and source:
            row.source = source
        session.flush()
        return _entry(row)


def suppressed(target: Engine | Workspace, channel: str) -> pd.DataFrame:
    """The suppression list of ``channel``: ``channel, address, customer_id, reason, source,
    created_at``, oldest first."""
    channel = channel.strip().lower()
    engine = _engine(target)
    with _tables(engine), session_factory(engine)() as session:
        rows = session.scalars(
            select(Suppression)
            .where(Suppression.channel == channel)
            .order_by(Suppression.created_at, Suppression.id)
        ).all()
        return pd.DataFrame([asdict(_entry(r)) for r in rows], columns=COLUMNS)


def unsuppress(target: Engine | Workspace, channel: str, address: str) -> bool:
    """Lift a manual suppression; returns whether there was one.

    Raises
    ------
    ConfigError
        When the address is suppressed for another reason (an unsubscribe, a hard bounce or a
        complaint), which only the person or the mailbox can lift.
    """
    channel, key = _check(channel, address)
    engine = _engine(target)
    with _tables(engine), session_factory(engine).begin() as session:
        row = _find(session, channel, key, lock=True)
        if row is None:
            return False
        if row.reason != "manual":
            raise ConfigError(
                f"{key} is suppressed on {channel} because of {row.reason.replace('_', ' ')!r}, "
                "not by hand; only manual suppressions can be lifted"
            )
        session.execute(delete(Suppression).where(Suppression.id == row.id))
        return True


def _check(channel: str, address: str) -> tuple[str, str]:
    channel = channel.strip().lower() if isinstance(channel, str) else ""
    if not channel:
        raise ConfigError("a suppression needs a channel, e.g. 'email'")
    key = normalise_address(address)
    if not key:
        raise DataError("the address to suppress is empty; give an e-mail address or id")
    if len(key) > 320:
        raise DataError(f"the address is {len(key)} characters long; the limit is 320")
    return channel, key


def _find(session: Session, channel: str, key: str, *, lock: bool) -> Suppression | None:
    query = select(Suppression).where(Suppression.channel == channel, Suppression.address == key)
    return session.scalars(query.with_for_update() if lock else query).first()


def _entry(row: Suppression) -> SuppressionEntry:
    created = row.created_at
    created = created if created.tzinfo is not None else created.replace(tzinfo=UTC)
    return SuppressionEntry(
        row.channel, row.address, row.customer_id, row.reason, row.source, created
    )


def _engine(target: Engine | Workspace) -> Engine:
    return engine_of(target)


def _tables(engine: Engine) -> AbstractContextManager[None]:
    return needs_table(engine, "suppressions", "suppression list")
