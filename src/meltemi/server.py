"""The composition root: one process with the API, the engine, the executor and timers.

``meltemi server`` builds the runtime on the database (SQLite by default), the REST
API on top, and serves it with uvicorn. SIGTERM or SIGINT stops taking requests, lets
in-flight actions finish for a bounded grace time, and exits; whatever is left is
picked up on the next start.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import uvicorn

from meltemi.api.app import create_app
from meltemi.persistence.db import Database, Durability, default_url
from meltemi.services.cron import CronScheduler
from meltemi.services.executions import Executions, ExpirationPolicy
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
    expire_after_minutes: float | None = None
    keep_finished: int = 0

    def expiration(self) -> ExpirationPolicy | None:
        """The expiration policy these settings ask for, if any."""
        if self.expire_after_minutes is None and self.keep_finished <= 0:
            return None
        older_than = (
            timedelta(minutes=self.expire_after_minutes)
            if self.expire_after_minutes is not None
            else None
        )
        return ExpirationPolicy(older_than=older_than, max_finished=self.keep_finished)


def callback_base(settings: ServerSettings) -> str:
    """The URL async actions (std.mistral_http) are told to send their results to:
    ``MELTEMI_CALLBACK_BASE``, or this server's own address."""
    configured = os.environ.get("MELTEMI_CALLBACK_BASE")
    if configured:
        return configured.rstrip("/")
    host = settings.host
    if host in ("", "0.0.0.0", "::"):  # noqa: S104  # listening everywhere: name this host
        host = socket.gethostname()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


class _Server(uvicorn.Server):
    """uvicorn's server, without re-raising SIGTERM/SIGINT once it has stopped.

    uvicorn raises the captured signal again after its own shutdown, which would end
    the process before the runtime lets in-flight actions finish. A second signal
    during that grace time still ends the process at once (the default handlers are
    back by then).
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


# Full collections run this much less often than Python's default (10): a long-running
# server keeps many objects alive, and each full pass over them stops every thread.
_FULL_COLLECTION_EVERY = 100


def _settle_garbage_collector() -> None:
    """Moves what start-up built (modules, specs, routes: ~120k objects) out of the
    collector's sight and makes full collections rarer: each one took 60-80 ms and
    was the slowest API request's whole excess. Cycles are still collected."""
    gc.collect()
    gc.freeze()
    first, second, _ = gc.get_threshold()
    gc.set_threshold(first, second, _FULL_COLLECTION_EVERY)


def serve(settings: ServerSettings) -> None:
    url = settings.db_url or default_url()
    runtime = Runtime(
        Database(url, durability=settings.durability),
        workers=settings.workers,
        callback_base=callback_base(settings),
    )
    runtime.start()
    cron = CronScheduler(runtime)
    cron.start()
    executions = Executions(runtime)
    policy = settings.expiration()
    if policy is not None:
        executions.schedule_expiration(policy)
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
    server = _Server(config)
    _settle_garbage_collector()
    log.info(
        "server.started",
        extra={"url": f"http://{settings.host}:{settings.port}", "db": runtime.db.safe_url},
    )
    try:
        server.run()
    finally:
        log.info("server.stopping", extra={"grace": settings.grace})
        cron.stop()
        executions.cancel_expiration()
        runtime.stop(grace=settings.grace)
        log.info("server.stopped")
