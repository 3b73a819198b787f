"""A campaign's lifecycle: draft → scheduled → sending ⇄ paused → done, or cancelled.

A campaign in the state ``journey`` is a journey's send step (see
:mod:`streamwise.downstream.journeys`): the journey worker sends it, one ledger row per run of
the step, and no campaign command moves it (pause or resume its journey instead).

The allowed moves are declared once here; everything else (the CLI, the API, the sender) asks
:func:`check_transition` before it changes a campaign's state, so a campaign can never, say, go
back to *sending* after it is *done* (listmonk's pause/resume re-sends and skips, its issues #2070
and #2313, come from states that were not guarded this way).
"""

from __future__ import annotations

from typing import Literal

from streamwise.errors import ConfigError

__all__ = ["STATES", "TRANSITIONS", "State", "check_transition", "is_final"]

State = Literal["draft", "scheduled", "sending", "paused", "done", "cancelled", "journey"]
STATES: tuple[State, ...] = (
    "draft", "scheduled", "sending", "paused", "done", "cancelled", "journey",
)  # fmt: skip

#: state → the states it may move to, and the command that moves it.
TRANSITIONS: dict[State, dict[State, str]] = {
    "draft": {"scheduled": "schedule", "sending": "send", "cancelled": "cancel"},
    "scheduled": {"draft": "unschedule", "sending": "send", "cancelled": "cancel"},
    "sending": {"paused": "pause", "done": "finish", "cancelled": "cancel"},
    "paused": {"sending": "resume", "cancelled": "cancel"},
    "done": {},
    "cancelled": {},
    "journey": {},
}


def is_final(state: State) -> bool:
    """Whether nothing can happen to a campaign in this state any more."""
    return not TRANSITIONS[state]


def check_transition(current: State, target: State) -> None:
    """Refuse a move the lifecycle does not allow, saying what is possible instead.

    Raises
    ------
    ConfigError
        The move is not allowed (or a state is unknown).
    """
    for state in (current, target):
        if state not in TRANSITIONS:
            raise ConfigError(f"unknown campaign state {state!r}; states are {', '.join(STATES)}")
    if target in TRANSITIONS[current]:
        return
    if "journey" in (current, target):
        raise ConfigError(
            "a journey's send step is sent by `streamwise worker`, not as a campaign; pause or "
            "resume its journey with `streamwise journey pause|resume NAME`"
        )
    options = TRANSITIONS[current]
    if not options:
        raise ConfigError(f"the campaign is {current}; nothing more can be done with it")
    allowed = ", ".join(f"{cmd} (→ {st})" for st, cmd in options.items())
    raise ConfigError(f"a {current} campaign cannot become {target}; it can: {allowed}")
