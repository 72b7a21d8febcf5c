"""The composition root: one process with the API, the engine, the executor and timers.

``meltemi server`` builds the runtime on the database (SQLite by default), the REST
API on top, and serves it with uvicorn. SIGTERM or SIGINT stops taking requests, lets
in-flight actions finish for a bounded grace time, and exits; whatever is left is
picked up on the next start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import uvicorn

from meltemi.api.app import create_app
from meltemi.persistence.db import Database, Durability, default_url
from meltemi.services.cron import CronScheduler
from meltemi.services.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8989
    db_url: str | None = None
    durability: Durability = Durability.NORMAL
    grace: float = 10.0
    workers: int = 64
    log_level: str = "info"


def serve(settings: ServerSettings) -> None:
    url = settings.db_url or default_url()
    runtime = Runtime(Database(url, durability=settings.durability), workers=settings.workers)
    runtime.start()
    cron = CronScheduler(runtime)
    cron.start()
    app = create_app(runtime)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
        timeout_graceful_shutdown=int(settings.grace),
        lifespan="off",
    )
    server = uvicorn.Server(config)
    log.info(
        "server.started",
        extra={"url": f"http://{settings.host}:{settings.port}", "db": runtime.db.safe_url},
    )
    try:
        server.run()
    finally:
        log.info("server.stopping", extra={"grace": settings.grace})
        cron.stop()
        runtime.stop(grace=settings.grace)
        log.info("server.stopped")
