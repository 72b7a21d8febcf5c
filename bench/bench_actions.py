"""Action benchmarks: std.http through with-items, and the executor's overhead.

    python bench/bench_actions.py                      # everything
    python bench/bench_actions.py --calls 200          # fewer HTTP calls
    python bench/bench_actions.py --noops 50000

* ``http``: one with-items task makes ``--calls`` std.http GET requests to a local
  HTTP server (a threaded ``http.server`` on loopback answering a small JSON body),
  on the embedded runtime (SQLite file, WAL), at concurrency 50 and at concurrency 1
  (one after another). Timed from the start of the execution to its end; reported
  with calls per second and the server's peak of simultaneous requests.
* ``noop``: what the executor costs per std.noop action: run in-line on the calling
  thread (``Executor.run_now``, as the engine does for instant actions), and through
  the thread pool (``Executor.submit`` and wait for the report: a round trip through
  a worker thread), against calling the action directly.

Each line is printed as JSON as it is measured, then the table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

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


@contextmanager
def http_server() -> Iterator[tuple[str, _Load]]:
    load = _Load()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            load.enter()
            try:
                time.sleep(0.002)  # a little work on the server's side, as a real one has
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(BODY)))
                self.end_headers()
                self.wfile.write(BODY)
            finally:
                load.leave()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 128
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/json", load
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def bench_http(calls: int, concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="meltemi-bench-") as tmp, http_server() as (url, load):
        runtime = Runtime(Database(sqlite_url(Path(tmp) / "bench.db")))
        runtime.start()
        try:
            runtime.definitions.create_workflows(WORKFLOW)
            started = time.perf_counter()
            cpu = time.process_time()
            execution = Executions(runtime).start(
                "http_items", input={"url": url, "n": calls, "concurrency": concurrency}
            )
            final = runtime.wait(execution.id, timeout=1800)
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu
        finally:
            runtime.stop(grace=0)
    if final.state is not State.SUCCESS or final.output != {"statuses": [200]}:
        raise SystemExit(f"the benchmark workflow failed: {final.state} {final.state_info}")
    return {
        "bench": "http",
        "calls": calls,
        "concurrency": concurrency,
        "seconds": round(wall, 3),
        "calls_per_s": round(calls / wall, 1),
        "ms_per_call": round(wall / calls * 1000, 2),
        "cpu_ms_per_call": round(cpu / calls * 1000, 2),
        "server_peak": load.peak,
        "server_requests": load.total,
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
    parser.add_argument("--noops", type=int, default=20000, help="std.noop actions per path")
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()

    http_rows = []
    if not args.skip_http:
        for concurrency in (50, 1):
            row = bench_http(args.calls, concurrency)
            print(json.dumps(row), flush=True)
            http_rows.append(row)
    noop_rows = bench_noop(args.noops)
    for row in noop_rows:
        print(json.dumps(row), flush=True)

    print()
    if http_rows:
        print(f"std.http x {args.calls} through one with-items task (embedded, SQLite)")
        print(
            f"{'concurrency':>11} {'seconds':>8} {'calls/s':>8} {'ms/call':>8} "
            f"{'cpu ms/call':>11} {'server peak':>11}"
        )
        for row in http_rows:
            print(
                f"{row['concurrency']:>11} {row['seconds']:>8} {row['calls_per_s']:>8} "
                f"{row['ms_per_call']:>8} {row['cpu_ms_per_call']:>11} {row['server_peak']:>11}"
            )
        if len(http_rows) == 2:
            speedup = http_rows[1]["seconds"] / http_rows[0]["seconds"]
            print(f"concurrency 50 is {speedup:.1f}x faster than one after another")
        print()
    print(f"std.noop x {args.noops}: the executor's cost per action")
    print(f"{'path':<38} {'us/action':>10}")
    for row in noop_rows:
        print(f"{row['path']:<38} {row['us_per_action']:>10}")


if __name__ == "__main__":
    main()
