"""Rendering and signing messages in worker processes (Python's GIL keeps one process to one
core; DKIM signing and Jinja rendering are CPU-bound), one batch ahead of delivery."""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from streamwise.downstream.campaigns.compose import Composer
from streamwise.downstream.campaigns.ledger import Outcome
from streamwise.downstream.campaigns.settings import CampaignSettings
from streamwise.downstream.channels.base import OutgoingMessage
from streamwise.errors import StreamwiseError

__all__ = ["Composition"]

_composer: Composer | None = None  # one per worker process, built once


def _start(campaign_id: int, name: str, settings: dict[str, Any], secret: str) -> None:
    global _composer
    _composer = Composer(campaign_id, name, CampaignSettings(**settings), secret)


def _compose(
    rows: list[tuple[str, str, str, str, dict]], composer: Composer | None = None
) -> tuple[list[OutgoingMessage], list[Outcome]]:
    composer = composer or _composer
    assert composer is not None
    messages, failed = [], []
    for customer_id, address, arm, mid, context in rows:
        try:
            messages.append(composer.compose(customer_id=customer_id, address=address, arm=arm,
                                             message_id=mid, context=context))  # fmt: skip
        except StreamwiseError as exc:
            failed.append(Outcome(mid, "failed", f"could not render: {exc}"))
    return messages, failed


def _context() -> multiprocessing.context.BaseContext | None:
    """Fork (the default, fastest start) unless JAX runs in this process (the media mix model
    was fitted here): forking a multithreaded JAX process can deadlock, so spawn then."""
    return multiprocessing.get_context("spawn") if "jax" in sys.modules else None


class Composition:
    """Composes batches of ledger rows, in ``workers`` processes or in this one."""

    def __init__(
        self, campaign_id: int, name: str, settings: CampaignSettings, secret: str,
        workers: int | None,
    ) -> None:  # fmt: skip
        self.local = Composer(campaign_id, name, settings, secret)
        n = (os.cpu_count() or 1) if workers is None else workers
        self.workers = n if n > 1 and (workers is not None or settings.batch_size >= 200) else 0
        self.pool = (
            ProcessPoolExecutor(self.workers, initializer=_start, mp_context=_context(),
                                initargs=(campaign_id, name, settings.model_dump(mode="json"),
                                          secret))
            if self.workers else None
        )  # fmt: skip

    def submit(self, rows: list[Any]) -> Any:
        """Start composing ``rows`` (ledger rows); returns a handle for :meth:`result`."""
        plain = [(r.customer_id, r.address, r.arm, r.message_id, dict(r.context or {}))
                 for r in rows]  # fmt: skip
        if self.pool is None:
            return plain
        size = -(-len(plain) // self.workers)
        return [self.pool.submit(_compose, plain[i : i + size])
                for i in range(0, len(plain), size)]  # fmt: skip

    def result(self, job: Any) -> tuple[list[OutgoingMessage], list[Outcome]]:
        """The messages (in row order) and the rows that could not be rendered."""
        if self.pool is None:
            return _compose(job, self.local)
        messages: list[OutgoingMessage] = []
        failed: list[Outcome] = []
        for part in job:
            m, f = part.result() if isinstance(part, Future) else part
            messages += m
            failed += f
        return messages, failed

    def close(self) -> None:
        """Stop the worker processes."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
