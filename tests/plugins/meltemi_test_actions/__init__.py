"""Actions written against mistral-lib, as Mistral users write them."""

from __future__ import annotations

from typing import Any

from mistral_lib import actions


class MultiplyAction(actions.Action):
    """Multiplies two numbers."""

    def __init__(self, a: float, b: float = 2) -> None:
        super().__init__()
        self.a = a
        self.b = b

    def run(self, context: Any) -> Any:
        return self.a * self.b


class ContextAction(actions.Action):
    """Returns what the execution context says about where it runs."""

    def run(self, context: Any) -> Any:
        execution = context.execution
        return {
            "workflow_name": execution.workflow_name,
            "has_action_execution_id": bool(execution.action_execution_id),
            "has_task_id": bool(execution.task_execution_id),
        }


class AsyncWaitAction(actions.Action):
    """Starts nothing; its result comes later through the API."""

    def run(self, context: Any) -> Any:
        return None

    def is_sync(self) -> bool:
        return False


class FailingAction(actions.Action):
    """Fails with a mistral-lib Result error."""

    def __init__(self, reason: str = "no") -> None:
        super().__init__()
        self.reason = reason

    def run(self, context: Any) -> Any:
        return actions.Result(error={"reason": self.reason})
