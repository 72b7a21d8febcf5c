"""Running actions on their own (``POST /v2/action_executions``) and completing runs
from outside (``PUT /v2/action_executions/{id}``: async actions, callbacks).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from meltemi.actions import ActionError, Outcome
from meltemi.engine import RunCompleted, RunKind, RunStateChanged, State
from meltemi.executor import ActionRequest
from meltemi.persistence.executions import RUNS
from meltemi.services._transaction import Transaction
from meltemi.services.errors import InvalidInput, NotFound
from meltemi.services.runtime import Runtime


def _output(outcome: Outcome) -> Any:
    """What a run stores as its output: the data, or the error."""
    return outcome.error if outcome.is_error else outcome.data


def _state(outcome: Outcome) -> State:
    if outcome.cancelled:
        return State.CANCELLED
    return State.ERROR if outcome.error is not None else State.SUCCESS


class ActionRuns:
    """Action executions outside workflows, and results sent in by clients."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def run(
        self,
        name: str,
        input: Mapping[str, Any],  # Mistral's field name
        *,
        description: str = "",
        save_result: bool = False,
        run_sync: bool = False,
        target: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Runs an action; returns the action execution as stored (or would be)."""
        runtime = self.runtime
        descriptor = runtime.registry.find(name)
        if descriptor is None:
            raise InvalidInput(f"Action not found [action_name={name}]: no such action")
        try:
            descriptor.bind(input)
        except ActionError as e:
            raise InvalidInput(str(e)) from e
        if run_sync and not descriptor.is_sync:
            raise InvalidInput(
                f"Action '{name}' is asynchronous and cannot run with run_sync; "
                "leave run_sync out and send its result with PUT /v2/action_executions/{id}"
            )
        now = runtime.clock()
        row: dict[str, Any] = {
            "id": runtime.new_id(),
            "kind": str(RunKind.ACTION),
            "task_execution_id": None,
            "workflow_execution_id": None,
            "root_execution_id": None,
            "workflow_name": None,
            "task_name": None,
            "name": name,
            "state": str(State.RUNNING),
            "state_info": None,
            "input": dict(input),
            "output": None,
            "accepted": True,
            "run_index": 0,
            "attempt": 0,
            "safe_rerun": False,
            "timeout": timeout,
            "target": target,
            "description": description,
            "created_at": now,
            "updated_at": None,
        }
        request = ActionRequest(run_id=row["id"], action=name, input=dict(input), timeout=timeout)
        if not run_sync and (save_result or not descriptor.is_sync):
            self._insert(row)
            runtime.executor.submit(request)
            return row
        outcome = self._run_here(request)
        row.update(
            state=str(_state(outcome)),
            output=_output(outcome),
            updated_at=runtime.clock(),
        )
        if save_result:
            self._insert(row)
        else:
            row["id"] = None
        return row

    def _run_here(self, request: ActionRequest) -> Outcome:
        done = threading.Event()
        box: dict[str, Outcome] = {}

        def report(_request: ActionRequest, outcome: Outcome) -> None:
            box["outcome"] = outcome
            done.set()

        self.runtime.executor.submit(request, report=report)
        done.wait()
        return box["outcome"]

    def _insert(self, row: dict[str, Any]) -> None:
        def insert(tx: Transaction) -> None:
            tx.conn.execute(RUNS.insert(), [row])

        self.runtime.call(insert)

    def store_in(self, tx: Transaction, run_id: str, outcome: Outcome) -> None:
        """Stores the result of a stand-alone action run (inside a transaction)."""
        tx.conn.execute(
            RUNS.update()
            .where(RUNS.c.id == run_id, RUNS.c.workflow_execution_id.is_(None))
            .values(
                state=str(_state(outcome)), output=_output(outcome), updated_at=self.runtime.clock()
            )
        )

    def store_outcome(self, run_id: str, outcome: Outcome) -> None:
        self.runtime.call(lambda tx: self.store_in(tx, run_id, outcome))

    def complete(self, run_id: str, state: State, output: Any) -> None:
        """A client sends the result (or a new state) of a run, e.g. an async action."""
        with self.runtime.db.read() as conn:
            row = conn.execute(sa.select(RUNS).where(RUNS.c.id == run_id)).mappings().first()
        if row is None:
            raise NotFound(f"Action execution not found [id={run_id}]")
        wf_id = row["workflow_execution_id"]
        if state in (State.PAUSED, State.RUNNING):
            if wf_id is not None:
                self._send(wf_id, RunStateChanged(run_id=run_id, state=state))
            return
        if state not in (State.SUCCESS, State.ERROR, State.CANCELLED):
            raise InvalidInput(
                f"an action execution can be set to SUCCESS, ERROR, CANCELLED, PAUSED or "
                f"RUNNING, not {state}"
            )
        if row["state"] in ("SUCCESS", "ERROR", "CANCELLED"):
            raise InvalidInput(f"action execution {run_id} is already {row['state']}")
        outcome = Outcome(
            data=output if state is State.SUCCESS else None,
            error=(output or "Unknown error") if state is State.ERROR else None,
            cancelled=state is State.CANCELLED,
        )
        if state is State.SUCCESS:
            outcome = self._transformed(dict(row), outcome)
        if wf_id is None:
            self.store_outcome(run_id, outcome)
            return
        self._send(wf_id, RunCompleted(run_id=run_id, result=outcome))

    def _transformed(self, row: Mapping[str, Any], outcome: Outcome) -> Outcome:
        """The result of an ad-hoc action on an async base, through its output."""
        namespace = ""
        if row["workflow_execution_id"] is not None:
            with self.runtime.db.read() as conn:
                wf = self.runtime.store.workflow_row(conn, row["workflow_execution_id"])
            namespace = (wf or {}).get("workflow_namespace") or ""
        descriptor = self.runtime.registry.find(row["name"], namespace)
        if descriptor is None or not descriptor.is_adhoc:
            return outcome
        return descriptor.transform_result(outcome.data)

    def _send(self, wf_id: str, event: RunCompleted | RunStateChanged) -> None:
        def apply(tx: Transaction) -> None:
            tx.handle(wf_id, event)

        self.runtime.call(apply)
