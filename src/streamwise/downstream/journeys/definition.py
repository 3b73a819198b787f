"""A journey's parts as frozen models: its trigger, exit conditions, re-entry rule and steps.

:mod:`~streamwise.downstream.journeys.load` reads them from YAML and checks the whole (targets,
reachability, loops); this module only says what each part may hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from streamwise.downstream.journeys.durations import Duration

__all__ = [
    "OPERATORS",
    "STEP_KINDS",
    "Arm",
    "Branch",
    "Condition",
    "EventCondition",
    "Exit",
    "JourneyDefinition",
    "NotifySales",
    "ReEntry",
    "Send",
    "Split",
    "Step",
    "StepKind",
    "Trigger",
    "Update",
    "Wait",
]

StepKind = Literal["send", "wait", "branch", "split", "update", "notify_sales", "exit"]
STEP_KINDS: tuple[str, ...] = get_args(StepKind)
#: Operators of a ``where`` condition on an event property (``{amount: {gte: 20}}``).
OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "exists")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _check_where(value: dict[str, Any]) -> dict[str, Any]:
    for key, cond in value.items():
        if isinstance(cond, dict):
            unknown = [op for op in cond if op not in OPERATORS]
            if unknown:
                raise ValueError(
                    f"property {key!r}: unknown operator {unknown[0]!r}; use {', '.join(OPERATORS)}"
                )
    return value


#: Property conditions: ``{plan: pro}`` (equal), ``{plan: [pro, team]}`` (one of),
#: ``{amount: {gte: 20}}``; dotted names reach into nested properties (``product.category``).
Where = Annotated[dict[str, Any], AfterValidator(_check_where)]
EmailKind = Literal["opened", "clicked", "unsubscribed"]


class EventCondition(_Strict):
    """Something a customer does: a ``track`` event received by the tracking server (``event``,
    optionally filtered by its properties with ``where``) or what they did with an e-mail
    (``email``: opened, clicked or unsubscribed; of another campaign's e-mail with
    ``campaign``, of one of this journey's send steps with ``step``)."""

    event: str | None = Field(None, min_length=1, max_length=200)
    where: Where = Field(default_factory=dict)
    email: EmailKind | None = None
    campaign: str | None = Field(None, min_length=1)
    step: str | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _one(self) -> EventCondition:
        if (self.event is None) == (self.email is None):
            raise ValueError(
                "give either `event` (a track event's name) or `email` (opened, clicked or "
                "unsubscribed)"
            )
        if self.where and self.event is None:
            raise ValueError("`where` filters an event's properties; it needs `event`")
        if self.email is None and (self.campaign or self.step):
            raise ValueError("`campaign` and `step` say which e-mail an `email` condition means")
        if self.campaign and self.step:
            raise ValueError("give `campaign` (a campaign's e-mail) or `step` (this journey's)")
        return self


class Trigger(_Strict):
    """How customers enter: on an event or e-mail engagement (as :class:`EventCondition`), or
    on a change of state computed upstream: ``state`` (an audience filter; entered when a
    customer starts to match it), ``segment`` (short for ``state: segment = "NAME"``) or
    ``changes`` (a field whose value — or tier, with ``tiers`` — changed, optionally only
    ``to`` some values). States are evaluated every ``every`` and whenever the analytics
    database changes; ``include_existing`` admits those who match at the first evaluation."""

    event: str | None = Field(None, min_length=1, max_length=200)
    where: Where = Field(default_factory=dict)
    email: EmailKind | None = None
    campaign: str | None = Field(None, min_length=1)
    state: str | None = Field(None, min_length=1)
    segment: str | None = Field(None, min_length=1)
    changes: str | None = Field(None, min_length=1)
    tiers: dict[str, float] | None = None
    to: tuple[str, ...] = ()
    every: Duration = timedelta(days=1)
    include_existing: bool = False

    @model_validator(mode="after")
    def _one(self) -> Trigger:
        given = [k for k in ("event", "email", "state", "segment", "changes") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of event, email (e-mail engagement), state (an audience "
                f"filter), segment or changes (a field); got {', '.join(given) or 'none'}"
            )
        if self.where and self.event is None:
            raise ValueError("`where` filters an event's properties; it needs `event`")
        if self.campaign and self.email is None:
            raise ValueError("`campaign` says whose e-mail an `email` trigger means")
        if (self.tiers or self.to) and self.changes is None:
            raise ValueError("`tiers` and `to` belong to a `changes` trigger")
        return self

    @property
    def kind(self) -> Literal["event", "email", "state", "changes"]:
        """What enters customers: an event, an e-mail engagement, a filter or a value change."""
        if self.event is not None:
            return "event"
        if self.email is not None:
            return "email"
        return "changes" if self.changes is not None else "state"

    @property
    def filter(self) -> str | None:
        """The audience filter of a ``state`` or ``segment`` trigger."""
        if self.segment is not None:
            return 'segment = "' + self.segment.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return self.state

    @property
    def condition(self) -> EventCondition | None:
        """The event or engagement of an ``event``/``email`` trigger."""
        if self.kind not in ("event", "email"):
            return None
        return EventCondition(event=self.event, where=self.where, email=self.email,
                              campaign=self.campaign)  # fmt: skip


@dataclass(frozen=True)
class ReEntry:
    """May a customer enter again? ``never``; ``after_exit`` (once the previous entry ended);
    ``cooldown`` (once ``cooldown`` has passed since it ended). Never while one is active."""

    mode: Literal["never", "after_exit", "cooldown"] = "never"
    cooldown: timedelta | None = None


class Send(_Strict):
    """Send a message: the journey's ``settings`` (sender, tracking URL, channel settings) with
    this step's ``settings`` and ``variants`` on top, as a campaign's settings; or those of an
    existing ``campaign`` (copied when the journey is created). ``recommend:
    category_affinity`` gives the templates ``recommended_category``."""

    campaign: str | None = Field(None, min_length=1)
    channel: Literal["email", "webhook"] | None = None
    variants: dict[str, dict[str, Any]] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)
    recommend: Literal["category_affinity"] | None = None

    @model_validator(mode="after")
    def _content(self) -> Send:
        if self.campaign is None and not self.variants:
            raise ValueError("give the message's `variants` (or a `campaign` to copy)")
        if self.campaign is not None and (self.variants or self.settings or self.channel):
            raise ValueError("a step that copies a `campaign` takes nothing else but `recommend`")
        return self


class Wait(_Strict):
    """Wait a ``duration``; or ``until`` an event or e-mail engagement, at most ``timeout``
    (then go to ``on_timeout``, by default the same next step)."""

    duration: Duration | None = None
    until: EventCondition | None = None
    timeout: Duration | None = None
    on_timeout: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shapes(cls, data: Any) -> Any:
        if isinstance(data, str | int | float):
            return {"duration": data}
        if isinstance(data, dict) and ({"event", "email"} & set(data)):
            until = {k: data[k] for k in ("event", "where", "email", "campaign", "step")
                     if k in data}  # fmt: skip
            rest = {k: v for k, v in data.items() if k not in until}
            return {**rest, "until": until}
        if isinstance(data, dict) and "for" in data:
            return {"duration": data["for"], **{k: v for k, v in data.items() if k != "for"}}
        return data

    @model_validator(mode="after")
    def _one(self) -> Wait:
        if (self.duration is None) == (self.until is None):
            raise ValueError(
                "wait a duration (`wait: 3d`) or until an event (`wait: {event: NAME, "
                "timeout: 2d}`), not both"
            )
        if self.until is not None and self.timeout is None:
            raise ValueError("waiting until an event needs a `timeout` (e.g. 2d)")
        if self.until is None and (self.timeout or self.on_timeout):
            raise ValueError("`timeout` and `on_timeout` belong to a wait until an event")
        return self

    @property
    def delay(self) -> timedelta:
        """How long the wait lasts at most."""
        value = self.duration if self.duration is not None else self.timeout
        assert value is not None
        return value


class Condition(_Strict):
    """A branch's question, one of: ``filter`` (an audience filter on the customer now),
    ``bought`` (a purchase event since entry), ``clicked`` / ``opened`` (this journey's send
    step's e-mail, by step id, or ``any`` send step, since entry), ``event`` (with ``where``:
    such an event since entry), ``attribute`` (a customer attribute set by an ``update`` step:
    ``equals`` a value, one of ``in``, or just set)."""

    filter: str | None = Field(None, min_length=1)
    bought: bool | None = None
    clicked: str | None = Field(None, min_length=1)
    opened: str | None = Field(None, min_length=1)
    event: str | None = Field(None, min_length=1)
    where: Where = Field(default_factory=dict)
    attribute: str | None = Field(None, min_length=1)
    equals: Any = None
    in_: tuple[Any, ...] | None = Field(None, alias="in")

    @model_validator(mode="after")
    def _one(self) -> Condition:
        keys = ("filter", "bought", "clicked", "opened", "event", "attribute")
        given = [k for k in keys if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"ask one thing: one of {', '.join(keys)}; got {given or 'none'}")
        if self.where and self.event is None:
            raise ValueError("`where` filters an event's properties; it needs `event`")
        if (self.equals is not None or self.in_ is not None) and self.attribute is None:
            raise ValueError("`equals` and `in` compare an `attribute`")
        return self


class Branch(_Strict):
    """Go to ``then`` when the condition holds, else to ``else`` (default: the next step)."""

    if_: Condition = Field(alias="if")
    then: str
    else_: str | None = Field(None, alias="else")


class Arm(_Strict):
    """One arm of a split: its weight and where it leads."""

    weight: float = Field(1.0, gt=0)
    next: str


class Split(_Strict):
    """An A/B split: each customer draws an arm (by weight) once; the draw is a keyed hash of
    the journey's seed, the step and the customer, so it is the same on every entry."""

    arms: dict[str, Arm] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _mapping(cls, data: Any) -> Any:
        return {"arms": data} if isinstance(data, dict) and "arms" not in data else data


class Update(_Strict):
    """Set customer attributes (``customer_attributes``): ``{vip: true, stage: won}``."""

    set_: dict[str, Any] = Field(alias="set", min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _mapping(cls, data: Any) -> Any:
        return {"set": data} if isinstance(data, dict) and "set" not in data else data

    @model_validator(mode="after")
    def _names(self) -> Update:
        for name, value in self.set_.items():
            if not name or len(name) > 100:
                raise ValueError(f"attribute names have 1 to 100 characters: {name!r}")
            if isinstance(value, dict):
                raise ValueError(f"attribute {name!r}: give a text, number, true/false or list")
        return self


class NotifySales(_Strict):
    """Tell the sales team: a signed webhook (``X-Streamwise-Signature``, the secret from the
    environment variable ``secret_env``) to ``url`` with the customer and ``note``."""

    url: str = Field(pattern=r"^https?://")
    secret_env: str = Field("STREAMWISE_SALES_WEBHOOK_SECRET", pattern=r"^[A-Z_][A-Z0-9_]*$")
    note: str = ""


class Exit(_Strict):
    """Leave the journey (the entry is ``completed``)."""

    reason: str = ""


Body = Send | Wait | Branch | Split | Update | NotifySales | Exit
BODIES: dict[str, type[BaseModel]] = {
    "send": Send, "wait": Wait, "branch": Branch, "split": Split, "update": Update,
    "notify_sales": NotifySales, "exit": Exit,
}  # fmt: skip


@dataclass(frozen=True)
class Step:
    """One step: its id, kind and body, and its default successor ``next`` (the following
    step, or the one named by ``next:``; ``None`` for an exit)."""

    id: str
    kind: StepKind
    body: Body
    next: str | None
    index: int

    def targets(self) -> dict[str, str]:
        """Where the step can lead: label → step id."""
        b = self.body
        if isinstance(b, Exit):
            return {}
        if isinstance(b, Branch):
            return {"then": b.then, "else": b.else_ or self.next or ""}
        if isinstance(b, Split):
            return {f"arm {name}": arm.next for name, arm in b.arms.items()}
        out = {"next": self.next or ""}
        if isinstance(b, Wait) and b.until is not None:
            out["on_timeout"] = b.on_timeout or self.next or ""
        return out


@dataclass(frozen=True)
class JourneyDefinition:
    """A checked journey. ``data`` is the definition as read (what the database keeps)."""

    name: str
    description: str
    trigger: Trigger
    re_entry: ReEntry
    exit_on: tuple[EventCondition, ...]
    purchase_events: tuple[str, ...] | None
    settings: Mapping[str, Any]
    steps: tuple[Step, ...]
    data: Mapping[str, Any] = field(repr=False, compare=False)

    @cached_property
    def by_id(self) -> dict[str, Step]:
        """Steps by id."""
        return {s.id: s for s in self.steps}

    @property
    def first(self) -> str:
        """The step every entry starts at."""
        return self.steps[0].id

    def of_kind(self, *kinds: str) -> list[Step]:
        """The steps of these kinds, in order."""
        return [s for s in self.steps if s.kind in kinds]

    def send_settings(self, step_id: str) -> dict[str, Any]:
        """A send step's campaign settings: the journey's, the step's on top, its variants."""
        body = self.by_id[step_id].body
        assert isinstance(body, Send)
        merged = _merge(dict(self.settings), body.settings)
        if body.variants:
            merged["variants"] = body.variants
        return merged

    def to_dict(self) -> dict[str, Any]:
        """The definition as read (JSON-ready)."""
        return dict(self.data)


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``top`` on top, nested mappings merged key by key."""
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(dict(out[key]), value)
        else:
            out[key] = value
    return out
