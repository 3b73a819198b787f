"""Push the ranked list to a CRM: batches of leads POSTed as signed JSON, resumable after a crash.

Each batch goes out through :class:`~streamwise.downstream.channels.webhook.WebhookChannel`:
``X-Streamwise-Signature: t=<unix time>,v1=<HMAC-SHA256 of "t.body">`` with the shared secret
(taken from the environment by the command line, never stored or logged), ``Idempotency-Key``,
and retries with backoff on 408/429/5xx or a refused connection.

Keys are deterministic: ``sales-<push id>-<batch number>``, where the push id is a digest of
the hand-off run, the URL and the selection (top, segment, batch size), and the body of a batch is
a deterministic function of the run. Every step is journaled
(:class:`~streamwise.downstream.sales.journal.PushJournal`) and synced to disk before the next.
Running the same push again therefore resumes it: batches whose acknowledgement (a 2xx answer) is
in the journal are never sent again; the others are sent with the same key and the same bytes.

Guarantee: when a push reports ``done``, the CRM acknowledged every batch. A batch can reach the
CRM more than once only when it was sent but its acknowledgement was not journaled (a retry after
a lost answer, or a crash between the answer and the journal write); it then carries the same
Idempotency-Key and the same body, so a CRM that honours the key keeps it once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from streamwise.downstream.channels.base import DeliveryResult, OutgoingMessage
from streamwise.downstream.channels.webhook import WebhookChannel
from streamwise.downstream.sales.export import ranked_batches
from streamwise.downstream.sales.handoff import HandOff, load_hand_off
from streamwise.downstream.sales.journal import JOURNAL_PATH, PushJournal
from streamwise.errors import ConfigError, DeliveryError

__all__ = ["MAX_PUSH_LEADS", "Batch", "PushReport", "plan_batches", "push_leads", "redact_url"]

#: Most leads one push carries: a push holds its batches in memory (about 1 KB a lead) and
#: journals their customer ids; bulk transfers are what the CSV export is for.
MAX_PUSH_LEADS = 100_000


@dataclass(frozen=True)
class Batch:
    """One request of a push: its number (1-based), idempotency key, body and customers."""

    number: int
    key: str
    payload: dict[str, Any]
    body: bytes
    customers: tuple[str, ...]

    @property
    def sha256(self) -> str:
        """Digest of the body, as journaled."""
        return hashlib.sha256(self.body).hexdigest()


@dataclass(frozen=True)
class PushReport:
    """What one push command did.

    Attributes
    ----------
    push_id, run_id, url
        The push, the hand-off run it carries and where to (without credentials).
    batches, leads
        Batches and leads in the whole push.
    acknowledged_before
        Batches acknowledged by earlier attempts (not sent again).
    results
        This attempt's outcome per batch sent.
    done
        Every batch is acknowledged.
    """

    push_id: str
    run_id: str
    url: str
    batches: int
    leads: int
    acknowledged_before: int
    results: tuple[DeliveryResult, ...]
    done: bool

    @property
    def sent(self) -> int:
        """Batches acknowledged in this attempt."""
        return sum(r.status == "sent" for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "push_id": self.push_id, "run_id": self.run_id, "url": self.url,
            "batches": self.batches, "leads": self.leads,
            "acknowledged_before": self.acknowledged_before, "sent": self.sent,
            "done": self.done, "results": [r.to_dict() for r in self.results],
        }  # fmt: skip


def redact_url(url: str) -> str:
    """``url`` without user, password, query or fragment (what may be shown and journaled)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _body(payload: dict[str, Any]) -> bytes:
    # Exactly how WebhookChannel serialises a payload without its envelope.
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _lead(row: Any) -> dict[str, Any]:
    def text(v: Any) -> str | None:
        return v if isinstance(v, str) and v else None

    p = row["p_buy"]
    return {
        "rank": int(row["rank"]),
        "customer_id": row["customer_id"],
        "name": text(row["name"]),
        "email": text(row["email"]),
        "lead": bool(row["is_lead"]),
        "score": None if p != p else float(row["score"]),
        "p_buy": None if p != p else round(float(p), 4),
        "segment": text(row["segment"]),
        "persona": text(row["persona"]),
        "reasons": [str(r) for r in row["reasons"]],
    }


def plan_batches(
    workspace: Any,
    run: HandOff,
    url: str,
    *,
    top: int | None,
    segment: str | None,
    batch_size: int,
) -> tuple[str, list[Batch]]:
    """The push id and its batches (deterministic for the same run, URL and selection)."""
    if batch_size < 1:
        raise ConfigError("batch_size must be at least 1")
    if top is None or top > MAX_PUSH_LEADS:
        wanted = run.counts["customers"] + run.counts["leads"] + run.counts["unscored_leads"]
        if top is not None or wanted > MAX_PUSH_LEADS:
            raise ConfigError(
                f"a push carries at most {MAX_PUSH_LEADS:,} leads; choose fewer with --top, or "
                "export everyone with `streamwise sales leads --top 0 --csv FILE`"
            )
    selection = json.dumps([run.run_id, url, top, segment, batch_size])
    push_id = hashlib.sha256(selection.encode()).hexdigest()[:16]
    leads = [
        _lead(row)
        for frame in ranked_batches(workspace, run, top=top, segment=segment)
        for row in frame.to_dict(orient="records")
    ]
    chunks = [leads[i : i + batch_size] for i in range(0, len(leads), batch_size)]
    batches = []
    for number, chunk in enumerate(chunks, start=1):
        payload = {
            "push_id": push_id, "run_id": run.run_id, "as_of": run.as_of.isoformat(),
            "horizon_days": run.horizon_days, "batch": number, "batches": len(chunks),
            "leads": chunk,
        }  # fmt: skip
        batches.append(
            Batch(number, f"sales-{push_id}-{number:05d}", payload, _body(payload),
                  tuple(lead["customer_id"] for lead in chunk))
        )  # fmt: skip
    return push_id, batches


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _state(records: Sequence[dict[str, Any]], push_id: str) -> tuple[dict | None, set[int]]:
    plan = next((r for r in records if r["type"] == "push" and r["push_id"] == push_id), None)
    acked = {
        int(r["batch"])
        for r in records
        if r["type"] == "batch" and r["push_id"] == push_id and r["status"] == "sent"
    }
    return plan, acked


def push_leads(
    workspace: Any,
    url: str,
    secret: str,
    *,
    run: HandOff | None = None,
    top: int | None = 100,
    segment: str | None = None,
    batch_size: int = 100,
    timeout: float = 10.0,
    max_retries: int = 3,
    backoff: Sequence[float] = (0.5, 2.0, 8.0),
    transport: httpx.BaseTransport | None = None,
) -> PushReport:
    """Push the ranked list (the latest hand-off run by default) to ``url``, or resume the same
    push; stops at the first batch that is not acknowledged (run it again to resume).

    Parameters
    ----------
    url
        The CRM's endpoint (http or https).
    secret
        The shared HMAC secret (at least 16 characters).
    top, segment
        Which rows: the first ``top`` (``None``: all) of one segment or of everyone.
    batch_size
        Leads per request.
    timeout, max_retries, backoff, transport
        Passed to :class:`~streamwise.downstream.channels.webhook.WebhookChannel`.

    Raises
    ------
    DeliveryError
        When another push runs, or the journal's digests no longer match the run's batches.
    """
    run = run or load_hand_off(workspace)
    journal = PushJournal(workspace.root / JOURNAL_PATH)
    shown = redact_url(url)
    with journal.lock():
        push_id, batches = plan_batches(
            workspace, run, url, top=top, segment=segment, batch_size=batch_size
        )
        plan, acked = _state(journal.records(), push_id)
        if plan is None:
            journal.append({
                "type": "push", "push_id": push_id, "run_id": run.run_id, "url": shown,
                "at": _now(), "top": top, "segment": segment, "batch_size": batch_size,
                "batches": [{"batch": b.number, "key": b.key, "sha256": b.sha256,
                             "customers": list(b.customers)} for b in batches],
            })  # fmt: skip
        elif [b["sha256"] for b in plan["batches"]] != [b.sha256 for b in batches]:
            raise DeliveryError(
                f"push {push_id}: the batches rebuilt from hand-off run {run.run_id} differ from "
                "those journaled when the push began; nothing was sent"
            )
        results: list[DeliveryResult] = []
        pending = [b for b in batches if b.number not in acked]
        if pending:
            with WebhookChannel(
                url, secret, timeout=timeout, max_retries=max_retries, backoff=backoff,
                envelope=False, transport=transport,
            ) as channel:  # fmt: skip
                for batch in pending:
                    message = OutgoingMessage(batch.key, shown, batch.payload)
                    result = channel.push([message])[0]
                    outcome = {k: v for k, v in result.to_dict().items() if k != "message_id"}
                    journal.append({"type": "batch", "push_id": push_id, "batch": batch.number,
                                    "key": batch.key, "at": _now(), **outcome})  # fmt: skip
                    results.append(result)
                    if result.status != "sent":
                        break
        done = len(acked) + sum(r.status == "sent" for r in results) == len(batches)
        if done and (pending or plan is None):
            journal.append({"type": "done", "push_id": push_id, "at": _now()})
    return PushReport(
        push_id=push_id, run_id=run.run_id, url=shown, batches=len(batches),
        leads=sum(len(b.customers) for b in batches), acknowledged_before=len(acked),
        results=tuple(results), done=done,
    )  # fmt: skip
