"""Consent, suppression and frequency caps, applied in one place and reported.

:func:`apply_rules` takes an audience's members and returns who is kept, who is removed and
why. The rules run in this order, and each person is removed once, for the first rule that
applies:

1. consent: ``<channel>_consent`` (or the column named by ``consent``) must be true ("no e-mail
   consent" for e-mail, "no SMS consent" with ``label="SMS"``);
2. an address must be present ("no e-mail address") — for e-mail, or when an ``address`` column
   is named (e.g. a phone number for an SMS campaign) ...
3. ... and well formed ("invalid e-mail address"; "invalid SMS address" for a phone number that
   is not E.164);
4. suppression list, by address or customer id ("suppressed: unsubscribed", "suppressed: hard
   bounce", "suppressed: complaint", "suppressed: manual"; a plain set of addresses gives
   "suppressed: listed");
5. frequency cap: at most N sends on the channel in the last D days ("frequency cap: N in D
   days");
6. duplicate address: the first member (in the given order) with an address keeps it
   ("duplicate address").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import pandas as pd

from streamwise.errors import ConfigError, DataError

__all__ = ["REASONS", "FrequencyCap", "RuleResult", "apply_rules", "normalise_address"]

#: Suppression reasons of the store → the reason reported, in order of precedence.
REASONS = {
    "complaint": "suppressed: complaint",
    "unsubscribe": "suppressed: unsubscribed",
    "hard_bounce": "suppressed: hard bounce",
    "manual": "suppressed: manual",
}
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_EMAIL = re.compile(r"^[^@\s\"'<>(),;:\\\[\]]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)+$")


def normalise_address(address: Any) -> str:
    """An address as the suppression list keeps it: stripped and lower-cased."""
    return str(address).strip().lower() if address is not None and not pd.isna(address) else ""


@dataclass(frozen=True)
class FrequencyCap:
    """At most ``max_sends`` sends to one person on a channel within ``days`` days."""

    max_sends: int
    days: int

    def __post_init__(self) -> None:
        if self.max_sends < 1 or self.days < 1:
            raise ConfigError(
                f"a frequency cap needs max_sends >= 1 and days >= 1, got {self.max_sends} in "
                f"{self.days} days; leave the cap out to send without one"
            )

    @property
    def reason(self) -> str:
        """The reason reported for people over the cap."""
        return f"frequency cap: {self.max_sends} in {self.days} days"


@dataclass(frozen=True, eq=False)
class RuleResult:
    """Who is kept and who is removed, with one reason each.

    Attributes
    ----------
    kept
        The members that may be contacted, in the given order.
    removed
        ``customer_id`` and ``reason`` of everyone else.
    report
        Reason → number removed, in rule order (reasons that removed nobody are left out).
    """

    kept: pd.DataFrame = field(repr=False)
    removed: pd.DataFrame = field(repr=False)
    report: dict[str, int]

    @property
    def members(self) -> int:
        """Members before the rules (kept + removed)."""
        return len(self.kept) + len(self.removed)

    def to_frame(self) -> pd.DataFrame:
        """The report as rows of ``reason, removed``."""
        return pd.DataFrame(
            {"reason": list(self.report), "removed": list(self.report.values())},
            columns=["reason", "removed"],
        )

    def to_dict(self) -> dict[str, Any]:
        """Counts: members, kept, removed and removed by reason."""
        return {
            "members": self.members,
            "kept": len(self.kept),
            "removed": len(self.removed),
            "reasons": dict(self.report),
        }


def apply_rules(
    members: pd.DataFrame,
    *,
    channel: str,
    suppressed: set[str] | pd.DataFrame,
    recent_sends: pd.DataFrame | None,
    cap: FrequencyCap | None,
    at: datetime,
    consent: str | None = None,
    address: str | None = None,
    address_format: Literal["email", "e164", "any"] | None = None,
    label: str | None = None,
) -> RuleResult:
    """Apply consent, address checks, suppression, the frequency cap and de-duplication.

    Parameters
    ----------
    members
        One row per member with ``customer_id`` and ``<channel>_consent``; for ``"email"``
        also ``email``.
    channel
        The channel of the send, e.g. ``"email"``.
    suppressed
        Suppressed addresses (a set), or the frame of
        :func:`~streamwise.downstream.audiences.suppression.suppressed` (``address``,
        ``customer_id``, ``reason``).
    recent_sends
        Earlier sends: ``customer_id``, ``channel``, ``sent_at``; naive times are UTC.
    cap
        The frequency cap, or ``None`` for none.
    at
        The send time the cap counts back from.
    consent
        The consent column (default ``<channel>_consent``).
    address
        The column with each member's address on the channel (default ``email`` for e-mail;
        none for other channels, whose members are then matched by customer id only).
    address_format
        How an address must look: ``"email"`` (default for e-mail), ``"e164"`` (a phone number,
        ``+`` and 7 to 15 digits) or ``"any"`` (present; the default for other columns).
    label
        The channel's name in the reasons (default ``e-mail`` for e-mail, else ``channel``).

    Raises
    ------
    DataError
        When ``members`` lacks a column the rules need (no column means no consent, so the
        send is refused rather than sent to everyone).
    """
    consent = consent or f"{channel}_consent"
    address = address or ("email" if channel == "email" else None)
    label = label or ("e-mail" if channel == "email" else channel)
    check = address_format or ("email" if address == "email" else "any")
    needed = ["customer_id", consent] + ([address] if address else [])
    lacking = [c for c in needed if c not in members.columns]
    if lacking:
        raise DataError(
            f"the members have no {', '.join(lacking)} column; resolve the audience with a "
            "workspace that has them (consent is never assumed)",
            source="audience members",
        )
    frame = members.reset_index(drop=True)
    reason = pd.Series(pd.NA, index=frame.index, dtype="object")

    def mark(mask: pd.Series, label: pd.Series | str) -> None:
        hit = mask.fillna(False).astype(bool) & reason.isna()
        reason[hit] = label[hit] if isinstance(label, pd.Series) else label

    mark(frame[consent].astype("boolean").fillna(False) != True, f"no {label} consent")  # noqa: E712
    if address is not None:
        where = frame[address].map(normalise_address)
        mark(where == "", f"no {label} address")
        mark(~where.map(_VALID[check]), f"invalid {label} address")
    else:
        where = frame["customer_id"].astype(str)
    mark(*_suppression(frame, where, suppressed))
    if cap is not None and recent_sends is not None and len(recent_sends):
        mark(_over_cap(frame, recent_sends, channel, cap, at), cap.reason)
    live = reason.isna()
    duplicate = where[live].duplicated(keep="first").reindex(frame.index, fill_value=False)
    mark(duplicate, "duplicate address")
    removed_mask = reason.notna()
    removed = pd.DataFrame(
        {"customer_id": frame.loc[removed_mask, "customer_id"], "reason": reason[removed_mask]}
    ).reset_index(drop=True)
    order = list(dict.fromkeys(reason[removed_mask]))
    ranked = _rule_order(order, cap, label)
    counts = removed["reason"].value_counts()
    report = {r: int(counts[r]) for r in ranked}
    return RuleResult(frame.loc[~removed_mask].reset_index(drop=True), removed, report)


def _suppression(
    frame: pd.DataFrame, address: pd.Series, suppressed: set[str] | pd.DataFrame
) -> tuple[pd.Series, pd.Series]:
    """Mask of suppressed members and the reason of each (the strongest when several)."""
    if not isinstance(suppressed, pd.DataFrame):
        listed = {normalise_address(a) for a in suppressed}
        mask = address.isin(listed) & (address != "")
        return mask, pd.Series("suppressed: listed", index=frame.index)
    rank = {r: i for i, r in enumerate(REASONS)}
    rows = suppressed.assign(
        _address=suppressed["address"].map(normalise_address),
        _rank=suppressed["reason"].map(lambda r: rank.get(r, len(rank))),
    ).sort_values("_rank", kind="stable")
    by_address = rows.drop_duplicates("_address").set_index("_address")["reason"]
    by_customer = pd.Series(dtype="object")
    if "customer_id" in rows.columns:
        ids = rows.dropna(subset=["customer_id"])
        by_customer = ids.drop_duplicates("customer_id").set_index("customer_id")["reason"]
    from_address = address.map(by_address)
    from_customer = frame["customer_id"].map(by_customer)

    def ranks(found: pd.Series) -> pd.Series:
        return found.map(lambda r: rank.get(r, len(rank)) if isinstance(r, str) else 99)

    store = from_address.where(ranks(from_address) <= ranks(from_customer), from_customer)
    labels = store.map(lambda r: REASONS.get(r, f"suppressed: {r}") if isinstance(r, str) else None)
    return labels.notna(), labels


def _over_cap(
    frame: pd.DataFrame, sends: pd.DataFrame, channel: str, cap: FrequencyCap, at: datetime
) -> pd.Series:
    """Members who already had ``cap.max_sends`` sends on ``channel`` in the window."""
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    sent = pd.to_datetime(sends["sent_at"], utc=True)
    window = (sends["channel"] == channel) & (sent > at - timedelta(days=cap.days)) & (sent <= at)
    counts = sends.loc[window, "customer_id"].astype(str).value_counts()
    return frame["customer_id"].astype(str).map(counts).fillna(0) >= cap.max_sends


_VALID = {
    "email": lambda a: bool(_EMAIL.match(a)) and len(a) <= 254,
    "e164": lambda a: bool(_E164.match(a)),
    "any": lambda a: a != "",
}


def _rule_order(reasons: list[str], cap: FrequencyCap | None, label: str) -> list[str]:
    fixed = [
        f"no {label} consent", f"no {label} address", f"invalid {label} address",
        *REASONS.values(), "suppressed: listed",
        *([cap.reason] if cap else []), "duplicate address",
    ]  # fmt: skip
    position = {r: i for i, r in enumerate(fixed)}
    return sorted(reasons, key=lambda r: (position.get(r, -1), r))
