"""std.echo, std.noop, std.fail, std.sleep, std.async_noop, std.test_dict."""

from __future__ import annotations

from typing import Any

from meltemi.actions.base import Action, ActionContext, Outcome


class EchoAction(Action):
    """Returns its output, after an optional delay in seconds."""

    idempotent = True

    def __init__(self, output: Any, delay: float = 0) -> None:
        self.output = output
        self.delay = max(float(delay or 0), 0.0)

    def runs_instantly(self) -> bool:
        return self.delay == 0

    def run(self, context: ActionContext) -> Any:
        if self.delay and not context.sleep(self.delay):
            return Outcome(cancelled=True, error="Action was cancelled")
        return self.output


class NoOpAction(Action):
    """Does nothing and returns nothing."""

    instant = True
    idempotent = True

    def run(self, context: ActionContext) -> Any:
        return None


class FailAction(Action):
    """Always fails, with its error data when given."""

    instant = True
    idempotent = True

    def __init__(self, error_data: Any = None) -> None:
        self.error_data = error_data

    def run(self, context: ActionContext) -> Any:
        if self.error_data is not None:
            return Outcome(error=self.error_data)
        return Outcome(error="Fail action expected exception.")


class SleepAction(Action):
    """Sleeps for the given number of seconds."""

    idempotent = True

    def __init__(self, seconds: int = 1) -> None:
        self.seconds = max(int(seconds), 0)

    def run(self, context: ActionContext) -> Any:
        if not context.sleep(self.seconds):
            return Outcome(cancelled=True, error="Action was cancelled")
        return None


class AsyncNoOpAction(Action):
    """Starts nothing; the task waits until a result is put through the API."""

    asynchronous = True
    idempotent = True

    def run(self, context: ActionContext) -> Any:
        return None


class TestDictAction(Action):
    """Returns a dictionary of ``size`` entries (for tests of big data)."""

    instant = True
    idempotent = True

    def __init__(self, size: int = 0, key_prefix: str = "", val: str = "") -> None:
        self.size = int(size)
        self.key_prefix = key_prefix
        self.val = val

    def run(self, context: ActionContext) -> Any:
        return {f"{self.key_prefix}{i}": self.val for i in range(self.size)}
