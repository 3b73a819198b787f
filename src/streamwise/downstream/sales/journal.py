"""The push journal: an append-only JSON Lines file in the workspace, one record per event of a
push, each on disk (``fsync``) before the push goes on.

Records (``type``): ``push`` (the plan: push id, run, URL without credentials, and per batch its
idempotency key, the SHA-256 of its body and its customer ids), ``batch`` (one delivery attempt's
outcome: status, HTTP code, attempts, detail, time) and ``done``. Names and e-mail addresses are
not written here; they stay in the analytics database, and a resumed push rebuilds the same bodies
from it and checks them against the recorded digests.

A crash can leave a last line cut short; reading skips a final line that is not complete JSON,
and the next append cuts it off (it was never acknowledged to anyone, so nothing depended on
it). A line that is not JSON anywhere else means the file was damaged, and is an error.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from streamwise.errors import DeliveryError

__all__ = ["JOURNAL_PATH", "PushJournal"]

#: Where the journal lives, relative to the workspace folder.
JOURNAL_PATH = Path("outbox") / "sales-pushes.jsonl"


class PushJournal:
    """The journal at ``path`` (created with its folder on first append)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def records(self) -> list[dict[str, Any]]:
        """Every complete record, oldest first."""
        if not self.path.exists():
            return []
        lines = self.path.read_bytes().split(b"\n")
        out: list[dict[str, Any]] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                if number == len(lines):  # a torn last line: the crash hit mid-write
                    break
                raise DeliveryError(
                    f"{self.path} line {number} is not JSON; the journal is damaged. Move it "
                    "aside to start over (a CRM that honours Idempotency-Key drops repeats)"
                ) from None
        return out

    def append(self, record: dict[str, Any]) -> None:
        """Write ``record`` as one line and force it to disk before returning."""
        new = not self.path.exists()
        if new:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        if not new:
            self._drop_torn_line()
        with self.path.open("ab") as handle:
            handle.write(line.encode() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        if new:
            _fsync_dir(self.path.parent)

    def _drop_torn_line(self) -> None:
        """Cut a last line without its newline (a crash mid-write) before appending."""
        with self.path.open("r+b") as handle:
            end = handle.seek(0, os.SEEK_END)
            if end == 0:
                return
            handle.seek(end - 1)
            if handle.read(1) == b"\n":
                return
            pos = end
            while pos > 0:
                start = max(0, pos - 65_536)
                handle.seek(start)
                block = handle.read(pos - start)
                cut = block.rfind(b"\n")
                if cut >= 0:
                    handle.truncate(start + cut + 1)
                    break
                pos = start
            else:
                handle.truncate(0)
            handle.flush()
            os.fsync(handle.fileno())

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold an exclusive lock on the journal for one push at a time.

        Raises
        ------
        DeliveryError
            When another process holds it.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock
            yield
            return
        with (self.path.parent / (self.path.name + ".lock")).open("a") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise DeliveryError(
                    "another sales push is running in this workspace; wait for it to finish"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _fsync_dir(path: Path) -> None:
    """Make a new file's directory entry durable (POSIX)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
