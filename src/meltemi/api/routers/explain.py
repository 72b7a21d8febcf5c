"""``GET /v2/executions/{id}/explain``: why an execution failed (a Meltemi endpoint)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from meltemi.api.context import ServicesDep
from meltemi.services.explain import explain

router = APIRouter(prefix="/v2/executions", tags=["executions"])


@router.get("/{execution_id}/explain")
def explain_execution(execution_id: str, services: ServicesDep) -> dict[str, Any]:
    """Failure analysis of an execution (Meltemi's own; Mistral has no such endpoint).

    From the execution it follows the error down through sub-workflows and with-items
    items to the task and action that failed first. The answer::

        {"execution_id", "workflow_name", "state", "state_info",
         "summary": "parent.fan[7] > child.work (std.fail): disk full",
         "chain": [  # one entry per workflow execution, the root first
            {"execution_id", "workflow_name", "state", "input",
             "task": {"id", "name", "type", "state", "state_info",
                      "started_at", "finished_at"} | null,
             "location": {"file", "line"} | null,  # where the task is defined
             "item": {"index", "count", "failed": [...], "succeeded"} | null,
             "run": {"id", "kind": "action"|"workflow", "name", "state", "attempt",
                     "attempts", "input", "error"} | null,
             "error": ...,
             "handlers": {"on_error": [...], "on_error_fired", "on_error_targets_run",
                          "on_complete": [...],
                          "retry": {"count", "delay", "used", ...} | null} | null,
             "caught": [{"task", "error", "handled_by": [...]}],
             "other_failed_tasks": [...]}]}

    Inputs are shown with secrets masked. An execution that did not fail has a chain
    of one entry with ``task`` null. 404 when there is no such execution.
    """
    return explain(services.runtime.db, services.definitions, execution_id)
