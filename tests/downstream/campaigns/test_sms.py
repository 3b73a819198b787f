"""SMS length (GSM-7 / UCS-2 segments, 3GPP TS 23.038 and 23.040) and the rules for phone
numbers as channel addresses."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from streamwise.downstream.audiences import apply_rules
from streamwise.downstream.campaigns.enrolment import normalise_phone
from streamwise.downstream.campaigns.sms import sms_length


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("a" * 160, "GSM-7", 160, 1),  # one segment: 160 septets
        ("a" * 161, "GSM-7", 161, 2),  # concatenated: 153 septets each
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # extension table: escape + character
        ("€" * 81, "GSM-7", 162, 2),
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3),  # the pair is not split: 152 | 153 | 1
        ("Ça: 5 £, à Zürich ¿ñ?", "GSM-7", 21, 1),  # accents of the default alphabet
        ("Ça coûte 5 £", "UCS-2", 12, 1),  # û is not in it
        ("✓" * 70, "UCS-2", 70, 1),  # one character outside GSM-7 makes it all UCS-2
        ("✓" * 71, "UCS-2", 71, 2),
        ("✓" * 134, "UCS-2", 134, 2),  # 67 units each
        ("✓" * 135, "UCS-2", 135, 3),
        ("😀" * 35, "UCS-2", 70, 1),  # a surrogate pair is two units
        ("a" * 66 + "😀" + "a" * 67, "UCS-2", 135, 3),  # ... never split: 66 | 2 + 65 | 2
    ],
)
def test_sms_segments(text: str, encoding: str, units: int, segments: int) -> None:
    size = sms_length(text)
    assert (size.encoding, size.units, size.segments) == (encoding, units, segments)
    assert size.to_dict()["characters"] == len(text)


def test_phone_numbers_are_normalised_checked_and_suppressed_by_number() -> None:
    assert normalise_phone(" +44 (20) 7946-0958 ") == "+442079460958"
    assert normalise_phone("0049 30 123456") == "+4930123456"
    assert normalise_phone(None) == ""
    members = pd.DataFrame({
        "customer_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
        "phone": ["+447700900001", "+447700900002", "", "07700 900004", "+447700900005",
                  "+447700900001"],
        "ok": [True, False, True, True, True, True],
    })  # fmt: skip
    rules = apply_rules(
        members, channel="webhook", suppressed={"+447700900005"}, recent_sends=None, cap=None,
        at=datetime(2026, 3, 1, tzinfo=UTC), consent="ok", address="phone",
        address_format="e164", label="SMS",
    )  # fmt: skip
    assert rules.kept["customer_id"].tolist() == ["c1"]
    assert rules.report == {
        "no SMS consent": 1, "no SMS address": 1, "invalid SMS address": 1,
        "suppressed: listed": 1, "duplicate address": 1,
    }  # fmt: skip
    assert list(rules.report) == list(rules.to_dict()["reasons"])  # in rule order
