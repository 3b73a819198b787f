"""One sender per campaign at a time.

Two senders of one campaign would each treat the other's in-flight rows as left by a crash and
send them again, so :func:`sender_lease` takes an exclusive, non-blocking ``flock`` on a file in
the workspace for as long as a send runs. The kernel drops the lock when the process dies (even
by SIGKILL), so a crashed sender never blocks the resume. This covers senders on one machine
(the workspace's own); senders on several machines sharing a PostgreSQL database would need an
advisory lock there instead.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from streamwise.errors import ConfigError

__all__ = ["sender_lease"]


@contextmanager
def sender_lease(root: Path, campaign_id: int) -> Iterator[None]:
    """Hold the campaign's sender lock (raises ConfigError when another process holds it)."""
    folder = Path(root) / ".locks"
    folder.mkdir(exist_ok=True)
    path = folder / f"campaign-{campaign_id}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
            raise ConfigError(
                f"campaign {campaign_id} is being sent by process {holder}; wait for it, or "
                "pause the campaign with `streamwise campaign pause`"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock
