"""Action benchmarks: std.http through with-items, and the executor's overhead.

    python bench/bench_actions.py                      # everything
    python bench/bench_actions.py --calls 200          # fewer HTTP calls
    python bench/bench_actions.py --latency-ms 0 50    # the server's answer times
    python bench/bench_actions.py --noops 50000

* ``http``: one with-items task makes ``--calls`` std.http GET requests to a local
  HTTP server (a threaded ``http.server`` on loopback, HTTP/1.1 keep-alive, in a
  child process so that it does not compete with Meltemi for the GIL, answering a
  small JSON body after ``--latency-ms``: 0 and 20 by default, a service that answers
  at once and one that takes as long as a real one), on the embedded runtime (SQLite
  file, WAL), at concurrency 50 and at concurrency 1 (one after another). Timed from
  the start of the execution to its end; reported with calls per second, Meltemi's
  CPU time per call (the server's is not counted) and the server's peak of
  simultaneous requests.
* ``noop``: what the executor costs per std.noop action: run in-line on the calling
  thread (``Executor.run_now``, as the engine does for instant actions), and through
  the thread pool (``Executor.submit`` and wait for the report: a round trip through
  a worker thread), against calling the action directly.

Each line is printed as JSON as it is measured, then the table.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from meltemi.actions import ActionContext, ActionRegistry, Outcome
from meltemi.actions.std.basic import NoOpAction
from meltemi.engine import State
from meltemi.executor import ActionRequest, Executor
from meltemi.persistence.db import Database, sqlite_url
from meltemi.services.executions import Executions
from meltemi.services.runtime import Runtime

WORKFLOW = """
version: '2.0'
http_items:
  input: [url, n, concurrency]
  tasks:
    calls:
      with-items: i in <% range($.n) %>
      concurrency: <% $.concurrency %>
      action: std.http url=<% $.url %>
      publish:
        statuses: <% task().result.select($.status).distinct() %>
  output:
    statuses: <% $.statuses %>
"""
BODY = json.dumps({"ok": True, "items": list(range(10))}).encode()


class _Load:
    """How many requests the server is answering now, at most, and in all."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.total = 0

    def enter(self) -> None:
        with self.lock:
            self.now += 1
            self.total += 1
            self.peak = max(self.peak, self.now)

    def leave(self) -> None:
        with self.lock:
            self.now -= 1


def serve(latency_ms: float) -> None:
    """The benchmark's HTTP server (run in its own process: ``--serve``).

    ``GET /json`` answers BODY after sleeping ``latency_ms``; ``GET /stats`` answers
    the load counters as JSON. HTTP/1.1 with keep-alive, as real services answer. The
    port is printed on the first line of stdout; the server stops when stdin closes.
    """
    load = _Load()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/stats":
                self._answer(json.dumps({"peak": load.peak, "total": load.total}).encode())
                return
            load.enter()
            try:
                if latency_ms > 0:
                    time.sleep(latency_ms / 1000)
                self._answer(BODY)
            finally:
                load.leave()

        def _answer(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_port, flush=True)
    sys.stdin.read()  # until the parent closes our stdin (or dies)
    server.shutdown()


@contextmanager
def http_server(latency_ms: float) -> Iterator[str]:
    """Starts :func:`serve` in a child process (so it does not compete with Meltemi
    for the GIL); yields the base URL."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--latency-ms", str(latency_ms)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def server_stats(base: str) -> dict[str, int]:
    connection = http.client.HTTPConnection(urlsplit(base).netloc, timeout=10)
    try:
        connection.request("GET", "/stats")
        stats: dict[str, int] = json.load(connection.getresponse())
        return stats
    finally:
        connection.close()


def bench_http(calls: int, concurrency: int, latency_ms: float) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="meltemi-bench-") as tmp,
        http_server(latency_ms) as base,
    ):
        runtime = Runtime(Database(sqlite_url(Path(tmp) / "bench.db")))
        runtime.start()
        try:
            runtime.definitions.create_workflows(WORKFLOW)
            started = time.perf_counter()
            cpu = time.process_time()
            execution = Executions(runtime).start(
                "http_items",
                input={"url": f"{base}/json", "n": calls, "concurrency": concurrency},
            )
            final = runtime.wait(execution.id, timeout=1800)
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu
        finally:
            runtime.stop(grace=0)
        stats = server_stats(base)
    if final.state is not State.SUCCESS or final.output != {"statuses": [200]}:
        raise SystemExit(f"the benchmark workflow failed: {final.state} {final.state_info}")
    return {
        "bench": "http",
        "calls": calls,
        "concurrency": concurrency,
        "latency_ms": latency_ms,
        "seconds": round(wall, 3),
        "calls_per_s": round(calls / wall, 1),
        "ms_per_call": round(wall / calls * 1000, 2),
        "cpu_ms_per_call": round(cpu / calls * 1000, 2),
        "server_peak": stats["peak"],
        "server_requests": stats["total"],
    }


def bench_noop(n: int) -> list[dict[str, Any]]:
    registry = ActionRegistry(plugins=False)
    rows = []

    context = ActionContext()
    started = time.perf_counter()
    for _ in range(n):
        NoOpAction().run(context)
    direct = (time.perf_counter() - started) / n
    rows.append({"bench": "noop", "path": "direct call", "us_per_action": round(direct * 1e6, 2)})

    executor = Executor(registry, lambda request, outcome: None, workers=8)
    request = ActionRequest(run_id="r", action="std.noop", input={})
    started = time.perf_counter()
    for _ in range(n):
        executor.run_now(request)
    inline = (time.perf_counter() - started) / n
    rows.append({"bench": "noop", "path": "in-line", "us_per_action": round(inline * 1e6, 2)})

    done = threading.Event()

    def report(_request: ActionRequest, _outcome: Outcome) -> None:
        done.set()

    samples = []
    for i in range(n):
        done.clear()
        began = time.perf_counter()
        executor.submit(ActionRequest(run_id=f"r{i}", action="std.noop", input={}), report=report)
        done.wait()
        samples.append(time.perf_counter() - began)
    rows.append(
        {
            "bench": "noop",
            "path": "thread pool, one at a time",
            "us_per_action": round(statistics.mean(samples) * 1e6, 2),
            "p50_us": round(statistics.median(samples) * 1e6, 2),
        }
    )

    remaining = threading.Semaphore(0)
    started = time.perf_counter()
    for i in range(n):
        executor.submit(
            ActionRequest(run_id=f"b{i}", action="std.noop", input={}),
            report=lambda _r, _o: remaining.release(),
        )
    for _ in range(n):
        remaining.acquire()
    burst = (time.perf_counter() - started) / n
    rows.append(
        {
            "bench": "noop",
            "path": "thread pool, all at once (8 workers)",
            "us_per_action": round(burst * 1e6, 2),
        }
    )
    executor.shutdown()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000, help="std.http calls per run")
    parser.add_argument(
        "--latency-ms",
        type=float,
        nargs="+",
        default=[0.0, 20.0],
        help="how long the HTTP server waits before answering (one table row pair each)",
    )
    parser.add_argument("--noops", type=int, default=20000, help="std.noop actions per path")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.latency_ms[0])
        return

    http_rows = []
    if not args.skip_http:
        for latency_ms in args.latency_ms:
            for concurrency in (50, 1):
                row = bench_http(args.calls, concurrency, latency_ms)
                print(json.dumps(row), flush=True)
                http_rows.append(row)
    noop_rows = bench_noop(args.noops)
    for row in noop_rows:
        print(json.dumps(row), flush=True)

    print()
    if http_rows:
        print(f"std.http x {args.calls} through one with-items task (embedded, SQLite)")
        print(
            f"{'latency ms':>10} {'concurrency':>11} {'seconds':>8} {'calls/s':>8} "
            f"{'ms/call':>8} {'cpu ms/call':>11} {'server peak':>11}"
        )
        for row in http_rows:
            print(
                f"{row['latency_ms']:>10g} {row['concurrency']:>11} {row['seconds']:>8} "
                f"{row['calls_per_s']:>8} {row['ms_per_call']:>8} "
                f"{row['cpu_ms_per_call']:>11} {row['server_peak']:>11}"
            )
        for fast, slow in zip(http_rows[::2], http_rows[1::2], strict=True):
            speedup = slow["seconds"] / fast["seconds"]
            print(
                f"latency {fast['latency_ms']:g} ms: concurrency 50 is {speedup:.1f}x "
                "faster than one after another"
            )
        print()
    print(f"std.noop x {args.noops}: the executor's cost per action")
    print(f"{'path':<38} {'us/action':>10}")
    for row in noop_rows:
        print(f"{row['path']:<38} {row['us_per_action']:>10}")


if __name__ == "__main__":
    main()
