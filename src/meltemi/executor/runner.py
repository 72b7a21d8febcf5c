"""Runs actions on a thread pool and reports their outcomes.

Each request is bound to its action (unknown actions and wrong input become error
outcomes at once), then run on a worker thread. A request with a timeout reports a
timeout error when the action overruns (and the action is asked to stop); an action
can be cancelled. Whatever an action does (raise, return garbage, hang), the
executor reports one outcome per request and keeps going.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from meltemi.actions import ActionContext, ActionError, ActionRegistry, Outcome, normalise
from meltemi.actions.masking import redact

log = logging.getLogger(__name__)

Report = Callable[["ActionRequest", Outcome], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRequest:
    run_id: str
    action: str
    input: Mapping[str, Any]
    workflow_execution_id: str | None = None
    task_execution_id: str | None = None
    workflow_name: str | None = None
    task_name: str | None = None
    index: int | None = None
    attempt: int = 0
    timeout: float | None = None
    namespace: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


def describe_exception(action: str, error: BaseException) -> str:
    """A one-line account of an exception raised by an action (no traceback)."""
    where = ""
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is not None:
        where = f" (at {tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno})"
    message = str(error) or type(error).__name__
    return f"The action '{action}' raised {type(error).__name__}: {message}{where}"


class Executor:
    """Runs actions on a pool of threads; reports each outcome through ``report``."""

    def __init__(
        self,
        registry: ActionRegistry,
        report: Report,
        *,
        workers: int = 64,
        callback_base: str | None = None,
    ) -> None:
        self.registry = registry
        self._report = report
        # The API's base URL (``http://host:8989``): async actions are told to send
        # their result to ``<callback_base>/v2/action_executions/<id>``.
        self.callback_base = callback_base.rstrip("/") if callback_base else None
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="meltemi-action")
        self._running: dict[str, ActionContext] = {}
        self._lock = threading.Lock()
        self._closed = False

    def callback_url(self, request: ActionRequest) -> str | None:
        given = request.extra.get("callback_url")
        if given is not None:
            return str(given)
        if self.callback_base is None:
            return None
        return f"{self.callback_base}/v2/action_executions/{request.run_id}"

    def context(self, request: ActionRequest) -> ActionContext:
        return ActionContext(
            action_execution_id=request.run_id,
            workflow_execution_id=request.workflow_execution_id,
            task_execution_id=request.task_execution_id,
            workflow_name=request.workflow_name,
            task_name=request.task_name,
            with_items_index=request.index,
            attempt=request.attempt,
            callback_url=self.callback_url(request),
        )

    def run_now(self, request: ActionRequest) -> Outcome | None:
        """Runs an instant action on the calling thread; None when it is not instant."""
        descriptor = self.registry.find(request.action, request.namespace)
        if descriptor is None or not descriptor.is_sync:
            return None
        try:
            instance = descriptor.bind_in(request.input, request.extra.get("context"))
        except ActionError as e:
            return _redacted(request, Outcome(error=str(e)))
        except Exception as e:  # noqa: BLE001  # a constructor of any action may fail
            return _redacted(request, Outcome(error=describe_exception(request.action, e)))
        if not descriptor.is_instant(instance) or not descriptor.instance_is_sync(instance):
            return None
        context = descriptor.context_for(instance, self.context(request))
        return _redacted(request, self._invoke(request, instance, context))

    def submit(self, request: ActionRequest, *, report: Report | None = None) -> None:
        """Starts an action; its outcome is reported later (for async actions: never).

        ``report`` replaces the executor's reporter for this one request.
        """
        if self._closed:
            return
        context = self.context(request)
        given = report or self._report

        def reporter(request: ActionRequest, outcome: Outcome) -> None:
            given(request, _redacted(request, outcome))

        with self._lock:
            self._running[request.run_id] = context
        self._pool.submit(self._run, request, context, reporter)
        if request.timeout:
            timer = threading.Timer(request.timeout, self._timed_out, (request, reporter))
            timer.daemon = True
            timer.start()

    def is_async(self, action: str, namespace: str = "") -> bool:
        descriptor = self.registry.find(action, namespace)
        return descriptor is not None and not descriptor.is_sync

    def is_idempotent(self, action: str, namespace: str = "") -> bool:
        descriptor = self.registry.find(action, namespace)
        return descriptor is not None and descriptor.idempotent

    def cancel(self, run_id: str) -> None:
        with self._lock:
            context = self._running.get(run_id)
        if context is not None:
            context.cancelled.set()

    def _timed_out(self, request: ActionRequest, report: Report) -> None:
        with self._lock:
            context = self._running.pop(request.run_id, None)
        if context is None:
            return
        context.cancelled.set()
        report(
            request,
            Outcome(error=f"The action '{request.action}' timed out after {request.timeout} s"),
        )

    def _run(self, request: ActionRequest, context: ActionContext, report: Report) -> None:
        try:
            descriptor = self.registry.get(request.action, request.namespace)
            instance = descriptor.bind_in(request.input, request.extra.get("context"))
            run_context = descriptor.context_for(instance, context)
            if not descriptor.instance_is_sync(instance):
                result = normalise(instance.run(run_context))
                with self._lock:
                    self._running.pop(request.run_id, None)
                if result.is_error:
                    report(request, result)
                return
            outcome = self._invoke(request, instance, run_context)
        except ActionError as e:
            outcome = Outcome(error=str(e))
        except Exception as e:  # noqa: BLE001  # whatever an action does, report it
            outcome = Outcome(error=describe_exception(request.action, e))
        with self._lock:
            still_ours = self._running.pop(request.run_id, None) is not None
        if still_ours:
            report(request, outcome)

    def _invoke(self, request: ActionRequest, instance: Any, context: Any) -> Outcome:
        try:
            return normalise(instance.run(context))
        except Exception as e:  # noqa: BLE001  # an action's failure is its outcome
            log.info("action.raised", extra={"action": request.action, "run_id": request.run_id})
            return Outcome(error=describe_exception(request.action, e))

    def shutdown(self, *, wait: bool = True) -> None:
        self._closed = True
        with self._lock:
            running = list(self._running.values())
        if not wait:
            for context in running:
                context.cancelled.set()
        self._pool.shutdown(wait=wait, cancel_futures=not wait)


def _redacted(request: ActionRequest, outcome: Outcome) -> Outcome:
    """The outcome with the input's secrets masked in its error message: the message
    becomes the task's ``state_info``, shown in the API, the CLI and logs."""
    if isinstance(outcome.error, str) and request.input:
        masked = redact(outcome.error, request.input)
        if masked != outcome.error:
            return Outcome(data=outcome.data, error=masked, cancelled=outcome.cancelled)
    return outcome
