"""Audiences: a name and a filter, resolved against the workspace at send time.

An :class:`Audience` stores no members. :func:`resolve` compiles its filter to Ibis and runs it
in the analytics database when called, so the same audience picks up new customers, new orders
and refreshed segments; only the members' rows come back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from streamwise.downstream.audiences.compiler import compile_filter, filter_fields
from streamwise.downstream.audiences.fields import field_table
from streamwise.downstream.audiences.filters import parse_filter, quote
from streamwise.errors import ConfigError, WorkspaceError
from streamwise.plan.store import load_plan

if TYPE_CHECKING:
    from streamwise.plan.document import PlanDocument
    from streamwise.workspace import Workspace

__all__ = ["MEMBER_COLUMNS", "Audience", "ResolvedAudience", "plan_personas", "resolve"]

#: Columns of a resolved audience's members, where the workspace has them.
MEMBER_COLUMNS = (
    "customer_id", "email", "first_name", "timezone", "country", "email_consent", "segment",
    "persona", "rfm_segment", "clv",
)  # fmt: skip


@dataclass(frozen=True)
class Audience:
    """Who to reach: a name, a filter in the audience filter language and an optional channel.

    The filter is checked when the audience is made (syntax, field names, value types); whether
    the workspace has the fields it uses is checked when it is resolved.
    """

    name: str
    filter: str
    channel: str | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ConfigError("an audience needs a name; give it one such as 'Weekend Campers'")
        parse_filter(self.filter)

    @classmethod
    def from_plan(
        cls,
        plan: PlanDocument,
        *,
        decision: Literal["target", "maintain", "deprioritise"] = "target",
        channel: str | None = None,
    ) -> tuple[Audience, ...]:
        """One audience per segment the plan's strategy gives ``decision``, in rank order."""
        targets = sorted(
            (t for t in plan.strategy.targets if t.decision == decision), key=lambda t: t.rank
        )
        return tuple(
            cls(name=t.segment, filter=f"segment = {quote(t.segment)}", channel=channel)
            for t in targets
        )

    @classmethod
    def from_persona(
        cls, plan: PlanDocument, persona_name: str, *, channel: str | None = None
    ) -> Audience:
        """The audience of one persona of the plan, by full name or first name ("Wendy").

        The filter names the persona, so resolving it follows the latest plan's personas.

        Raises
        ------
        ConfigError
            When the plan has no such persona (the message lists those it has).
        """
        for card in plan.personas:
            if persona_name in (card.name, card.name.split(" (")[0].strip()):
                return cls(name=card.name, filter=f"persona = {quote(card.name)}", channel=channel)
        known = ", ".join(repr(c.name) for c in plan.personas) or "none"
        raise ConfigError(f"the plan has no persona {persona_name!r}; its personas are: {known}")


@dataclass(frozen=True, eq=False)
class ResolvedAudience:
    """An audience's members at one moment.

    Attributes
    ----------
    audience
        What was resolved.
    at
        The resolve time (``within N days`` counts back from its day).
    members
        One row per member: :data:`MEMBER_COLUMNS` that the workspace has, by ``customer_id``.
    population
        Customers in the workspace, members or not.
    """

    audience: Audience
    at: datetime
    members: pd.DataFrame = field(repr=False)
    population: int

    @property
    def size(self) -> int:
        """Number of members."""
        return len(self.members)

    def to_frame(self) -> pd.DataFrame:
        """The members (a copy)."""
        return self.members.copy()

    def to_dict(self) -> dict[str, Any]:
        """Name, filter, channel, resolve time and counts, JSON-ready."""
        return {
            "name": self.audience.name,
            "filter": self.audience.filter,
            "channel": self.audience.channel,
            "at": self.at.isoformat(),
            "members": self.size,
            "population": self.population,
        }


def resolve(
    workspace: Workspace,
    audience: Audience,
    *,
    at: datetime | None = None,
    personas: Mapping[str, str] | None = None,
) -> ResolvedAudience:
    """Evaluate ``audience`` now (or at ``at``) in the workspace's analytics database.

    Parameters
    ----------
    workspace
        The workspace to read customers and result tables from.
    audience
        The audience to resolve.
    at
        The resolve time, default now (UTC); naive times are taken as UTC.
    personas
        Named segment → persona name. Default: from the latest saved plan, read only when the
        filter uses ``persona``.

    Raises
    ------
    FilterError
        When the filter uses a field the workspace cannot provide yet (the message names the
        command to run) or a persona the plan lacks.
    """
    at = datetime.now(UTC) if at is None else at
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    if personas is None and "persona" in filter_fields(parse_filter(audience.filter)):
        personas = plan_personas(workspace)
    fields = field_table(workspace.analytics(), personas=personas)
    table = fields.table
    predicate = compile_filter(audience.filter, fields, at=at)
    columns = [c for c in MEMBER_COLUMNS if c in fields.available]
    members = table.filter(predicate).select(*columns).order_by("customer_id").execute()
    population = int(table.count().execute())
    return ResolvedAudience(
        audience=audience, at=at, members=members.reset_index(drop=True), population=population
    )


def plan_personas(workspace: Workspace) -> dict[str, str]:
    """Segment → persona name from the workspace's plan (empty when there is no plan yet)."""
    try:
        plan = load_plan(workspace)
    except WorkspaceError:
        return {}
    return {card.segment: card.name for card in plan.personas}
