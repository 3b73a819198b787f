"""A campaign's settings, validated once when the campaign is created (stored as JSON)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["CampaignSettings", "Post", "Sender", "Variant", "Window"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Variant(_Strict):
    """One content variant: its share of the non-held-out recipients and its templates."""

    weight: float = Field(1.0, ge=0)
    subject: str
    html: str
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


class CampaignSettings(_Strict):
    """Everything a campaign needs besides its name, channel and audience."""

    sender: Sender | None = None
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

    @model_validator(mode="after")
    def _content(self) -> CampaignSettings:
        if self.posts:
            return self  # a content campaign: its posts are its messages
        if not self.variants or sum(x.weight for x in self.variants.values()) <= 0:
            raise ValueError("give at least one variant with a positive weight (or posts)")
        if self.sender is None:
            raise ValueError("an e-mail campaign needs a sender (address, domain, postal address)")
        return self

    @field_validator("tracking_base_url")
    @classmethod
    def _https(cls, v: str) -> str:
        if not v.startswith("https://"):
            raise ValueError("the tracking URL must be https:// (RFC 8058 one-click unsubscribe)")
        return v.rstrip("/")
