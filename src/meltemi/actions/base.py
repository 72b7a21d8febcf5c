"""The action contract.

An action is a class whose constructor keywords are its input parameters (those
with defaults are optional) and whose ``run(context)`` returns the result, returns
an :class:`Outcome` (data, error or cancellation), or raises (an error). This is the
shape of ``mistral_lib.actions.Action``, so actions written for Mistral fit too.

Class attributes tell the runtime how it may run an action:

- ``asynchronous = True`` (``is_sync()`` false): the action only starts something; its
  result arrives later through ``PUT /v2/action_executions/{id}``.
- ``instant = True``: it finishes at once without I/O, so the engine may run it
  in-line, in the same transaction as the decision that asked for it.
- ``idempotent = True``: running it twice has the effect of running it once, so an
  action that was in flight when the process died may run again after a restart.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What an action gave back."""

    data: Any = None
    error: Any = None
    cancelled: bool = False

    @property
    def is_error(self) -> bool:
        return self.error is not None or self.cancelled


@dataclass(slots=True, kw_only=True)
class ActionContext:
    """What a running action knows about where it runs, and a way to be cancelled."""

    action_execution_id: str | None = None
    workflow_execution_id: str | None = None
    task_execution_id: str | None = None
    workflow_name: str | None = None
    task_name: str | None = None
    with_items_index: int | None = None
    attempt: int = 0
    callback_url: str | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)

    def sleep(self, seconds: float) -> bool:
        """Sleeps; returns False early when the action is cancelled."""
        return not self.cancelled.wait(max(seconds, 0))


class Action:
    """Base class of Meltemi's own actions."""

    asynchronous: ClassVar[bool] = False
    instant: ClassVar[bool] = False
    idempotent: ClassVar[bool] = False

    def is_sync(self) -> bool:
        """False when the result comes later from outside (mistral-lib's contract)."""
        return not type(self).asynchronous

    def runs_instantly(self) -> bool:
        """Whether this instance finishes at once without I/O (``instant``)."""
        return type(self).instant

    def run(self, context: ActionContext) -> Any:
        raise NotImplementedError


def normalise(result: Any) -> Outcome:
    """An Outcome for whatever ``run()`` returned (mistral-lib Results included)."""
    if isinstance(result, Outcome):
        return result
    if hasattr(result, "is_error") and hasattr(result, "data") and hasattr(result, "error"):
        cancel = bool(getattr(result, "cancel", False))
        if cancel or result.error is not None:
            return Outcome(error=result.error, cancelled=cancel)
        return Outcome(data=result.data)
    return Outcome(data=result)
