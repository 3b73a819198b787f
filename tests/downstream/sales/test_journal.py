"""The push journal survives a torn last line, refuses a damaged one and admits one push at a
time."""

from __future__ import annotations

import pytest

from streamwise.downstream.sales.journal import PushJournal
from streamwise.errors import DeliveryError


def test_a_torn_last_line_is_skipped_then_cut_off(tmp_path) -> None:
    journal = PushJournal(tmp_path / "outbox" / "pushes.jsonl")
    assert journal.records() == []
    journal.append({"type": "push", "push_id": "p"})
    with journal.path.open("ab") as handle:
        handle.write(b'{"type": "batch", "push_id": "p", "sta')  # a crash mid-write
    assert journal.records() == [{"type": "push", "push_id": "p"}]
    journal.append({"type": "done", "push_id": "p"})
    assert [r["type"] for r in PushJournal(journal.path).records()] == ["push", "done"]
    assert b"sta" not in journal.path.read_bytes()


def test_a_damaged_line_in_the_middle_is_an_error(tmp_path) -> None:
    journal = PushJournal(tmp_path / "pushes.jsonl")
    journal.path.write_text('{"type": "push", "push_id": "p"}\nnot json\n{"type": "done"}\n')
    with pytest.raises(DeliveryError, match="line 2 is not JSON"):
        journal.records()


def test_one_push_at_a_time(tmp_path) -> None:
    journal = PushJournal(tmp_path / "pushes.jsonl")
    other = PushJournal(tmp_path / "pushes.jsonl")
    busy = pytest.raises(DeliveryError, match="another sales push is running")
    with journal.lock(), busy, other.lock():
        pass
    with other.lock():  # released
        pass
