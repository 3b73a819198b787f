"""Tracking: signed tokens for e-mail links, the events that come back (Segment-style calls,
opens, clicks, unsubscribes, conversions), machine-open detection and compaction into the
analytics database. The HTTP endpoints live in :mod:`streamwise.web.api`."""

from streamwise.downstream.tracking.tokens import (
    DEFAULT_TTL,
    InvalidToken,
    TokenData,
    TokenKind,
    add_open_pixel,
    open_pixel,
    rewrite_links,
    sign_token,
    tracking_url,
    verify_token,
)

__all__ = [
    "DEFAULT_TTL",
    "InvalidToken",
    "TokenData",
    "TokenKind",
    "add_open_pixel",
    "open_pixel",
    "rewrite_links",
    "sign_token",
    "tracking_url",
    "verify_token",
]
