"""One sender per campaign at a time, on one machine or on several.

Two senders of one campaign would each treat the other's in-flight rows as left by a crash and
send them again, so :func:`sender_lease` holds an exclusive lock for as long as a send runs:

* **SQLite** (the workspace's own machine): a non-blocking ``flock`` on
  ``.locks/campaign-ID.lock`` in the workspace. The kernel drops it when the process dies, even
  by SIGKILL, so a crashed sender never blocks the resume.
* **PostgreSQL** (senders on several machines sharing the database): a session-level
  ``pg_try_advisory_lock(namespace, campaign id)`` on a connection of its own, held open for the
  whole send. PostgreSQL drops it when that session ends — when the process exits or is killed
  (its socket closes), and, through TCP keepalives set on the session, within about a minute
  when its machine vanishes. The session is named ``streamwise send pid N on HOST`` so a refused
  sender can say who holds the campaign.

A send calls :meth:`Lease.verify` before each batch: a PostgreSQL lock whose connection was lost
(the server restarted, a network cut) is no longer held, and the send stops rather than race a
sender that may have taken over.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from streamwise.errors import ConfigError, DeliveryError

__all__ = ["LOCK_NAMESPACE", "Lease", "holder", "sender_lease"]

#: First key of every campaign lock ("SWC1"), so they never collide with other advisory locks.
LOCK_NAMESPACE = 0x53574331

#: Session settings of the lock's connection: no idle timeout may end it, and the server probes
#: the client after 20 s of silence, every 10 s, 3 times (a vanished machine: ~50 s).
_SESSION = {
    "idle_session_timeout": "0",
    "idle_in_transaction_session_timeout": "0",
    "tcp_keepalives_idle": "20",
    "tcp_keepalives_interval": "10",
    "tcp_keepalives_count": "3",
}

# A setting this server does not know (idle_session_timeout came with PostgreSQL 14) is skipped.
_SET = text("SELECT set_config(:n, :v, false) WHERE current_setting(:n, true) IS NOT NULL")
_HOLDER = text(
    "SELECT a.pid, a.application_name, CAST(a.client_addr AS text), a.backend_start "
    "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
    "AND l.classid = CAST(CAST(:ns AS bigint) AS oid) "
    "AND l.objid = CAST(CAST(:cid AS bigint) AS oid)"
)
_MINE = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
    "AND pid = pg_backend_pid() AND classid = CAST(CAST(:ns AS bigint) AS oid) "
    "AND objid = CAST(CAST(:cid AS bigint) AS oid)"
)


@dataclass
class Lease:
    """A held sender lock; :meth:`verify` checks it is still held."""

    campaign_id: int
    kind: str  # "flock" or "postgresql"
    connection: Connection | None = None

    def verify(self) -> None:
        """Raise :class:`DeliveryError` when the lock has been lost (PostgreSQL only; a flock
        lasts as long as the process)."""
        if self.connection is None:
            return
        try:
            held = self.connection.execute(
                _MINE, {"ns": LOCK_NAMESPACE, "cid": self.campaign_id}
            ).scalar()
            self.connection.commit()
        except SQLAlchemyError as exc:
            held = 0
            reason = f"its database connection broke ({type(getattr(exc, 'orig', exc)).__name__})"
        else:
            reason = "PostgreSQL no longer lists it"
        if not held:
            raise DeliveryError(
                f"the sender lock of campaign {self.campaign_id} was lost: {reason}. The send "
                "stopped between batches; run `streamwise campaign resume` to go on"
            )


@contextmanager
def sender_lease(root: Path, campaign_id: int, *, engine: Engine | None = None) -> Iterator[Lease]:
    """Hold the campaign's sender lock for the duration of the ``with`` block.

    Parameters
    ----------
    root
        The workspace folder (where SQLite workspaces keep their lock files).
    campaign_id
        The campaign's id.
    engine
        The operational database: a PostgreSQL engine takes an advisory lock there (shared by
        every machine using the database); otherwise the flock in ``root`` is used.

    Raises
    ------
    ConfigError
        When another process holds the lock (the message says which).
    """
    if engine is not None and engine.dialect.name == "postgresql":
        with _advisory(engine, campaign_id) as lease:
            yield lease
        return
    folder = Path(root) / ".locks"
    folder.mkdir(exist_ok=True)
    path = folder / f"campaign-{campaign_id}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            who = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
            raise ConfigError(
                f"campaign {campaign_id} is being sent by process {who}; wait for it, or "
                "pause the campaign with `streamwise campaign pause`"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield Lease(campaign_id, "flock")
    finally:
        os.close(fd)  # closing releases the lock


def holder(connection: Connection, campaign_id: int) -> str | None:
    """Who holds the PostgreSQL sender lock of ``campaign_id`` (``None``: nobody)."""
    row = connection.execute(_HOLDER, {"ns": LOCK_NAMESPACE, "cid": campaign_id}).first()
    if row is None:
        return None
    pid, name, address, since = row
    where = f" from {address.split('/')[0]}" if address else ""
    started = f" since {since:%Y-%m-%d %H:%M:%S %Z}".rstrip() if since is not None else ""
    return f"{name or 'an unnamed session'} (PostgreSQL session {pid}{where}{started})"


@contextmanager
def _advisory(engine: Engine, campaign_id: int) -> Iterator[Lease]:
    me = f"streamwise send pid {os.getpid()} on {socket.gethostname()}"[:63]
    connection = engine.connect()  # its own connection, closed (not pooled) afterwards
    try:
        for name, value in {**_SESSION, "application_name": me}.items():
            connection.execute(_SET, {"n": name, "v": value})
        got = connection.execute(
            text("SELECT pg_try_advisory_lock(CAST(:ns AS integer), CAST(:cid AS integer))"),
            {"ns": LOCK_NAMESPACE, "cid": campaign_id},
        ).scalar()
        if not got:
            who = holder(connection, campaign_id) or "another session (it has just ended)"
            connection.rollback()
            raise ConfigError(
                f"campaign {campaign_id} is being sent by {who}; wait for it, or pause the "
                "campaign with `streamwise campaign pause` (the lock goes when that sender "
                "stops or dies)"
            )
        connection.commit()  # idle, not idle in a transaction, while the send runs
        yield Lease(campaign_id, "postgresql", connection)
        try:
            connection.execute(
                text("SELECT pg_advisory_unlock(CAST(:ns AS integer), CAST(:cid AS integer))"),
                {"ns": LOCK_NAMESPACE, "cid": campaign_id},
            )
            connection.commit()
        except SQLAlchemyError:
            pass  # the session is gone, and its lock with it
    finally:
        connection.invalidate()  # close the session (and any lock) rather than pool it
        connection.close()
