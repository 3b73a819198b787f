"""How long an SMS is: its encoding and how many segments (billed messages) it takes.

A text is sent in GSM-7 when every character is in the GSM 03.38 default alphabet or its
extension table (3GPP TS 23.038 §6.2.1; an extension character such as ``€`` or ``{`` costs two
septets, the escape and the character), else in UCS-2 (UTF-16 code units; a character outside the
Basic Multilingual Plane, such as most emoji, costs two). One segment holds 160 septets or 70
UCS-2 units; a longer text is split into concatenated segments whose user-data header leaves 153
septets or 67 units each (3GPP TS 23.040 §9.2.3.24.1), and an escape pair or a surrogate pair is
never split across two segments.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = ["GSM7_BASIC", "GSM7_EXTENSION", "SmsLength", "sms_length"]

#: The GSM 03.38 default alphabet (the escape, 0x1B, left out: it only introduces the extension).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: The extension table's characters (each costs two septets).
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

_SINGLE = {"GSM-7": 160, "UCS-2": 70}
_PART = {"GSM-7": 153, "UCS-2": 67}


@dataclass(frozen=True)
class SmsLength:
    """An SMS text's encoding, size and segments.

    Attributes
    ----------
    encoding
        ``"GSM-7"`` or ``"UCS-2"``.
    units
        Septets (GSM-7) or UTF-16 code units (UCS-2).
    segments
        Messages the network sends (and most gateways bill).
    characters
        Characters of the text (Python's count).
    """

    encoding: Literal["GSM-7", "UCS-2"]
    units: int
    segments: int
    characters: int

    def to_dict(self) -> dict[str, Any]:
        """The length as a plain dict."""
        return asdict(self)


def _costs(text: str) -> tuple[Literal["GSM-7", "UCS-2"], list[int]]:
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        return "GSM-7", [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return "UCS-2", [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def sms_length(text: str) -> SmsLength:
    """The encoding, units and segments of ``text`` as an SMS.

    Examples
    --------
    >>> sms_length("a" * 160).segments, sms_length("a" * 161).segments
    (1, 2)
    >>> sms_length("€" * 80).units, sms_length("✓" * 70).segments
    (160, 1)
    """
    encoding, costs = _costs(text)
    units = sum(costs)
    if units <= _SINGLE[encoding]:
        return SmsLength(encoding, units, 1, len(text))
    part, segments, used = _PART[encoding], 1, 0
    for cost in costs:  # a pair (escape + character, or surrogates) stays in one segment
        if used + cost > part:
            segments, used = segments + 1, 0
        used += cost
    return SmsLength(encoding, units, segments, len(text))
