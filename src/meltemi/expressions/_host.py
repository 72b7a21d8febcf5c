"""What expression functions need from the running engine: the ``ExpressionHost`` seam."""

from __future__ import annotations

from typing import Any, Protocol, TypeAlias

# JSON-shaped data (dict, list, str, int, float, bool, None). Kept as ``Any`` because
# the context handed in may be any Mapping (the engine passes read-only views).
JsonValue: TypeAlias = Any


class ExpressionHost(Protocol):
    """What the built-in functions need from the running engine.

    The engine implements it over its execution state; every method may be called
    during an evaluation, with the engine's data. Results are JSON-shaped and are not
    modified by the expression layer.
    """

    def env(self) -> JsonValue:
        """``env()``: the execution's env dict."""
        ...

    def execution(self) -> JsonValue:
        """``execution()``: {id, name, spec, input, params, created_at, updated_at,
        root_execution_id}."""
        ...

    def task(self, name: str | None) -> JsonValue:
        """``task(name)``, ``task()`` (None means the current task): {id, name, spec,
        state, state_info, result, published, type, workflow_execution_id, created_at,
        updated_at}, or None when there is no such task."""
        ...

    def tasks(
        self, workflow_execution_id: str | None, recursive: bool, state: str | None, flat: bool
    ) -> JsonValue:
        """``tasks(...)``: a list of task dicts as ``task()`` gives them."""
        ...

    def global_var(self, name: str) -> JsonValue:
        """``global('name')``: a variable of the execution's global context."""
        ...

    def executions(
        self,
        id: str | None,  # the parameter's name in workflows, hence the builtin's name
        root_execution_id: str | None,
        state: str | None,
        from_time: str | None,
        to_time: str | None,
    ) -> JsonValue:
        """``executions(...)``: a list of workflow executions matching the filters."""
        ...
