"""What an ad export reports: who was written, who was left out and why.

:class:`AdsExport` is the result of :func:`~.ads.export_audience` and :func:`~.ads.export_seed`;
:func:`count_report` turns the export's status counts into the reasons the campaign rules use
(:data:`~.rules.REASONS` for suppressions, "no ads consent" for consent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from streamwise.downstream.audiences.ads_consent import consent_reason, suppression_reasons
from streamwise.downstream.audiences.ads_platforms import Platform

__all__ = ["AdsExport", "count_report"]

_IDENTIFIER_WORDS = {"email": "e-mail address", "phone": "phone number"}


@dataclass(frozen=True)
class AdsExport:
    """What an export wrote and whom it left out.

    Attributes
    ----------
    platform, path, headers
        The format, the file written and its column headers (X's file has none written).
    kind, audience, at
        ``"audience"`` or ``"seed"``, the filter (``None`` for a seed over every customer) and
        the resolve time.
    members
        People in the audience, or chosen for the seed, before consent and checks.
    exported
        Rows written, one per person.
    removed
        Reason → people left out, in rule order: no consent, suppressed (by reason), no
        identifier, no usable identifier.
    unusable
        Reason → identifiers that could not be used (malformed, a national phone number without
        a country) among people who passed consent and suppression, whether or not another
        identifier let them through.
    scope, top
        For seeds: customers with a CLV within the audience, and the share or count taken.
    """

    platform: str
    path: Path
    headers: tuple[str, ...]
    kind: Literal["audience", "seed"]
    audience: str | None
    at: datetime
    members: int
    exported: int
    removed: dict[str, int]
    unusable: dict[str, int] = field(default_factory=dict)
    scope: int | None = None
    top: float | int | None = None

    def to_frame(self) -> pd.DataFrame:
        """The report as rows of ``reason, removed`` (the campaign rules' shape)."""
        return pd.DataFrame(
            {"reason": list(self.removed), "removed": list(self.removed.values())},
            columns=["reason", "removed"],
        )

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready."""
        return {
            "platform": self.platform,
            "path": str(self.path),
            "headers": list(self.headers),
            "kind": self.kind,
            "audience": self.audience,
            "at": self.at.isoformat(),
            "members": self.members,
            "exported": self.exported,
            "removed": dict(self.removed),
            "unusable": dict(self.unusable),
            "scope": self.scope,
            "top": self.top,
        }


def count_report(platform: Platform, counts: list[tuple[Any, ...]]) -> dict[str, Any]:
    """The report query's rows (status, people, invalid e-mails, invalid phones, phones without
    country) as ``members``, ``exported``, ``removed`` (reason → people, in rule order) and
    ``unusable`` (reason → identifiers)."""
    by_status = {status: int(n) for status, n, *_ in counts}
    words = " or ".join(_IDENTIFIER_WORDS[i] for i in platform.identifiers)
    labels = {"consent": consent_reason()}
    labels |= {f"sup{rank}": reason for rank, reason in suppression_reasons().items()}
    labels |= {"none": f"no {words}", "unusable": f"no usable {words}"}
    removed = {labels[s]: by_status[s] for s in labels if by_status.get(s)}
    bad = [sum(int(row[i]) for row in counts) for i in (2, 3, 4)]
    unusable = {
        "invalid e-mail address": bad[0],
        "invalid phone number": bad[1] if "phone" in platform.identifiers else 0,
        "national phone number of a customer without a country": (
            bad[2] if "phone" in platform.identifiers else 0
        ),
    }
    return {
        "members": sum(by_status.values()),
        "exported": by_status.get("ok", 0),
        "removed": removed,
        "unusable": {k: v for k, v in unusable.items() if v},
    }
