"""Recording what recipients do with a campaign's message: opens, clicks, unsubscribes and the
conversions that follow.

Each open or click is one ``engagements`` row, with the campaign, variant and recipient of its
signed token, flagged ``machine`` with the :mod:`~streamwise.downstream.tracking.bots` rule that
fired. An unsubscribe puts the recipient's address (from the send ledger) on the ``email``
suppression list, so the next send skips it, and is recorded once.

Conversions are attributed as the event writer stores ``track`` events (see
:func:`attribute_conversions`); :mod:`~streamwise.downstream.tracking.results` counts it all per
arm. Everything here is SQLAlchemy Core with bound parameters, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, false, func, insert, select, update

from streamwise.downstream.audiences.rules import normalise_address
from streamwise.downstream.audiences.suppression import suppress
from streamwise.downstream.tracking.bots import BotSettings, History, RequestInfo, detect
from streamwise.downstream.tracking.tokens import TokenData
from streamwise.errors import DataError
from streamwise.store.models import Campaign, CampaignSend, Engagement, Suppression

__all__ = [
    "Recorded",
    "Subscription",
    "Unsubscribed",
    "attribute_conversions",
    "record",
    "subscription",
    "unsubscribe",
]

Scrub = Callable[[str | None], str | None]
E = Engagement.__table__
S = CampaignSend.__table__
_CHUNK = 500  # ids per IN (...) list, well under every driver's parameter limit
#: The ``rule`` of a conversion credited by its campaign's window (intent to treat).
WINDOW = "window"

# Statements of :func:`record`, built once (the pixel is the busiest endpoint).
_LEDGER = (
    select(S.c.sent_at, S.c.claimed_at, S.c.status)
    .where(S.c.campaign_id == bindparam("cid"), S.c.customer_id == bindparam("rid"))
    .with_for_update()
)
_INSERT = insert(E)
_NEAR_CLICKS = and_(
    E.c.kind == "click", E.c.campaign_id == bindparam("cid"), E.c.customer_id == bindparam("rid"),
    E.c.id != bindparam("row_id"), E.c.ts >= bindparam("lo"), E.c.ts <= bindparam("hi"),
)  # fmt: skip
_NEAR = select(E.c.ts, E.c.url).where(_NEAR_CLICKS)
_FLAG = (
    update(E).where(E.c.id == bindparam("row_id")).values(machine=True, rule=bindparam("rule_name"))
)
_BURST = update(E).where(_NEAR_CLICKS, E.c.machine == false()).values(machine=True, rule="burst")


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _keep(value: str | None) -> str | None:
    return value


def _campaign_id(token: TokenData) -> int | None:
    text = token.campaign_id.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


@dataclass(frozen=True)
class Recorded:
    """An open or click as stored."""

    id: int
    kind: str
    campaign_id: int
    customer_id: str
    variant: str | None
    ts: datetime
    machine: bool
    rule: str | None

    def to_dict(self) -> dict[str, Any]:
        """The row, JSON-ready."""
        return {**asdict(self), "ts": self.ts.isoformat()}


def record(
    engine: Engine,
    token: TokenData,
    request: RequestInfo,
    *,
    scrub: Scrub | None = None,
    settings: BotSettings | None = None,
) -> Recorded | None:
    """Store an open or a click of a verified token, flagged when a machine made it.

    The recipient's ledger row is locked first (PostgreSQL), so two requests of one recipient
    are judged one after the other; a click that makes a burst also flags the recipient's other
    clicks of that burst.

    Parameters
    ----------
    engine
        The operational database.
    token
        The verified ``open`` or ``click`` token.
    request
        The request (``kind`` must match the token's).
    scrub
        Applied to the IP address and user agent before they are stored (the workspace's
        ``pii`` policy); they are kept as they are without it.
    settings
        Thresholds of the timing rules.

    Returns
    -------
    Recorded or None
        The row; ``None`` when the token names no campaign of this database (it was signed
        for something else), which is not recorded.
    """
    if request.kind != token.kind:
        raise DataError(f"a {token.kind} token cannot record a {request.kind}")
    cid = _campaign_id(token)
    if cid is None:
        return None
    scrub = scrub or _keep
    settings = settings or BotSettings()
    at = _utc(request.at)
    rid = token.recipient_id
    keys = {"cid": cid, "rid": rid}
    with engine.begin() as con:
        ledger = con.execute(_LEDGER, keys).first()
        sent_at = None
        if ledger is not None:
            sent_at = ledger.sent_at or (ledger.claimed_at if ledger.status == "sending" else None)
        history = History(sent_at=_utc(sent_at) if sent_at is not None else None)
        rule = detect(request, history, settings)  # every rule but the burst, which needs...
        values = {"kind": request.kind, "campaign_id": cid, "variant": token.variant,
                  "customer_id": rid, "ts": at, "url": token.url if token.kind == "click" else None,
                  "machine": rule is not None, "rule": rule.name if rule else None,
                  "ip": scrub(request.ip), "user_agent": scrub(request.user_agent)}  # fmt: skip
        row_id = int(con.execute(_INSERT, values).inserted_primary_key[0])
        if request.kind == "click" and rule is None:  # ...the recipient's clicks around this one
            window = timedelta(seconds=settings.burst_seconds)
            near = {**keys, "row_id": row_id, "lo": at - window, "hi": at + window}
            clicks = [(_utc(t), u or "") for t, u in con.execute(_NEAR, near)]
            rule = detect(request, replace(history, clicks=clicks), settings)
            if rule is not None:  # a burst: this click, and the scanner's earlier ones too
                con.execute(_FLAG, {"row_id": row_id, "rule_name": rule.name})
                con.execute(_BURST, near)
    return Recorded(row_id, request.kind, cid, rid, token.variant, at, rule is not None,
                    rule.name if rule else None)  # fmt: skip


@dataclass(frozen=True)
class Subscription:
    """Whom an unsubscribe token is for, and whether they are unsubscribed already.

    Attributes
    ----------
    campaign_id, campaign
        The campaign of the message (id and name).
    customer_id, address
        The recipient and the address the message went to.
    suppressed
        The suppression reason of the address on the campaign's channel (``"unsubscribe"``,
        ``"complaint"``, ...), or ``None`` while it still receives messages there.
    sender
        Who sends the campaign: the sender's organisation, else its name, else its address.
    channel
        The campaign's channel (``email``, or ``webhook`` for text messages): the suppression
        list an unsubscribe goes on.
    """

    campaign_id: int
    campaign: str
    customer_id: str
    address: str
    suppressed: str | None
    sender: str = ""
    channel: str = "email"

    @property
    def masked(self) -> str:
        """The address with most of its local part hidden (``j***@example.com``)."""
        local, at, domain = self.address.partition("@")
        return f"{local[:1]}***{at}{domain}" if at else f"{self.address[:1]}***"

    def to_dict(self) -> dict[str, Any]:
        """The subscription, JSON-ready (the address masked)."""
        return {**asdict(self), "address": self.masked}


@dataclass(frozen=True)
class Unsubscribed:
    """The outcome of :func:`unsubscribe`: the subscription afterwards, and whether this call
    was the one that unsubscribed (``False`` when the address was suppressed already)."""

    subscription: Subscription
    changed: bool


def subscription(engine: Engine, token: TokenData) -> Subscription | None:
    """The recipient of an unsubscribe token, from the send ledger; ``None`` when the ledger
    has no such message (the campaign was deleted, or the token was signed elsewhere)."""
    cid = _campaign_id(token)
    if cid is None:
        return None
    with engine.connect() as con:
        row = con.execute(
            select(
                S.c.address,
                Campaign.__table__.c.name,
                Campaign.__table__.c.settings,
                Campaign.__table__.c.channel,
            )
            .join(Campaign.__table__, Campaign.__table__.c.id == S.c.campaign_id)
            .where(S.c.campaign_id == cid, S.c.customer_id == token.recipient_id)
        ).first()
        if row is None:
            return None
        reason = con.execute(
            select(Suppression.reason).where(
                Suppression.channel == row.channel,
                Suppression.address == normalise_address(row.address),
            )
        ).scalar()
    settings = row.settings if isinstance(row.settings, dict) else {}
    sender = settings.get("sender") if isinstance(settings.get("sender"), dict) else {}
    who = sender.get("organisation") or sender.get("name") or sender.get("address") or row.name
    return Subscription(cid, str(row.name), token.recipient_id, str(row.address), reason, str(who),
                        str(row.channel))  # fmt: skip


def unsubscribe(
    engine: Engine,
    token: TokenData,
    *,
    at: datetime | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    scrub: Scrub | None = None,
    via: str = "one-click",
) -> Unsubscribed | None:
    """Put the recipient's address on the suppression list of the campaign's channel (``email``,
    or ``webhook`` for a text-message campaign) and record the unsubscribe (once per campaign
    and recipient; calling again changes nothing).

    Parameters
    ----------
    engine
        The operational database.
    token
        A verified ``unsubscribe`` token.
    at
        When (now by default).
    ip, user_agent
        Of the request, stored through ``scrub``.
    via
        How the recipient unsubscribed (``"one-click"``, ``"preferences"``), kept as the
        suppression's source.

    Returns
    -------
    Unsubscribed or None
        ``None`` when the ledger has no such message (nothing is changed).
    """
    found = subscription(engine, token)
    if found is None:
        return None
    scrub = scrub or _keep
    suppress(engine, found.channel, found.address, "unsubscribe", customer_id=found.customer_id,
             source=f"{via} unsubscribe, campaign {found.campaign}")  # fmt: skip
    when = _utc(at or datetime.now(UTC))
    with engine.begin() as con:
        seen = con.execute(
            select(E.c.id).where(E.c.kind == "unsubscribe", E.c.campaign_id == found.campaign_id,
                                 E.c.customer_id == found.customer_id).limit(1)
        ).first()  # fmt: skip
        if seen is None:
            con.execute(
                insert(E).values(kind="unsubscribe", campaign_id=found.campaign_id,
                                 variant=token.variant, customer_id=found.customer_id, ts=when,
                                 url=None, machine=False, rule=None, ip=scrub(ip),
                                 user_agent=scrub(user_agent))
            )  # fmt: skip
    reason = "complaint" if found.suppressed == "complaint" else "unsubscribe"
    after = replace(found, suppressed=reason)
    return Unsubscribed(after, changed=found.suppressed not in {"unsubscribe", "complaint"})


# --- conversions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Conversion:
    message_id: str
    user_id: str
    ts: datetime
    revenue: float | None


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, str) and value:
        try:
            return _utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def _revenue(properties: Any) -> float | None:
    """``revenue``, else ``total``, else ``value`` of the event's properties (JSON text)."""
    if isinstance(properties, str):
        try:
            properties = json.loads(properties)
        except ValueError:
            return None
    if not isinstance(properties, Mapping):
        return None
    for key in ("revenue", "total", "value"):
        raw = properties.get(key)
        if raw is None or isinstance(raw, bool):
            continue
        try:
            amount = float(raw)
        except (TypeError, ValueError):
            continue
        if math.isfinite(amount):
            return amount
    return None


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i : i + _CHUNK]


def attribute_conversions(
    connection: Connection,
    rows: Iterable[Mapping[str, Any]],
    *,
    conversion_events: Collection[str],
    attribution_days: float,
) -> int:
    """Credit newly stored conversion events to campaigns; returns the rows inserted.

    The event writer calls this inside its transaction with the ``tracked_events`` rows it has
    just stored (dicts of their columns; ``properties`` is JSON text). A ``track`` row whose
    ``event`` is one of ``conversion_events`` and that has a ``user_id`` (the customer id) is a
    conversion at its ``timestamp`` T, worth ``properties.revenue`` (else ``total``, else
    ``value``). It is credited, with one ``engagements`` row of kind ``conversion`` per
    campaign (``event_message_id`` = the event's ``message_id``):

    * **by last click**: to the campaign and variant of the customer's last *human* click
      (``machine`` false) in ``[T - attribution_days, T]``; that row's ``url`` is the link
      clicked. At most one campaign gets this credit.
    * **by window** (intent to treat): to every campaign in whose ledger the customer is, in
      any arm (held out included), whose start S (its first ``sent_at``) has
      ``S <= T <= S + attribution_days``, under the customer's arm there; such a row has
      ``rule = "window"``. Held-out customers are credited the same way as those who were
      sent the message, whether or not they clicked anything, so that the arms of a
      campaign can be compared (incrementality).

    A campaign credited both ways gets one row with both marks. Replaying an event changes
    nothing: rows are keyed by (``event_message_id``, campaign).
    """
    names = set(conversion_events)
    todo: list[_Conversion] = []
    for row in rows:
        if row.get("type") != "track" or row.get("event") not in names:
            continue
        user, mid, ts = row.get("user_id"), row.get("message_id"), _timestamp(row.get("timestamp"))
        if not user or not mid or ts is None:
            continue
        todo.append(_Conversion(str(mid), str(user), ts, _revenue(row.get("properties"))))
    if not todo:
        return 0
    window = timedelta(days=float(attribution_days))
    users = sorted({c.user_id for c in todo})
    lo, hi = min(c.ts for c in todo) - window, max(c.ts for c in todo)
    clicks: dict[str, list[tuple[datetime, int, str | None, str | None]]] = {}
    arms: dict[str, list[tuple[int, str]]] = {}
    for part in _chunks(users):
        for r in connection.execute(
            select(E.c.customer_id, E.c.ts, E.c.campaign_id, E.c.variant, E.c.url).where(
                E.c.kind == "click", E.c.machine == false(), E.c.customer_id.in_(part),
                E.c.campaign_id.is_not(None), E.c.ts >= lo, E.c.ts <= hi)
        ):  # fmt: skip
            clicks.setdefault(r.customer_id, []).append(
                (_utc(r.ts), int(r.campaign_id), r.variant, r.url)
            )
        for r in connection.execute(
            select(S.c.customer_id, S.c.campaign_id, S.c.arm).where(S.c.customer_id.in_(part))
        ):
            arms.setdefault(r.customer_id, []).append((int(r.campaign_id), str(r.arm)))
    campaigns = sorted({cid for rows_ in arms.values() for cid, _ in rows_})
    starts: dict[int, datetime] = {}
    for part in _chunks(campaigns):
        for cid, start in connection.execute(
            select(S.c.campaign_id, func.min(S.c.sent_at))
            .where(S.c.campaign_id.in_(part), S.c.sent_at.is_not(None))
            .group_by(S.c.campaign_id)
        ):
            if start is not None:
                starts[int(cid)] = _utc(start)
    done: set[tuple[str, int | None]] = set()
    for part in _chunks(sorted({c.message_id for c in todo})):
        done.update(
            (m, c)
            for m, c in connection.execute(
                select(E.c.event_message_id, E.c.campaign_id).where(
                    E.c.kind == "conversion", E.c.event_message_id.in_(part)
                )
            )
        )
    new: list[dict[str, Any]] = []
    for conv in todo:
        credits: dict[int, dict[str, Any]] = {}
        for cid, arm in arms.get(conv.user_id, []):
            start = starts.get(cid)
            if start is not None and start <= conv.ts <= start + window:
                credits[cid] = {"variant": arm, "url": None, "rule": WINDOW}
        eligible = [c for c in clicks.get(conv.user_id, []) if conv.ts - window <= c[0] <= conv.ts]
        if eligible:
            _, cid, variant, url = max(eligible, key=lambda c: c[0])
            credit = credits.setdefault(cid, {"variant": variant, "rule": None})
            credit["url"] = url or ""
        for cid, credit in credits.items():
            if (conv.message_id, cid) in done:
                continue
            done.add((conv.message_id, cid))
            new.append({"kind": "conversion", "campaign_id": cid, "customer_id": conv.user_id,
                        "ts": conv.ts, "machine": False, "ip": None, "user_agent": None,
                        "revenue": conv.revenue, "event_message_id": conv.message_id,
                        **credit})  # fmt: skip
    if new:
        connection.execute(insert(E), new)
    return len(new)
