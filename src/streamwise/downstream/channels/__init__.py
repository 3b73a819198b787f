"""Delivery channels: one small interface (name, push, flush, close) and its implementations.

``email`` (SMTP), ``webhook`` (signed HTTP POST) and ``social`` (an outbox of scheduled posts with
an iCalendar export) register themselves; build one from settings with ``channel_from_config``.
"""

from streamwise.downstream.channels.base import (
    Channel,
    DeliveryResult,
    DeliveryStatus,
    OutgoingMessage,
    Throttle,
    backoff_delay,
    channel_from_config,
    channel_names,
    register_channel,
)
from streamwise.downstream.channels.email import SmtpChannel
from streamwise.downstream.channels.social import ScheduledPost, SocialOutbox, to_icalendar
from streamwise.downstream.channels.webhook import (
    WebhookChannel,
    sign_webhook,
    verify_webhook_signature,
)

__all__ = [
    "Channel",
    "DeliveryResult",
    "DeliveryStatus",
    "OutgoingMessage",
    "ScheduledPost",
    "SmtpChannel",
    "SocialOutbox",
    "Throttle",
    "WebhookChannel",
    "backoff_delay",
    "channel_from_config",
    "channel_names",
    "register_channel",
    "sign_webhook",
    "to_icalendar",
    "verify_webhook_signature",
]
