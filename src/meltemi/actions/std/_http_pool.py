"""The process's HTTP loop and the connection pools std.http calls share.

Every std.http call runs on one asyncio loop on a daemon thread (:class:`HttpLoop`)
while its worker thread waits (so it can be cancelled). Each call has its own httpx
client but borrows a connection pool (an httpx transport) keyed by TLS verification,
proxy and shard: a keep-alive connection idle for less than a second is reused by a
later call to the same host. Each worker thread always uses the same shard of a pool,
as httpx looks at every connection of a pool on each request.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import itertools
import logging
import os
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

# Idle keep-alive connections are closed after this long: less than the keep-alive
# timeout of common servers (gunicorn: 2 s, uvicorn: 5 s), so that a connection the
# server is about to close is seldom picked for a request.
_KEEPALIVE_EXPIRY: Final = 1.0
# Connection pools kept (one per TLS verification, proxy and shard); a call needing
# another one gets a pool of its own, closed after it. A pool unused this long is closed.
_MAX_POOLS: Final = 128
_SWEEP_EVERY: Final = 5.0
# Threads resolving host names for the HTTP loop (each blocks in getaddrinfo).
_RESOLVERS: Final = 64
# Each pool is split in shards, a worker thread using always the same one: httpx looks
# at every connection of a pool on each request (~0.7 ms per request at 50 busy
# connections); a shard holds few.
_SHARDS: Final = 16

# (TLS verification, proxy URL, shard)
_PoolKey = tuple[str, str | None, int]


class _Pool:
    """A connection pool (an httpx transport) and the calls using it now."""

    __slots__ = ("calls", "idle_since", "transport")

    def __init__(self, transport: httpx.AsyncHTTPTransport) -> None:
        self.transport = transport
        self.calls = 0
        self.idle_since = time.monotonic()


class Lease:
    """The pools one call uses: given back (or closed, when the call's own) after it."""

    __slots__ = ("own", "pools")

    def __init__(self) -> None:
        self.pools: list[_Pool] = []
        self.own: list[httpx.AsyncHTTPTransport] = []


class HttpLoop:
    """The process's asyncio loop for HTTP requests, on a daemon thread, and the
    connection pools the requests share. Pools are used on the loop's thread only; a
    pool unused for ``_SWEEP_EVERY`` seconds is closed (httpx closes expired
    connections only when a pool is used again)."""

    _shared: HttpLoop | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        # Name resolution blocks a thread per lookup: as many as actions may run at once.
        self.loop.set_default_executor(
            ThreadPoolExecutor(max_workers=_RESOLVERS, thread_name_prefix="meltemi-http-dns")
        )
        self._pools: dict[_PoolKey, _Pool] = {}
        self._sweeping = False
        self._closing: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="meltemi-http", daemon=True
        )
        self._thread.start()

    @classmethod
    def shared(cls) -> HttpLoop:
        found = cls._shared
        if found is not None:
            return found
        with cls._lock:
            if cls._shared is None:
                cls._shared = cls()
                atexit.register(cls._shared.stop)
            return cls._shared

    @classmethod
    def forget(cls) -> None:
        """In a forked child: the loop's thread did not come along; start afresh."""
        cls._shared = None
        cls._lock = threading.Lock()

    def transport(
        self, ssl_context: ssl.SSLContext, key: _PoolKey, lease: Lease
    ) -> httpx.AsyncHTTPTransport:
        """The pool for ``key`` (TLS verification, proxy, shard), made with
        ``ssl_context`` if new, lent to ``lease``."""
        import httpx

        pool = self._pools.get(key)
        if pool is None:
            transport = httpx.AsyncHTTPTransport(
                verify=ssl_context,
                proxy=key[1],
                limits=httpx.Limits(
                    max_connections=None,
                    max_keepalive_connections=None,
                    keepalive_expiry=_KEEPALIVE_EXPIRY,
                ),
            )
            if len(self._pools) >= _MAX_POOLS:
                lease.own.append(transport)
                return transport
            pool = self._pools[key] = _Pool(transport)
            if not self._sweeping:
                self._sweeping = True
                self.loop.call_later(_SWEEP_EVERY, self._sweep)
        pool.calls += 1
        lease.pools.append(pool)
        return pool.transport

    async def give_back(self, lease: Lease) -> None:
        now = time.monotonic()
        for pool in lease.pools:
            pool.calls -= 1
            pool.idle_since = now
        for transport in lease.own:
            await transport.aclose()

    def _sweep(self) -> None:
        now = time.monotonic()
        for key, pool in list(self._pools.items()):
            if pool.calls == 0 and now - pool.idle_since >= _SWEEP_EVERY:
                del self._pools[key]
                task = self.loop.create_task(pool.transport.aclose())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
        self._sweeping = bool(self._pools)
        if self._sweeping:
            self.loop.call_later(_SWEEP_EVERY, self._sweep)

    def stop(self) -> None:
        """Closes the pools' connections and the loop (at exit)."""
        if not self._thread.is_alive():
            return

        async def close() -> None:
            pools, self._pools = list(self._pools.values()), {}
            for pool in pools:
                await pool.transport.aclose()

        try:
            asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=5)
        except TimeoutError:
            log.warning("http.pools_not_closed", extra={"after_s": 5})
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self.loop.close()


_thread_shard = threading.local()
_next_shard = itertools.count()


def shard() -> int:
    """The pool shard of the calling thread (given in turn to new threads)."""
    shard: int | None = getattr(_thread_shard, "index", None)
    if shard is None:
        shard = _thread_shard.index = next(_next_shard) % _SHARDS
    return shard


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=HttpLoop.forget)


def environment_proxies() -> dict[str, str | None]:
    """httpx's proxies from the environment (``HTTP_PROXY``, ``NO_PROXY``, ...), read
    again when those variables change."""
    variables = tuple(
        (name, value)
        for name, value in os.environ.items()
        if name[-6:].lower() == "_proxy" or name == "REQUEST_METHOD"
    )
    return _read_proxies(variables)


@functools.lru_cache(maxsize=8)
def _read_proxies(variables: tuple[tuple[str, str], ...]) -> dict[str, str | None]:
    """(``variables``, what they read from os.environ, is the cache key only.)"""
    # What httpx.AsyncClient(trust_env=True) reads, which it skips when given a transport.
    from httpx._utils import get_environment_proxies

    return get_environment_proxies()
