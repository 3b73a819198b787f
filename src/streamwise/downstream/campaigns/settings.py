"""A campaign's settings, validated once when the campaign is created (stored as JSON)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, Literal

import jinja2
import jinja2.sandbox
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["TEXT", "CampaignSettings", "Post", "Sender", "TextMessage", "Variant", "Window"]

#: The sandbox text templates (SMS and chat messages, post texts) run in; a missing variable is
#: an error, and nothing is escaped (the text is not HTML).
TEXT = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Variant(_Strict):
    """One content variant: its share of the non-held-out recipients and its templates.

    An e-mail variant needs ``subject`` and ``html`` (``text`` is the plain-text alternative); a
    text-message variant (a webhook campaign) needs only ``text``, the message itself.
    """

    weight: float = Field(1.0, ge=0)
    subject: str | None = None
    html: str | None = None
    text: str | None = None


class Sender(_Strict):
    """Who sends, and what the law and the receivers need to know about it."""

    address: str
    name: str = ""
    domain: str = Field(description="Domain of the Message-IDs (usually the sender's).")
    list_id: str = Field(description="List-Id header value, e.g. 'Newsletter <news.example.com>'.")
    postal_address: str = Field(min_length=5, description="CAN-SPAM: a valid postal address.")
    organisation: str = ""
    reply_to: str | None = None
    unsubscribe_mailto: str | None = None


class Window(_Strict):
    """Local send window, applied in each recipient's time zone."""

    start: time = time(9, 0)
    end: time = time(20, 0)
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
    default_timezone: str = "UTC"


class Post(_Strict):
    """One post of a social / content campaign (the text is a Jinja template over the campaign's
    fields, e.g. ``{{ campaign }}``)."""

    network: str
    account: str
    text: str
    scheduled_at: datetime
    link: str | None = None
    media: tuple[str, ...] = ()

    @field_validator("scheduled_at")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("scheduled_at needs a time zone, e.g. 2026-12-01T09:00:00+00:00")
        return v


class TextMessage(_Strict):
    """How a webhook campaign (SMS gateway or chat) reaches people.

    The campaign names the customers columns that hold the address and the consent for this
    channel — for SMS usually the contract's ``phone`` and ``sms_consent``; for a chat, columns
    of your own — and a send without them is refused rather than sent to everyone.
    """

    address_field: str = Field(
        min_length=1, description="customers column with the address: a phone number or chat id."
    )
    consent_field: str = Field(
        min_length=1, description="boolean customers column: true = agreed to this channel."
    )
    kind: Literal["sms", "chat"] = Field(
        "sms", description="sms: E.164 numbers, GSM-7/UCS-2 segments counted; chat: any id."
    )
    max_segments: int = Field(3, ge=1, le=10, description="SMS: longer messages fail.")
    max_chars: int = Field(4096, ge=1, description="chat: longer messages fail.")
    footer: str | None = Field(
        None, description="Appended on its own line (a template); default for sms: an opt-out."
    )
    sender_id: str | None = Field(None, max_length=20, description="Passed to the gateway.")

    @property
    def opt_out(self) -> str:
        """The footer: the one given, else "Reply STOP to opt out." for SMS and none for chat."""
        if self.footer is not None:
            return self.footer
        return "Reply STOP to opt out." if self.kind == "sms" else ""


class ABTest(_Strict):
    """An A/B test on a share of the audience; the winner goes to the rest afterwards
    (``streamwise campaign decide`` / ``rollout``)."""

    share: float = Field(gt=0, lt=1, description="Share of the audience in the test.")
    metric: Literal["open_rate", "click_rate", "conversion_rate"] = Field(
        "click_rate", description="What the winner must win on (per message sent)."
    )
    chance_to_win: float = Field(0.95, gt=0.5, lt=1, description="Bayesian chance to beat all.")
    min_per_arm: int = Field(200, ge=1, description="Fewer sends in an arm: no decision yet.")
    guardrails: dict[Literal["unsubscribe_rate", "open_rate", "click_rate"], float] = Field(
        default_factory=lambda: {"unsubscribe_rate": 0.002},
        description="Metric → largest acceptable rise (unsubscribes) or fall (opens, clicks) "
        "of the winner against the fallback, in absolute rate.",
    )
    fallback: str | None = Field(None, description="Variant sent when the test is inconclusive.")


class CampaignSettings(_Strict):
    """Everything a campaign needs besides its name, channel and audience."""

    sender: Sender | None = None
    text_message: TextMessage | None = None
    variants: dict[str, Variant] = Field(default_factory=dict)
    posts: tuple[Post, ...] = ()
    holdout: float = Field(0.0, ge=0, lt=1)
    window: Window | None = None
    utm: dict[str, str] = Field(default_factory=dict)
    tracking_base_url: str = Field(
        "https://localhost.invalid", description="https://… where the tracking service answers."
    )
    channel: dict[str, Any] = Field(
        default_factory=dict, description="Channel settings without secrets (host, port, ...)."
    )
    dkim: dict[str, str] | None = Field(None, description="selector, domain, key_file.")
    frequency_cap: tuple[int, int] | None = Field(None, description="(messages, days).")
    budget: float | None = Field(None, ge=0, description="Spend at most this (currency).")
    cost_per_message: float = Field(0.0, ge=0, description="What one sent message costs.")
    batch_size: int = Field(100, ge=1, le=10_000)
    test: ABTest | None = Field(None, description="Test on a share first, then roll out.")
    exclude_campaigns: tuple[int, ...] = Field(
        (), description="Leave out everyone in these campaigns' ledgers (a rollout's test)."
    )

    @model_validator(mode="after")
    def _content(self) -> CampaignSettings:
        if self.posts:
            return self  # a content campaign: its posts are its messages
        if self.test is not None:
            if len(self.variants) < 2:
                raise ValueError("an A/B test (test) needs at least two variants")
            if self.test.fallback is not None and self.test.fallback not in self.variants:
                raise ValueError(f"test.fallback {self.test.fallback!r} is not a variant")
        if not self.variants or sum(x.weight for x in self.variants.values()) <= 0:
            raise ValueError("give at least one variant with a positive weight (or posts)")
        if self.text_message is not None:
            for arm, v in self.variants.items():
                if not v.text:
                    raise ValueError(f"text-message variant {arm!r} needs its message in `text`")
                for what, source in (("text", v.text), ("footer", self.text_message.footer)):
                    _check_template(f"variant {arm!r} {what}", source)
            return self
        if self.sender is None:
            raise ValueError(
                "an e-mail campaign needs a sender (address, domain, postal address); a webhook "
                "(SMS or chat) campaign needs text_message (address_field, consent_field)"
            )
        for arm, v in self.variants.items():
            if not v.subject or not v.html:
                raise ValueError(f"e-mail variant {arm!r} needs a subject and html")
        return self

    @property
    def message_domain(self) -> str:
        """The right-hand side of the campaign's message ids."""
        if self.sender is not None:
            return self.sender.domain
        kind = self.text_message.kind if self.text_message is not None else "posts"
        return f"{kind}.streamwise"

    @field_validator("tracking_base_url")
    @classmethod
    def _https(cls, v: str) -> str:
        if not v.startswith("https://"):
            raise ValueError("the tracking URL must be https:// (RFC 8058 one-click unsubscribe)")
        return v.rstrip("/")


def _check_template(what: str, source: str | None) -> None:
    """Refuse a text template that does not compile, saying where."""
    if not source:
        return
    try:
        TEXT.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        raise ValueError(f"{what}: template error on line {exc.lineno}: {exc.message}") from None
