"""REST API throughput and latency: Meltemi beside the real Mistral.

Two measurements, each printed as one JSON line and summed up in a table:

* ``starts``: executions started per second through ``POST /v2/executions`` (a one-task
  workflow), by 16 concurrent clients for a number of seconds.
* ``list``: latency of ``GET /v2/executions?limit=100&state=SUCCESS&sort_keys=created_at
  &sort_dirs=desc`` with 10,000 executions stored: the first page asked again and again,
  and the following pages walked with ``marker`` (the ``next`` links).

Meltemi runs as ``meltemi server`` on a free port (never 8989, which the peer holds) with
a fresh SQLite database. With ``--mistral-url`` the same is measured on the real Mistral
(``../shared/peer``), with as many executions stored (filling 10,000 takes Mistral ~12
minutes; ``--mistral-executions`` makes it fewer, and the table says how many were
stored); with ``--mistral-pid`` its CPU per start and per GET too. Executions are left
stored afterwards (a second run reuses them).

    python bench/bench_api.py                         # Meltemi only
    python bench/bench_api.py --mistral-url http://127.0.0.1:8989/v2 \
        --mistral-pid "$(cat ../shared/peer/.work/mistral.pid)"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

WORKFLOW = """
version: '2.0'
bench_api_one:
  tasks:
    only:
      action: std.noop
"""
NAME = "bench_api_one"
LIST_PARAMS = {"limit": "100", "state": "SUCCESS", "sort_keys": "created_at", "sort_dirs": "desc"}
FINAL = ("SUCCESS", "ERROR", "CANCELLED")


@dataclass
class Report:
    target: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, **values: Any) -> None:
        row = {"target": self.target, **values}
        self.rows.append(row)
        print(json.dumps(row), flush=True)


def cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) of a local process and its descendants so far (the
    peer's mistral-server forks one process per component); 0 when unknown."""
    if pid is None:
        return 0.0
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        process = int(stat.parent.name)
        parents[process] = int(fields[1])
        ticks[process] = int(fields[11]) + int(fields[12])
    tree = {pid}
    grew = True
    while grew:
        found = {child for child, parent in parents.items() if parent in tree} - tree
        grew = bool(found)
        tree |= found
    return sum(ticks.get(process, 0) for process in tree) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


# -- the Meltemi server ------------------------------------------------------------------


def _free_port() -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
        if port != 8989:
            return port


@contextmanager
def meltemi_server(workdir: Path, port: int | None) -> Iterator[tuple[str, int]]:
    """A ``meltemi server`` on a fresh database; yields its /v2 URL and pid."""
    port = port or _free_port()
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "meltemi",
            "server",
            "--port",
            str(port),
            "--db",
            f"sqlite:///{workdir / 'bench.db'}",
            "--log-level",
            "warning",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "MELTEMI_HOME": str(workdir)},
    )
    url = f"http://127.0.0.1:{port}/v2"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"meltemi server exited: see {workdir / 'server.log'}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("meltemi server did not start within 60 s")
            time.sleep(0.1)
        yield url, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def register(url: str) -> None:
    with httpx.Client(base_url=url, timeout=300) as api:
        found = api.get(f"/workflows/{NAME}")
        if found.status_code == 200:
            return
        created = api.post("/workflows", content=WORKFLOW, headers={"content-type": "text/plain"})
        if created.status_code != 201:
            raise SystemExit(f"cannot register the workflow: {created.status_code} {created.text}")


# -- starting executions -----------------------------------------------------------------


async def _start_loop(
    client: httpx.AsyncClient,
    until: float,
    budget: list[int],
    latencies: list[float],
    errors: list[str],
) -> None:
    while time.monotonic() < until and budget[0] > 0:
        budget[0] -= 1
        began = time.perf_counter()
        try:
            answer = await client.post("/executions", json={"workflow_name": NAME})
        except httpx.HTTPError as e:
            errors.append(type(e).__name__)
            continue
        if answer.status_code == 201:
            latencies.append(time.perf_counter() - began)
        else:
            errors.append(f"{answer.status_code} {answer.text[:200]}")


async def start_executions(
    url: str, *, clients: int, seconds: float, limit: int
) -> tuple[int, float, list[float], list[str]]:
    """Starts executions with ``clients`` concurrent loops until time or ``limit`` is up."""
    latencies: list[float] = []
    errors: list[str] = []
    budget = [limit]
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        began = time.monotonic()
        until = began + seconds
        await asyncio.gather(
            *(_start_loop(client, until, budget, latencies, errors) for _ in range(clients))
        )
        elapsed = time.monotonic() - began
    return len(latencies), elapsed, latencies, errors


def count_executions(url: str, state: str | None = None) -> int:
    """How many executions of the benchmark workflow are stored (walks all pages)."""
    total = 0
    params: dict[str, str] = {"limit": "1000", "workflow_name": NAME, "fields": "state"}
    if state:
        params["state"] = state
    with httpx.Client(base_url=url, timeout=300) as api:
        while True:
            page = api.get("/executions", params=params).json()
            items = page["executions"]
            total += len(items)
            if len(items) < 1000:
                return total
            params["marker"] = items[-1]["id"]


def wait_all_finished(url: str, timeout: float) -> int:
    """Waits until no execution of the benchmark is running; returns how many succeeded."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, timeout=300) as api:
        while time.monotonic() < deadline:
            running = api.get(
                "/executions",
                params={"workflow_name": NAME, "state": "RUNNING", "limit": "1", "fields": "id"},
            ).json()["executions"]
            if not running:
                break
            time.sleep(1)
    return count_executions(url, "SUCCESS")


# -- listing -------------------------------------------------------------------------------


def list_latency(url: str, requests: int, pages: int, pid: int | None) -> dict[str, Any]:
    """Sequential GETs on one keep-alive connection: the first page, then a walk."""
    first: list[float] = []
    cpu_before = cpu_seconds(pid)
    walk: list[float] = []
    sizes: list[int] = []
    with httpx.Client(base_url=url, timeout=120) as api:
        api.get("/executions", params=LIST_PARAMS)  # warm up
        for _ in range(requests):
            began = time.perf_counter()
            answer = api.get("/executions", params=LIST_PARAMS)
            first.append(time.perf_counter() - began)
            answer.raise_for_status()
            sizes.append(len(answer.content))
        cpu_used = cpu_seconds(pid) - cpu_before
        params = dict(LIST_PARAMS)
        for _ in range(pages):
            began = time.perf_counter()
            answer = api.get("/executions", params=params)
            walk.append(time.perf_counter() - began)
            items = answer.json()["executions"]
            if len(items) < 100:
                break
            params["marker"] = items[-1]["id"]
    return {
        "first_page_p50_ms": round(percentile(first, 50) * 1000, 2),
        "first_page_p99_ms": round(percentile(first, 99) * 1000, 2),
        "walk_p50_ms": round(percentile(walk, 50) * 1000, 2),
        "walk_p99_ms": round(percentile(walk, 99) * 1000, 2),
        "pages_walked": len(walk),
        "page_bytes": int(statistics.median(sizes)) if sizes else 0,
        "server_cpu_ms_per_request": round(cpu_used * 1000 / requests, 2) if pid else None,
    }


# -- one target ----------------------------------------------------------------------------


def measure(
    url: str, report: Report, args: argparse.Namespace, stored: int, pid: int | None = None
) -> None:
    """Starts per second, then the list latency once ``stored`` executions are there.

    With the server's ``pid`` (a local process), its CPU time per start and per list
    request are reported too: less sensitive than rates to other load on the machine.
    """
    register(url)
    cpu_before = cpu_seconds(pid)
    started, elapsed, latencies, errors = asyncio.run(
        start_executions(url, clients=args.clients, seconds=args.seconds, limit=10**9)
    )
    cpu_used = cpu_seconds(pid) - cpu_before
    report.add(
        measure="starts",
        clients=args.clients,
        seconds=round(elapsed, 2),
        started=started,
        starts_per_s=round(started / elapsed, 1),
        post_p50_ms=round(percentile(latencies, 50) * 1000, 2),
        post_p99_ms=round(percentile(latencies, 99) * 1000, 2),
        errors=len(errors),
        first_error=errors[0] if errors else None,
        server_cpu_ms_per_start=round(cpu_used * 1000 / started, 2) if pid and started else None,
        load_average=round(os.getloadavg()[0], 2),
    )
    have = count_executions(url)
    if have < stored:
        began = time.monotonic()
        more, _, _, fill_errors = asyncio.run(
            start_executions(
                url, clients=args.clients, seconds=args.fill_timeout, limit=stored - have
            )
        )
        report.add(
            measure="fill",
            added=more,
            seconds=round(time.monotonic() - began, 1),
            errors=len(fill_errors),
        )
    succeeded = wait_all_finished(url, args.fill_timeout)
    total = count_executions(url)
    report.add(measure="stored", executions=total, success=succeeded)
    report.add(
        measure="list",
        stored=total,
        query="limit=100&state=SUCCESS&sort_keys=created_at&sort_dirs=desc",
        requests=args.requests,
        **list_latency(url, args.requests, args.pages, pid),
        load_average=round(os.getloadavg()[0], 2),
    )


def table(reports: list[Report]) -> str:
    def get(report: Report, measure: str, key: str) -> Any:
        for row in report.rows:
            if row.get("measure") == measure:
                return row.get(key, "")
        return ""

    columns = [  # (title, measure, key)
        ("starts/s (16 clients)", "starts", "starts_per_s"),
        ("POST p50 ms", "starts", "post_p50_ms"),
        ("POST p99 ms", "starts", "post_p99_ms"),
        ("CPU ms/start", "starts", "server_cpu_ms_per_start"),
        ("stored", "stored", "executions"),
        ("GET list p50 ms", "list", "first_page_p50_ms"),
        ("GET list p99 ms", "list", "first_page_p99_ms"),
        ("walk p50 ms", "list", "walk_p50_ms"),
        ("walk p99 ms", "list", "walk_p99_ms"),
        ("CPU ms/GET", "list", "server_cpu_ms_per_request"),
    ]
    lines = [
        "| target | " + " | ".join(title for title, _, _ in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for r in reports:
        cells = [get(r, measure, key) for _, measure, key in columns]
        lines.append(f"| {r.target} | " + " | ".join(str(c) if c else "-" for c in cells) + " |")
    if len(reports) == 2:
        cells = []
        for _, measure, key in columns:
            mine, theirs = get(reports[0], measure, key), get(reports[1], measure, key)
            if key == "executions" or not all(isinstance(v, int | float) for v in (mine, theirs)):
                cells.append("-")
            elif key == "starts_per_s":  # higher is better: Meltemi's over Mistral's
                cells.append(f"{mine / theirs:.1f}x" if theirs else "-")
            else:  # lower is better: Mistral's over Meltemi's
                cells.append(f"{theirs / mine:.1f}x" if mine else "-")
        lines.append("| Meltemi's advantage | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15, help="length of the starts run")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--executions", type=int, default=10_000, help="stored for the list")
    parser.add_argument("--requests", type=int, default=300, help="GETs of the first page")
    parser.add_argument("--pages", type=int, default=100, help="pages walked with marker")
    parser.add_argument("--fill-timeout", type=float, default=1800)
    parser.add_argument("--port", type=int, default=0, help="Meltemi's port (never 8989)")
    parser.add_argument("--meltemi-url", help="measure a Meltemi already running at this URL")
    parser.add_argument("--no-meltemi", action="store_true", help="measure only the peer")
    parser.add_argument("--mistral-url", help="also measure the real Mistral at this /v2 URL")
    parser.add_argument(
        "--mistral-executions",
        type=int,
        help="stored on Mistral for the list (default: --executions, for a like-for-like "
        "list; filling 10,000 takes ~12 min at Mistral's ~15 starts/s)",
    )
    parser.add_argument("--mistral-seconds", type=float, default=30)
    parser.add_argument(
        "--mistral-pid",
        type=int,
        help="pid of the local mistral-server master (../shared/peer/.work/mistral.pid): "
        "CPU per start and per GET is summed over it and its workers (not PostgreSQL "
        "nor RabbitMQ)",
    )
    args = parser.parse_args()

    reports: list[Report] = []
    meltemi = Report("meltemi")
    if not args.no_meltemi:
        reports.append(meltemi)
    if args.no_meltemi:
        pass
    elif args.meltemi_url:
        measure(args.meltemi_url, meltemi, args, args.executions)
    else:
        with (
            tempfile.TemporaryDirectory(prefix="bench-api-") as tmp,
            meltemi_server(Path(tmp), args.port) as (url, pid),
        ):
            measure(url, meltemi, args, args.executions, pid)
    if args.mistral_url:
        mistral = Report("mistral")
        reports.append(mistral)
        mistral_args = argparse.Namespace(**{**vars(args), "seconds": args.mistral_seconds})
        stored = args.mistral_executions or args.executions
        measure(args.mistral_url, mistral, mistral_args, stored, args.mistral_pid)
    print()
    print(table(reports))


if __name__ == "__main__":
    main()
