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

# The rest load on first use (PEP 562): the campaign engine imports the token functions above,
# and should not pay for pandas, DuckDB and the audience compiler to do so.
_LAZY = {
    "bots": ("BotSettings", "MachineRule", "RequestInfo", "detect"),
    "compact": ("CompactionResult", "CompactionStatus", "compaction_status"),
    "engagement": ("attribute_conversions", "record", "unsubscribe"),
    "events": ("EventValidationError", "correct_skew", "to_rows"),
    "privacy": ("PiiPolicy", "Scrubber"),
    "results": ("ArmResults", "CampaignResults", "campaign_results"),
    "writer": ("EventWriter", "WriterStats", "prune"),
}
# (``compact`` itself is not here: it is also the name of its module; import it from there.)
_WHERE = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> object:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_TTL",
    "ArmResults",
    "BotSettings",
    "CampaignResults",
    "CompactionResult",
    "CompactionStatus",
    "EventValidationError",
    "EventWriter",
    "InvalidToken",
    "MachineRule",
    "PiiPolicy",
    "RequestInfo",
    "Scrubber",
    "TokenData",
    "TokenKind",
    "WriterStats",
    "add_open_pixel",
    "attribute_conversions",
    "campaign_results",
    "compaction_status",
    "correct_skew",
    "detect",
    "open_pixel",
    "prune",
    "record",
    "rewrite_links",
    "sign_token",
    "to_rows",
    "tracking_url",
    "unsubscribe",
    "verify_token",
]
