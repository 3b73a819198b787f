"""Consent, address checks, suppression, frequency caps and duplicates: one reason per person,
in the documented order, and counts that add up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from streamwise.downstream.audiences import FrequencyCap, apply_rules
from streamwise.errors import ConfigError, DataError

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def members() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10"],
            "email": [
                "ok@example.com",  # kept
                "no-consent@example.com",  # no consent
                None,  # no address
                "not an address",  # invalid
                "Unsub@Example.com ",  # suppressed (normalised match)
                "bounce@example.com",  # suppressed by customer id (hard bounce)
                "busy@example.com",  # over the cap
                "OK@example.com",  # duplicate of c1
                "fine@example.org",  # kept: two sends, but one is outside the window
                "",  # no consent and no address: consent comes first
            ],
            "email_consent": [True, False, True, True, True, True, True, True, True, None],
        }
    )


def suppressions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "address": ["unsub@example.com", "old@example.com", "unsub@example.com"],
            "customer_id": [None, "c6", None],
            "reason": ["manual", "hard_bounce", "unsubscribe"],
        }
    )


def sends() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["c7", "c7", "c7", "c9", "c9", "c1", "c1"],
            "channel": ["email", "email", "webhook", "email", "email", "sms", "sms"],
            "sent_at": [
                AT - timedelta(days=1),
                AT - timedelta(days=6),
                AT - timedelta(days=2),  # another channel does not count
                AT - timedelta(days=3),
                (AT - timedelta(days=8)).replace(tzinfo=None),  # naive = UTC, outside 7 days
                AT - timedelta(hours=1),
                AT - timedelta(hours=2),
            ],
        }
    )


def test_each_reason_once_in_order_and_counts_add_up() -> None:
    cap = FrequencyCap(max_sends=2, days=7)
    result = apply_rules(
        members(), channel="email", suppressed=suppressions(), recent_sends=sends(), cap=cap, at=AT
    )
    assert list(result.kept["customer_id"]) == ["c1", "c9"]
    reasons = dict(zip(result.removed["customer_id"], result.removed["reason"], strict=True))
    assert reasons == {
        "c2": "no e-mail consent",
        "c10": "no e-mail consent",
        "c3": "no e-mail address",
        "c4": "invalid e-mail address",
        "c5": "suppressed: unsubscribed",  # unsubscribe outranks the manual entry
        "c6": "suppressed: hard bounce",
        "c7": "frequency cap: 2 in 7 days",
        "c8": "duplicate address",
    }
    assert result.report == {
        "no e-mail consent": 2,
        "no e-mail address": 1,
        "invalid e-mail address": 1,
        "suppressed: unsubscribed": 1,
        "suppressed: hard bounce": 1,
        "frequency cap: 2 in 7 days": 1,
        "duplicate address": 1,
    }
    assert len(result.kept) + len(result.removed) == len(members()) == result.members
    assert sum(result.report.values()) == len(result.removed)
    assert result.to_dict() == {
        "members": 10,
        "kept": 2,
        "removed": 8,
        "reasons": result.report,
    }
    assert list(result.to_frame()["reason"]) == list(result.report)


def test_the_first_rule_wins() -> None:
    """An unconsented, suppressed duplicate is reported once, as unconsented."""
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "email": ["x@example.com", "x@example.com", "x@example.com"],
            "email_consent": [False, True, True],
        }
    )
    result = apply_rules(
        frame, channel="email", suppressed={"X@example.com"}, recent_sends=None, cap=None, at=AT
    )
    assert result.report == {"no e-mail consent": 1, "suppressed: listed": 2}
    assert result.kept.empty


def test_duplicates_keep_the_first_remaining_member() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "email": ["x@example.com", " X@EXAMPLE.COM", "y@example.com"],
            "email_consent": [False, True, True],
        }
    )
    result = apply_rules(
        frame, channel="email", suppressed=set(), recent_sends=None, cap=None, at=AT
    )
    assert list(result.kept["customer_id"]) == ["b", "c"]  # a lacked consent, so b keeps x
    assert result.report == {"no e-mail consent": 1}


def test_nothing_removed_without_cause() -> None:
    frame = members().iloc[[0, 8]]
    empty = pd.DataFrame(columns=["address", "customer_id", "reason"])
    result = apply_rules(
        frame, channel="email", suppressed=empty,
        recent_sends=pd.DataFrame(columns=["customer_id", "channel", "sent_at"]),
        cap=FrequencyCap(1, 1), at=AT,
    )  # fmt: skip
    assert result.report == {}
    assert len(result.kept) == 2
    assert list(result.removed.columns) == ["customer_id", "reason"]


def test_other_channels_need_their_own_consent() -> None:
    frame = pd.DataFrame({"customer_id": ["a", "b"], "webhook_consent": [True, False]})
    result = apply_rules(
        frame, channel="webhook", suppressed={"a"}, recent_sends=None, cap=None, at=AT
    )
    assert result.report == {"no webhook consent": 1, "suppressed: listed": 1}
    with pytest.raises(DataError, match="no sms_consent column"):
        apply_rules(frame, channel="sms", suppressed=set(), recent_sends=None, cap=None, at=AT)


def test_missing_consent_column_is_refused_not_assumed() -> None:
    frame = pd.DataFrame({"customer_id": ["a"], "email": ["a@example.com"]})
    with pytest.raises(DataError, match="consent is never assumed"):
        apply_rules(frame, channel="email", suppressed=set(), recent_sends=None, cap=None, at=AT)


def test_frequency_cap_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="max_sends >= 1"):
        FrequencyCap(0, 7)
