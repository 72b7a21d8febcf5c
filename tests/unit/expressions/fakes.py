"""A recording ExpressionHost for the expression tests."""

from __future__ import annotations

from typing import Any

from meltemi.expressions import ExpressionHost

EXECUTION = {
    "id": "wf-1",
    "name": "wf",
    "spec": {"name": "wf"},
    "input": {"x": 1},
    "params": {},
    "created_at": "2026-01-01 00:00:00",
    "updated_at": "2026-01-01 00:00:01",
    "root_execution_id": None,
}


def task_record(name: str, result: Any = None, state: str = "SUCCESS") -> dict[str, Any]:
    return {
        "id": f"id-{name}",
        "name": name,
        "spec": {"action": "std.noop"},
        "state": state,
        "state_info": None,
        "result": result,
        "published": {},
        "type": "ACTION",
        "workflow_execution_id": "wf-1",
        "created_at": "2026-01-01 00:00:00",
        "updated_at": None,
    }


class FakeHost:
    """Answers from fixed records and remembers every call it got."""

    def __init__(self, current: str | None = "t1") -> None:
        self.current = current
        self.records = {
            "t1": task_record("t1", {"value": 10, "items": [1, 2, 3]}),
            "t2": task_record("t2", "two", state="ERROR"),
        }
        self.calls: list[tuple[Any, ...]] = []

    def env(self) -> Any:
        self.calls.append(("env",))
        return {"region": "eu", "limits": {"cpu": 2}}

    def execution(self) -> Any:
        self.calls.append(("execution",))
        return dict(EXECUTION)

    def task(self, name: str | None) -> Any:
        self.calls.append(("task", name))
        key = self.current if name is None else name
        return self.records.get(key) if key is not None else None

    def tasks(
        self, workflow_execution_id: str | None, recursive: bool, state: str | None, flat: bool
    ) -> Any:
        self.calls.append(("tasks", workflow_execution_id, recursive, state, flat))
        return [r for r in self.records.values() if state is None or r["state"] == state]

    def global_var(self, name: str) -> Any:
        self.calls.append(("global", name))
        return {"counter": 7}.get(name)

    def executions(
        self,
        id: str | None,
        root_execution_id: str | None,
        state: str | None,
        from_time: str | None,
        to_time: str | None,
    ) -> Any:
        self.calls.append(("executions", id, root_execution_id, state, from_time, to_time))
        return [{"id": "wf-1", "state": "RUNNING"}]


def _conforms(host: FakeHost) -> ExpressionHost:
    return host  # mypy checks that FakeHost satisfies the protocol
