"""What the API shows about the service itself: Prometheus metrics and one structured
log line per request.

Metrics live in a registry of their own per application (so several apps in one
process, as in tests, do not collide). Executions and tasks by state and the queue
depth are read when Prometheus scrapes; action durations are fed by the runtime as
actions finish on the executor (instant actions that run in-line, such as std.noop,
are not timed).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meltemi.actions import Outcome
from meltemi.api.errors import fault
from meltemi.executor import ActionRequest
from meltemi.services.runtime import Runtime
from meltemi.services.statistics import counts_by_state

log = logging.getLogger("meltemi.api.requests")

_XML = ("application/xml", "text/xml")
_DURATION_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)


class _StateCollector(Collector):
    """Gauges read at scrape time: executions and tasks by state, the queue depth."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterable[Metric]:
        counts = counts_by_state(self.runtime.db)
        for key, name, what in (
            ("executions", "meltemi_workflow_executions", "Workflow executions by state"),
            ("tasks", "meltemi_task_executions", "Task executions by state"),
        ):
            family = GaugeMetricFamily(name, what, labels=["state"])
            for state, count in sorted(counts[key].items()):
                family.add_metric([state], count)
            yield family
        yield GaugeMetricFamily(
            "meltemi_runtime_queue_depth",
            "Events and requests waiting for the runtime's worker",
            value=self.runtime.queue_depth,
        )


class Metrics:
    """The Prometheus registry of one application."""

    def __init__(self, runtime: Runtime) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(_StateCollector(runtime))
        self.action_seconds = Histogram(
            "meltemi_action_duration_seconds",
            "How long actions ran on the executor, by action and outcome",
            ["action", "outcome"],
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )
        self.requests = Counter(
            "meltemi_http_requests",
            "API requests answered, by method and status code",
            ["method", "status"],
            registry=self.registry,
        )

    def observe_action(self, request: ActionRequest, outcome: Outcome, seconds: float) -> None:
        result = "cancelled" if outcome.cancelled else "error" if outcome.is_error else "success"
        self.action_seconds.labels(request.action, result).observe(seconds)


class RequestLog:
    """ASGI middleware: one JSON log line per request; XML bodies are refused (415)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            if _is_xml(scope):
                response = fault(
                    415,
                    "XML request bodies are not supported: send JSON (application/json), "
                    "or YAML text (text/plain) for definitions",
                )
                await response(scope, receive, send_noting_status)
            else:
                await self.app(scope, receive, send_noting_status)
        finally:
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(method, str(status)).inc()
            fields: dict[str, Any] = {
                "method": method,
                "path": scope.get("path", ""),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            }
            log.info("api.request", extra=fields)


def _is_xml(scope: Scope) -> bool:
    for key, value in scope.get("headers", ()):
        if key == b"content-type":
            mime = value.decode("latin-1").split(";")[0].strip().lower()
            return mime in _XML or mime.endswith("+xml")
    return False


def install(app: FastAPI, runtime: Runtime) -> Metrics:
    """Adds the metrics and the request log to an application."""
    metrics = Metrics(runtime)
    app.state.metrics = metrics
    runtime.action_observer = metrics.observe_action
    app.add_middleware(RequestLog, metrics=metrics)
    return metrics
