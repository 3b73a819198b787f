"""Who a campaign reaches: resolve its audience, apply consent, suppression and the frequency cap
for the campaign's channel, draw each person's arm and write them to the send ledger once.

E-mail campaigns use the customers' ``email`` and ``email_consent``. A webhook campaign (SMS
gateway or chat) names the customers columns of its address and of its consent in
``settings.text_message`` (for SMS usually ``phone`` and ``sms_consent``), and is refused when
they are missing: consent is never assumed.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import ibis
import pandas as pd
from sqlalchemy import select

from streamwise.downstream.audiences import Audience, FrequencyCap, apply_rules, resolve
from streamwise.downstream.audiences.rules import RuleResult
from streamwise.downstream.audiences.suppression import suppressed
from streamwise.downstream.campaigns.assignment import assign, uniform_draws
from streamwise.downstream.campaigns.ledger import Enrolment, enrol
from streamwise.downstream.campaigns.settings import CampaignSettings, TextMessage
from streamwise.downstream.campaigns.windows import next_send_time
from streamwise.downstream.message import message_id
from streamwise.errors import ConfigError
from streamwise.store.db import session_factory
from streamwise.store.models import Campaign, CampaignSend

__all__ = [
    "ADDRESS",
    "CONSENT",
    "CONTEXT_FIELDS",
    "apply_campaign_rules",
    "enrol_audience",
    "enrol_posts",
    "normalise_phone",
    "with_channel_fields",
]

#: Recipient fields passed to the templates (when the audience has them).
CONTEXT_FIELDS = ("first_name", "last_name", "email", "country", "segment", "persona", "clv")
#: Columns :func:`with_channel_fields` adds: the address and the consent on the campaign's channel.
ADDRESS, CONSENT = "channel_address", "channel_consent"

_PHONE_NOISE = re.compile(r"[\s().\-/]")


def normalise_phone(value: Any) -> str:
    """A phone number as it is compared and sent: without spaces, dots, dashes or brackets,
    ``00`` turned into ``+`` (``"+44 (0)20"`` keeps its ``0``; E.164 has none, so write it
    without)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    number = _PHONE_NOISE.sub("", str(value).strip())
    return "+" + number[2:] if number.startswith("00") else number


def with_channel_fields(workspace: Any, members: pd.DataFrame, t: TextMessage) -> pd.DataFrame:
    """``members`` with :data:`ADDRESS` and :data:`CONSENT` read from the customers table's
    columns ``t.address_field`` and ``t.consent_field``.

    Raises
    ------
    ConfigError
        When the customers table lacks either column, or the consent column is not boolean.
    """
    customers = workspace.analytics().table("customers")
    have = list(customers.columns)
    for setting, column in (("address_field", t.address_field),
                            ("consent_field", t.consent_field)):  # fmt: skip
        if column not in have:
            raise ConfigError(
                f"text_message.{setting} is {column!r}, which the customers table does not have; "
                f"its columns are: {', '.join(have)}. Import the column, or name another"
            )
    if not customers[t.consent_field].type().is_boolean():
        raise ConfigError(
            f"text_message.consent_field {t.consent_field!r} is "
            f"{customers[t.consent_field].type()}, not boolean; name a true/false consent column"
        )
    out = members.drop(columns=[ADDRESS, CONSENT], errors="ignore")
    if out.empty:
        return out.assign(**{ADDRESS: pd.Series(dtype="object"),
                             CONSENT: pd.Series(dtype="boolean")})  # fmt: skip
    ids = ibis.memtable({"_member": out["customer_id"].astype(str).tolist()})
    joined = customers.join(ids, customers.customer_id.cast("string") == ids._member)
    found = joined.select(
        _member=joined._member,
        **{ADDRESS: joined[t.address_field].cast("string"), CONSENT: joined[t.consent_field]},
    ).execute()
    found = found.drop_duplicates("_member").set_index("_member")
    key = out["customer_id"].astype(str)
    address = key.map(found[ADDRESS])
    if t.kind == "sms":
        address = address.map(normalise_phone)
    return out.assign(**{ADDRESS: address, CONSENT: key.map(found[CONSENT]).astype("boolean")})


def apply_campaign_rules(
    workspace: Any, c: Campaign, s: CampaignSettings, members: pd.DataFrame, now: datetime
) -> RuleResult:
    """Consent, address checks, suppression and the frequency cap on the campaign's channel."""
    engine = workspace.operational()
    cap = FrequencyCap(*s.frequency_cap) if s.frequency_cap else None
    common: dict[str, Any] = {
        "channel": c.channel, "suppressed": suppressed(engine, c.channel),
        "recent_sends": _recent_sends(workspace, now, s), "cap": cap, "at": now,
    }  # fmt: skip
    t = s.text_message
    if t is None:
        return apply_rules(members, **common)
    return apply_rules(
        with_channel_fields(workspace, members, t), **common, consent=CONSENT, address=ADDRESS,
        address_format="e164" if t.kind == "sms" else "any",
        label="SMS" if t.kind == "sms" else "chat",
    )  # fmt: skip


def enrol_audience(
    workspace: Any, c: Campaign, s: CampaignSettings, now: datetime
) -> tuple[int, dict[str, int]]:
    """Resolve the audience, apply the rules, draw the arms and write the ledger rows; returns
    how many were written and who the rules left out (reason → count)."""
    found = resolve(workspace, Audience(name=c.name, filter=c.audience), at=now)
    members = found.members
    if s.exclude_campaigns:
        with session_factory(workspace.operational())() as session:
            taken = set(
                session.scalars(
                    select(CampaignSend.customer_id).where(
                        CampaignSend.campaign_id.in_(s.exclude_campaigns)
                    )
                )
            )
        members = members[~members["customer_id"].astype(str).isin(taken)]
    if s.test is not None:
        # the test's share: a keyed draw of its own, independent of the arms' draws
        draws = uniform_draws(f"{c.seed}:test", members["customer_id"].astype(str).tolist())
        members = members[draws < s.test.share]
    rules = apply_campaign_rules(workspace, c, s, members, now)
    kept = rules.kept
    weights = {k: v.weight for k, v in s.variants.items()}
    arms = assign(kept["customer_id"].astype(str), seed=c.seed, variants=weights, holdout=s.holdout)
    column = ADDRESS if s.text_message is not None else "email"
    rows = []
    for rec, arm in zip(kept.to_dict("records"), arms.to_numpy(), strict=True):
        cid = str(rec["customer_id"])
        when = None
        if s.window is not None:
            w = s.window
            when = next_send_time(now, rec.get("timezone"), start=w.start, end=w.end,
                                  weekdays=frozenset(w.weekdays),
                                  default_timezone=w.default_timezone)  # fmt: skip
        ctx = {k: (None if pd.isna(rec[k]) else rec[k]) for k in CONTEXT_FIELDS if k in rec}
        ctx = {k: (float(v) if isinstance(v, int | float) else v) for k, v in ctx.items()}
        rows.append(Enrolment(customer_id=cid, address=str(rec[column]), arm=str(arm),
                              message_id=message_id(str(c.id), cid, s.message_domain),
                              send_after=when, context=ctx))  # fmt: skip
    return enrol(workspace.operational(), int(c.id), rows), rules.report


def enrol_posts(workspace: Any, c: Campaign, s: CampaignSettings) -> int:
    """A content campaign's posts, one ledger row each (so each is queued exactly once)."""
    rows = [
        Enrolment(customer_id=f"post-{i + 1}", address=p.account, arm="post",
                  message_id=message_id(str(c.id), f"post-{i + 1}", s.message_domain),
                  send_after=None, context={"post": i})
        for i, p in enumerate(s.posts)
    ]  # fmt: skip
    return enrol(workspace.operational(), int(c.id), rows)


def _recent_sends(workspace: Any, now: datetime, s: CampaignSettings) -> pd.DataFrame | None:
    if not s.frequency_cap:
        return None
    since = now - timedelta(days=s.frequency_cap[1])
    with session_factory(workspace.operational())() as session:
        rows = session.execute(
            select(CampaignSend.customer_id, Campaign.channel, CampaignSend.sent_at)
            .join(Campaign, Campaign.id == CampaignSend.campaign_id)
            .where(CampaignSend.status == "sent", CampaignSend.sent_at >= since)
        ).all()
    return pd.DataFrame(rows, columns=["customer_id", "channel", "sent_at"])
