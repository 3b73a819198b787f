"""One recipient's message exactly as a campaign would send it, without sending anything."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from streamwise.downstream.audiences import Audience, resolve
from streamwise.downstream.campaigns.assignment import assign
from streamwise.downstream.campaigns.compose import Composer
from streamwise.downstream.campaigns.enrolment import (
    ADDRESS,
    CONTEXT_FIELDS,
    apply_campaign_rules,
    with_channel_fields,
)
from streamwise.downstream.campaigns.ledger import campaign_by_name
from streamwise.downstream.campaigns.settings import CampaignSettings
from streamwise.downstream.channels.base import OutgoingMessage
from streamwise.downstream.message import message_id
from streamwise.errors import ConfigError, DataError
from streamwise.store.db import session_factory

__all__ = ["Preview", "preview_message"]


@dataclass(frozen=True)
class Preview:
    """A rendered message and who it is for.

    Attributes
    ----------
    campaign, channel
        The campaign and its channel.
    customer_id, address, arm
        The recipient, their address on the channel and their variant (the variant they would
        get outside the holdout).
    message
        The message: RFC 5322 bytes for e-mail, the JSON payload for a webhook.
    audience
        Members of the audience now, before consent and suppression.
    left_out
        Why the rules would leave this recipient out (no consent, suppressed, ...), or ``None``.
    problem
        Why sending would fail although the message renders (a text over the length limit).
    """

    campaign: str
    channel: str
    customer_id: str
    address: str
    arm: str
    message: OutgoingMessage
    audience: int
    left_out: str | None = None
    problem: str | None = None

    @property
    def text(self) -> str | None:
        """The text of a text message (``None`` for e-mail)."""
        p = self.message.payload
        return str(p["text"]) if not isinstance(p, bytes) and "text" in p else None

    def to_bytes(self) -> bytes:
        """The message as it goes out: the e-mail's bytes, or the webhook payload as JSON."""
        p = self.message.payload
        if isinstance(p, bytes):
            return p
        return json.dumps(dict(p), ensure_ascii=False, indent=2).encode()

    def to_dict(self) -> dict[str, Any]:
        """Who, which variant and the message (the e-mail decoded as text), JSON-ready."""
        p = self.message.payload
        return {
            "campaign": self.campaign, "channel": self.channel, "customer_id": self.customer_id,
            "address": self.address, "arm": self.arm, "audience": self.audience,
            "left_out": self.left_out, "problem": self.problem,
            "message_id": self.message.message_id,
            "message": p.decode("utf-8", errors="replace") if isinstance(p, bytes) else dict(p),
        }  # fmt: skip


def preview_message(workspace: Any, name: str, customer: str | None = None) -> Preview:
    """Render the message ``customer`` (default: the audience's first member) would get.

    Raises
    ------
    ConfigError
        When the campaign is a content campaign, its audience is empty now, or ``customer`` is
        not in it.
    """
    with session_factory(workspace.operational())() as session:
        c = campaign_by_name(session, name)
        session.expunge(c)
    s = CampaignSettings(**c.settings)
    if s.posts:
        raise ConfigError(
            f"{name!r} is a content campaign (posts, no recipients); export its posts with "
            "`streamwise campaign calendar`"
        )
    members = resolve(workspace, Audience(name=c.name, filter=c.audience)).members
    if members.empty:
        raise ConfigError(f"the audience of {name!r} is empty now: {c.audience}")
    row = members[members["customer_id"] == customer] if customer else members.head(1)
    if row.empty:
        raise ConfigError(f"customer {customer!r} is not in the audience of {name!r}")
    rules = apply_campaign_rules(workspace, c, s, row, datetime.now(UTC))
    left_out = str(rules.removed["reason"].iloc[0]) if len(rules.removed) else None
    if s.text_message is not None:
        row = with_channel_fields(workspace, row, s.text_message)
    rec = row.iloc[0].to_dict()
    cid = str(rec["customer_id"])
    address = str(rec[ADDRESS] if s.text_message is not None else rec["email"])
    arm = str(
        assign([cid], seed=c.seed, variants={k: v.weight for k, v in s.variants.items()}).iloc[0]
    )
    ctx = {k: (None if pd.isna(rec[k]) else rec[k]) for k in CONTEXT_FIELDS if k in rec}
    composer = Composer(int(c.id), c.name, s, workspace.settings.secret_key.get_secret_value())
    mid = message_id(str(c.id), cid, s.message_domain)
    args = {"customer_id": cid, "address": address, "arm": arm, "context": ctx, "message_id": mid}
    problem = None
    try:
        msg = composer.compose(**args)
    except DataError as exc:
        if s.text_message is None:
            raise
        msg = composer.compose(**args, check_length=False)  # a template error raises again
        problem = str(exc)
    return Preview(c.name, c.channel, cid, address, arm, msg, len(members), left_out, problem)
