"""Errors the engine raises for requests it cannot carry out.

::

    MeltemiError
    └── EngineError
        ├── WorkflowInputError   the input does not fit the workflow's declared input
        └── InvalidRequest       e.g. rerun of a task that did not fail
"""

from __future__ import annotations

from meltemi.errors import MeltemiError


class EngineError(MeltemiError):
    pass


class WorkflowInputError(EngineError):
    """Missing or unexpected input parameters (the message lists them)."""

    def __init__(
        self,
        message: str,
        *,
        missing: tuple[str, ...] = (),
        unexpected: tuple[str, ...] = (),
    ) -> None:
        self.missing = missing
        self.unexpected = unexpected
        super().__init__(message)


class InvalidRequest(EngineError):
    """A request that does not apply to the execution in its current state."""
