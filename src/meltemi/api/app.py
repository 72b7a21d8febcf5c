"""The FastAPI application of the REST API v2."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

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


class TrailingSlash:
    """``/v2/workflows/`` is ``/v2/workflows``, as in Mistral, which answers both alike
    (a redirect instead would cost a round trip, and some clients do not follow one
    for a POST or a DELETE)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith("/v2/") and path.endswith("/") and len(path) > len("/v2/"):
                scope = dict(scope, path=path[:-1])
                raw: bytes | None = scope.get("raw_path")
                if raw is not None and raw.endswith(b"/"):
                    scope["raw_path"] = raw[:-1]
        await self.app(scope, receive, send)


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
    app.add_middleware(TrailingSlash)
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
