"""The FastAPI application of the REST API v2."""

from __future__ import annotations

from fastapi import FastAPI

from meltemi import __version__
from meltemi.api import errors, observability
from meltemi.api.context import ApiSettings, Services
from meltemi.api.routers import (
    action_executions,
    actions,
    cron_triggers,
    environments,
    event_triggers,
    executions,
    explain,
    metrics,
    root,
    service_list,
    tasks,
    workbooks,
    workflows,
)
from meltemi.services.runtime import Runtime


def create_app(runtime: Runtime, settings: ApiSettings | None = None) -> FastAPI:
    app = FastAPI(
        title="Meltemi",
        version=__version__,
        description="Mistral-compatible REST API v2 of Meltemi, a workflow service.",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.services = Services(runtime, settings or ApiSettings())
    errors.install(app)
    observability.install(app, runtime)
    for module in (
        root,
        workbooks,
        workflows,
        actions,
        executions,
        explain,
        tasks,
        action_executions,
        environments,
        cron_triggers,
        event_triggers,
        service_list,
        metrics,
    ):
        app.include_router(module.router)
    return app
