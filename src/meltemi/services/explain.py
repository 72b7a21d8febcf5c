"""Failure analysis: why did an execution fail?

From a root execution, :func:`explain` follows the error down through sub-workflows
and with-items items to the task and action that failed first, and returns that chain
as JSON-ready data, one *level* per workflow execution::

    {"execution_id", "workflow_name", "state", "state_info", "summary",
     "chain": [{"execution_id", "workflow_name", "task", "location", "item", "run",
                "error", "handlers", "caught", "other_failed_tasks"}, ...]}

At each level the task is the unhandled failed task that finished first; when it ran
with-items, the item is the one that failed first (``item.failed`` lists all failed
indexes). ``run`` is the action (or sub-workflow) execution of that task or item, with
its input masked (:mod:`meltemi.actions.masking`). ``handlers`` says what could have
caught the error: the on-error transitions the task has and whether one fired, its
on-complete targets (which run but do not handle an error), and its retry policy with
the retries used. ``caught`` lists the tasks of that level whose errors an on-error
handler did catch.

The REST API serves this as ``GET /v2/executions/{id}/explain``; ``meltemi execution
explain`` and ``meltemi run`` print it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from meltemi.actions.masking import mask
from meltemi.lang import ClauseKind, WorkflowSpec, parse
from meltemi.lang.specs import TaskSpec
from meltemi.persistence.db import Database
from meltemi.persistence.executions import RUNS, TASKS, WF
from meltemi.persistence.models import WorkflowDefinitionRow, table
from meltemi.services.definitions import Definitions
from meltemi.services.errors import NotFound

WORKFLOWS = table(WorkflowDefinitionRow)

#: Sub-workflows nest; a chain deeper than this is cut (a definition that calls itself).
MAX_DEPTH: Final = 100
_DONE: Final = ("SUCCESS", "ERROR", "CANCELLED")

Row = dict[str, Any]


def explain(
    db: Database,
    definitions: Definitions,
    execution_id: str,
    *,
    source_file: str | None = None,
) -> dict[str, Any]:
    """The chain of failures from ``execution_id`` down to what failed first.

    Args:
        db: the database the execution is in.
        definitions: where the execution's specs are (for task lines and handlers).
        execution_id: any workflow execution (usually a root one).
        source_file: the file the definitions came from, when known (``meltemi run``);
            task locations are then ``file:line`` in it.

    Raises:
        NotFound: there is no such execution.
    """
    with db.read() as conn:
        root = _workflow(conn, execution_id)
        if root is None:
            raise NotFound(f"Execution not found [id={execution_id}]")
        chain: list[dict[str, Any]] = []
        current: Row | None = root
        while current is not None and len(chain) < MAX_DEPTH:
            level, child_id = _level(conn, definitions, current, source_file)
            chain.append(level)
            current = _workflow(conn, child_id) if child_id else None
    return {
        "execution_id": root["id"],
        "workflow_name": root["workflow_name"],
        "state": root["state"],
        "state_info": root["state_info"],
        "summary": _summary(root, chain),
        "chain": chain,
    }


def _workflow(conn: Connection, execution_id: str) -> Row | None:
    row = conn.execute(sa.select(WF).where(WF.c.id == execution_id)).mappings().first()
    return dict(row) if row is not None else None


def _level(
    conn: Connection, definitions: Definitions, wf: Row, source_file: str | None
) -> tuple[dict[str, Any], str | None]:
    """What failed in one workflow execution, and the sub-workflow to follow (if any)."""
    spec = definitions.spec(wf["spec_id"], conn)
    tasks = [
        dict(t)
        for t in conn.execute(
            sa.select(TASKS).where(TASKS.c.workflow_execution_id == wf["id"]).order_by(TASKS.c.seq)
        ).mappings()
    ]
    failed = sorted(
        (t for t in tasks if t["state"] == "ERROR" and not t["error_handled"]),
        key=lambda t: (_moment(t["finished_at"] or t["updated_at"]), t["seq"]),
    )
    caught = [t for t in tasks if t["state"] == "ERROR" and t["error_handled"]]
    level: dict[str, Any] = {
        "execution_id": wf["id"],
        "workflow_name": wf["workflow_name"],
        "state": wf["state"],
        "input": mask(wf["input"] or {}),
        "task": None,
        "location": None,
        "item": None,
        "run": None,
        "error": wf["state_info"],
        "handlers": None,
        "caught": [_caught(spec, t) for t in caught],
        "other_failed_tasks": [t["name"] for t in failed[1:]],
    }
    task = failed[0] if failed else _failed_on_purpose(spec, tasks)
    if task is None:
        return level, None
    task_spec = spec.tasks.get(task["name"])
    level["task"] = {
        "id": task["id"],
        "name": task["name"],
        "type": task["type"],
        "state": task["state"],
        "state_info": task["state_info"],
        "started_at": _iso(task["started_at"]),
        "finished_at": _iso(task["finished_at"]),
    }
    level["error"] = task["state_info"] or wf["state_info"]
    if task_spec is not None:
        level["location"] = _location(conn, definitions, wf, spec, task_spec, source_file)
        level["handlers"] = _handlers(spec, task_spec, task)
    runs = [
        dict(r)
        for r in conn.execute(
            sa.select(RUNS)
            .where(RUNS.c.task_execution_id == task["id"])
            .order_by(RUNS.c.run_index, RUNS.c.attempt, RUNS.c.created_at)
        ).mappings()
    ]
    run = _first_failed_run(task, runs, level)
    if run is None:
        return level, None
    level["run"] = {
        "id": run["id"],
        "kind": run["kind"],
        "name": run["name"],
        "state": run["state"],
        "attempt": run["attempt"],
        "attempts": sum(1 for r in runs if r["run_index"] == run["run_index"]),
        "input": mask(run["input"] or {}),
        "error": _error_of(run),
    }
    if run["kind"] == "action":
        level["error"] = _error_of(run) or level["error"]
        return level, None
    return level, run["id"]


def _first_failed_run(task: Row, runs: Sequence[Row], level: dict[str, Any]) -> Row | None:
    """The run that failed first: of the item that failed first, for with-items."""
    accepted = [r for r in runs if r["accepted"]]
    failed = sorted(
        (r for r in accepted if r["state"] == "ERROR"),
        key=lambda r: (_moment(r["updated_at"] or r["created_at"]), r["run_index"]),
    )
    items = task["items"]
    if items is not None:
        indexes = sorted({r["run_index"] for r in failed})
        level["item"] = {
            "index": failed[0]["run_index"] if failed else None,
            "count": items.get("count", 0),
            "failed": indexes,
            "succeeded": sum(1 for r in accepted if r["state"] == "SUCCESS"),
        }
    if failed:
        return failed[0]
    # No failed run: the task failed around its runs (an expression, a timeout, fail-on),
    # so its latest run is shown if there is one.
    return accepted[-1] if accepted else (runs[-1] if runs else None)


def _error_of(run: Row) -> Any:
    if run["state_info"]:
        return run["state_info"]
    if run["state"] in _DONE and run["state"] != "SUCCESS":
        return run["output"]
    return None


def _failed_on_purpose(spec: WorkflowSpec, tasks: Sequence[Row]) -> Row | None:
    """The task whose transition led to the ``fail`` engine command, if one did."""
    for task in sorted(tasks, key=lambda t: _moment(t["finished_at"]), reverse=True):
        task_spec = spec.tasks.get(task["name"])
        if task_spec is None or task["state"] not in ("SUCCESS", "ERROR"):
            continue
        kinds = [ClauseKind.ON_COMPLETE]
        kinds.append(ClauseKind.ON_ERROR if task["state"] == "ERROR" else ClauseKind.ON_SUCCESS)
        if any(t.target == "fail" for k in kinds for t in spec.transitions(task_spec, k)):
            return task
    return None


def _handlers(spec: WorkflowSpec, task_spec: TaskSpec, task: Row) -> dict[str, Any]:
    fired = {target for target, _event in task["next_tasks"] or ()}
    on_error = [t.target for t in spec.transitions(task_spec, ClauseKind.ON_ERROR)]
    retry = spec.policies(task_spec).retry
    return {
        "on_error": on_error,
        "on_error_fired": bool(task["error_handled"]),
        "on_error_targets_run": [t for t in on_error if t in fired],
        "on_complete": [t.target for t in spec.transitions(task_spec, ClauseKind.ON_COMPLETE)],
        "retry": None
        if retry is None
        else {
            "count": retry.count,
            "delay": retry.delay,
            "used": task["retry_no"],
            "break_on": retry.break_on,
            "continue_on": retry.continue_on,
        },
    }


def _caught(spec: WorkflowSpec, task: Row) -> dict[str, Any]:
    handled_by = [target for target, event in task["next_tasks"] or () if event == "on-error"]
    task_spec = spec.tasks.get(task["name"])
    if not handled_by and task_spec is not None:  # engine commands are not stored as next
        handled_by = [t.target for t in spec.transitions(task_spec, ClauseKind.ON_ERROR)]
    return {"task": task["name"], "error": task["state_info"], "handled_by": handled_by}


def _location(
    conn: Connection,
    definitions: Definitions,
    wf: Row,
    spec: WorkflowSpec,
    task_spec: TaskSpec,
    source_file: str | None,
) -> dict[str, Any]:
    """Where the task is defined: ``{"file", "line"}`` (and a ``note`` when unsure)."""
    if source_file is not None:
        return {"file": source_file, "line": task_spec.line}
    definition = (
        conn.execute(sa.select(WORKFLOWS).where(WORKFLOWS.c.id == wf["workflow_id"])).first()
        if wf["workflow_id"]
        else None
    )
    if definition is None or definition.spec_id != wf["spec_id"]:
        return {
            "file": f"workflow {wf['workflow_name']}",
            "line": task_spec.line,
            "note": "the definition changed after this execution started; the line is "
            "in the document as it was registered then",
        }
    if definition.workbook_name:
        # A workbook's members come from the workbook's text, which is stored as given.
        return {"file": f"workbook {definition.workbook_name}", "line": task_spec.line}
    # A document with several workflows is stored one workflow per definition, so the
    # line is looked up in the stored text.
    line = _line_in(definition.definition, spec.name, task_spec.name) or task_spec.line
    return {"file": f"workflow {definition.name}", "line": line}


def _line_in(text: str, workflow: str, task: str) -> int | None:
    result = parse(text)
    if result.document is None:
        return None
    for candidate in result.document.workflows:
        if candidate.name == workflow and task in candidate.tasks:
            return candidate.tasks[task].line
    return None


def _summary(root: Row, chain: Sequence[dict[str, Any]]) -> str:
    """One line: ``wf.task[item] > sub.task (action): error``."""
    if root["state"] != "ERROR" and not any(level["task"] for level in chain):
        return f"{root['workflow_name']} is {root['state']}: nothing failed"
    path = []
    for level in chain:
        if level["task"] is None:
            path.append(level["workflow_name"])
            continue
        step = f"{level['workflow_name']}.{level['task']['name']}"
        item = level["item"]
        if item is not None and item["index"] is not None:
            step += f"[{item['index']}]"
        run = level["run"]
        if run is not None and run["kind"] == "action":
            step += f" ({run['name']})"
        path.append(step)
    error = chain[-1]["error"] if chain else root["state_info"]
    text = error if isinstance(error, str) or error is None else repr(error)
    return f"{' > '.join(path)}: {_first_line(text or '')}"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text and text.strip() else "no error message"


def _moment(value: datetime | None) -> float:
    return value.timestamp() if value is not None else float("inf")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


__all__ = ["MAX_DEPTH", "explain"]
