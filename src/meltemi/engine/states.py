"""Execution states, with Mistral's wire values, and the transitions between them."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final


class State(enum.StrEnum):
    IDLE = "IDLE"
    WAITING = "WAITING"
    RUNNING = "RUNNING"
    DELAYED = "DELAYED"  # Mistral's RUNNING_DELAYED
    PAUSED = "PAUSED"
    SUCCESS = "SUCCESS"
    CANCELLED = "CANCELLED"
    ERROR = "ERROR"
    SKIPPED = "SKIPPED"


COMPLETED: Final = frozenset({State.SUCCESS, State.ERROR, State.CANCELLED, State.SKIPPED})
ACTIVE: Final = frozenset({State.RUNNING, State.DELAYED})

# Valid transitions (a state may always move to itself). Shared by workflow, task and
# action executions, as in Mistral.
TRANSITIONS: Final[Mapping[State, frozenset[State]]] = {
    State.IDLE: frozenset({State.RUNNING, State.ERROR, State.CANCELLED}),
    State.WAITING: frozenset({State.RUNNING, State.ERROR, State.CANCELLED}),
    State.RUNNING: frozenset(
        {State.PAUSED, State.DELAYED, State.SUCCESS, State.ERROR, State.CANCELLED}
    ),
    State.DELAYED: frozenset({State.RUNNING, State.ERROR, State.CANCELLED}),
    State.PAUSED: frozenset({State.RUNNING, State.ERROR, State.CANCELLED}),
    State.SUCCESS: frozenset(),
    State.CANCELLED: frozenset({State.RUNNING}),
    State.ERROR: frozenset({State.RUNNING, State.SKIPPED}),
    State.SKIPPED: frozenset(),
}


def is_completed(state: State) -> bool:
    return state in COMPLETED


def can_move(source: State, target: State) -> bool:
    return source == target or target in TRANSITIONS[source]
