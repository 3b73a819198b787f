"""Who may be matched for advertising: consent and the suppression list, for ad exports.

The policy, applied in this order (each person is left out once, for the first rule that applies,
with the reasons the campaign rules use, :data:`~.rules.REASONS`):

1. ``ads_consent`` must be true ("no ads consent"); empty means unknown means no, as the
   customers contract says. Consent to e-mail or text messages does not count: being matched
   with a platform's users is a purpose of its own.
2. Not suppressed: any entry on the ``ads`` channel's list, whatever its reason, and on any other
   channel an entry whose reason is an objection to marketing, a ``complaint`` or an
   ``unsubscribe`` (someone who unsubscribed from our e-mail would not expect to be shown our
   ads). Hard bounces and manual entries on other channels concern deliverability and do not
   stop matching. An entry matches by customer id, by e-mail address (trimmed, lower-case) or
   by phone number (E.164). The strongest reason is reported: complaint, then unsubscribe, hard
   bounce, manual.

:func:`suppression_keys` reads the list from the operational database (small next to the
analytics tables) into an Arrow table that the export joins in DuckDB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
from sqlalchemy import Engine, or_, select

from streamwise.downstream.audiences.rules import REASONS, normalise_address
from streamwise.store import Suppression, session_factory
from streamwise.store.db import engine_of, needs_table

if TYPE_CHECKING:
    from streamwise.workspace import Workspace

__all__ = [
    "ADS_CHANNEL",
    "CONSENT_COLUMN",
    "OBJECTIONS",
    "SUPPRESSED",
    "consent_reason",
    "suppression_keys",
    "suppression_reasons",
]

#: The channel of the suppression list that stops ad matching whatever the reason.
ADS_CHANNEL = "ads"
#: The customers column that holds consent to ad matching.
CONSENT_COLUMN = "ads_consent"
#: Reasons that stop ad matching when found on any channel's list.
OBJECTIONS = ("complaint", "unsubscribe")
#: Name under which :func:`suppression_keys` is registered on the connection.
SUPPRESSED = "_sw_ads_suppressed"
_RANK = {reason: i for i, reason in enumerate(REASONS)}  # complaint first


def consent_reason() -> str:
    """The reason reported for people without consent to ad matching."""
    return "no ads consent"


def suppression_reasons() -> dict[int, str]:
    """Rank (as in :func:`suppression_keys`) → the reason reported, strongest first."""
    return {rank: REASONS[reason] for reason, rank in _RANK.items()}


def suppression_keys(target: Engine | Workspace) -> pa.Table:
    """The entries that stop ad matching, as ``key, rank`` rows.

    ``key`` is ``id:<customer_id>`` or ``ad:<normalised address>``; ``rank`` orders reasons
    (0 = complaint, strongest). One row per key, with its strongest reason.
    """
    engine = engine_of(target)
    query = select(Suppression.address, Suppression.customer_id, Suppression.reason).where(
        or_(Suppression.channel == ADS_CHANNEL, Suppression.reason.in_(OBJECTIONS))
    )
    best: dict[str, int] = {}
    with needs_table(engine, "suppressions", "suppression list"), session_factory(engine)() as s:
        for address, customer_id, reason in s.execute(query).yield_per(10_000):
            rank = _RANK.get(reason, len(_RANK) - 1)  # an unknown reason counts as manual
            keys = [f"ad:{normalise_address(address)}"] if address else []
            if customer_id:
                keys.append(f"id:{customer_id}")
            for key in keys:
                best[key] = min(rank, best.get(key, rank))
    return pa.table(
        {
            "key": pa.array(list(best), pa.string()),
            "rank": pa.array(list(best.values()), pa.int32()),
        }
    )
