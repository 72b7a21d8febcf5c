"""Actions from installed packages: entry points ``meltemi.actions`` and ``mistral.actions``.

A package declares ``<action name> = <module>:<Class>``. Classes written for Mistral
(subclasses of ``mistral_lib.actions.Action``) run unchanged: they get mistral-lib's
context object, and their ``Result`` and ``is_sync()`` mean what they mean in Mistral.
"""

from __future__ import annotations

import importlib.metadata
import logging
from typing import TYPE_CHECKING, Any

from meltemi.actions.base import ActionContext

if TYPE_CHECKING:
    from meltemi.actions.registry import ActionDescriptor

log = logging.getLogger(__name__)

GROUPS = ("mistral.actions", "meltemi.actions")


def _is_mistral_lib(instance: Any) -> bool:
    module = type(instance).__module__
    if module.startswith("mistral_lib"):
        return True
    return any(base.__module__.startswith("mistral_lib") for base in type(instance).__mro__)


def mistral_lib_context(context: ActionContext) -> Any:
    """mistral-lib's ActionContext for a run (imported only when such an action runs)."""
    from mistral_lib.actions import context as ml

    execution = ml.ExecutionContext(
        workflow_execution_id=context.workflow_execution_id,
        task_execution_id=context.task_execution_id,
        action_execution_id=context.action_execution_id,
        workflow_name=context.workflow_name,
        callback_url=context.callback_url,
        with_items_index=context.with_items_index or 0,
        task_rerun_no=context.attempt,
    )
    return ml.ActionContext(security_ctx=ml.SecurityContext(), execution_ctx=execution)


def load_plugins() -> list[ActionDescriptor]:
    """Descriptors of every action declared by an installed package."""
    from meltemi.actions.registry import ActionDescriptor

    found: list[ActionDescriptor] = []
    for group in GROUPS:
        for entry in importlib.metadata.entry_points(group=group):
            try:
                cls = entry.load()
            except Exception:  # noqa: BLE001  # a broken plug-in must not stop Meltemi
                log.warning(
                    "actions.plugin_failed", extra={"action": entry.name, "target": entry.value}
                )
                continue
            doc = (cls.__doc__ or "").strip().splitlines()
            found.append(ActionDescriptor(entry.name, cls, doc[0] if doc else ""))
    return found
