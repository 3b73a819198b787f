"""Replay recipients' reactions (opens, clicks, unsubscribes, purchases) against a running
tracking server over HTTP, as mail clients and the shop's website would send them. The demo
uses it to close the loop on the sample business; see :mod:`streamwise.data.sample.recipients`."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx

__all__ = ["replay_reactions"]


def _local(url: str, public_base: str, server_url: str) -> str:
    return server_url.rstrip("/") + url.removeprefix(public_base.rstrip("/"))


def replay_reactions(
    reactions: Sequence[Any],
    *,
    server_url: str,
    public_base: str,
    ingest_key: str,
    threads: int = 8,
    batch: int = 100,
) -> Counter[str]:
    """Send every reaction to the server; returns counts by ``"<kind> <status>"``.

    Parameters
    ----------
    reactions
        :class:`~streamwise.data.sample.recipients.Reaction` objects.
    server_url
        Where the server listens, e.g. ``http://127.0.0.1:8000``.
    public_base
        The campaigns' ``tracking_base_url``; links under it are sent to ``server_url``.
    ingest_key
        An API key with the ``ingest`` scope, for the purchase events.
    threads, batch
        Concurrent requests, and purchase events per ``/v1/batch`` call.
    """
    counts: Counter[str] = Counter()
    with httpx.Client(timeout=30, follow_redirects=False) as client:

        def one(r: Any) -> str:
            url = _local(r.url, public_base, server_url)
            headers = {"User-Agent": r.user_agent}
            if r.kind == "unsubscribe":
                resp = client.post(url, data={"List-Unsubscribe": "One-Click"}, headers=headers)
            else:
                resp = client.get(url, headers=headers)
            return f"{r.kind} {resp.status_code}"

        web = [r for r in reactions if r.kind != "purchase"]
        with ThreadPoolExecutor(threads) as pool:
            counts.update(pool.map(one, web))
        purchases = [r for r in reactions if r.kind == "purchase"]
        now = datetime.now(UTC).isoformat()
        for i in range(0, len(purchases), batch):
            calls = [
                {"type": "track", "event": "Order Completed", "userId": r.customer_id,
                 "messageId": str(uuid.uuid4()), "timestamp": now,
                 "properties": {"revenue": r.revenue, "currency": "USD"}}
                for r in purchases[i : i + batch]
            ]  # fmt: skip
            resp = client.post(f"{server_url.rstrip('/')}/v1/batch", json={"batch": calls},
                               headers={"Authorization": f"Bearer {ingest_key}"})  # fmt: skip
            counts[f"purchase {resp.status_code}"] += len(calls)
    return counts
