"""Engine benchmarks on the embedded runtime (SQLite file, WAL), one process per run.

    python bench/bench_engine.py                 # every workload
    python bench/bench_engine.py linear fanout   # some of them
    python bench/bench_engine.py --repeat 3

Each run registers the workflow, then times from the start of the execution to the end of the
execution (as ../shared/peer/bench.py times the real Mistral through its API, minus
HTTP). Reported: wall time, per-unit time, peak resident memory of the process, and
for the publish workload the database size. Mistral 23.0.0 on this machine, from
../shared/BENCHMARKS.md: linear 50 = 5.1 s, linear 200 = 56.4 s, with-items 1000 =
90.1 s, fan-out 100 = 93.9 s, sub-workflows 100 = 30.0 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MISTRAL = {  # seconds, ../shared/BENCHMARKS.md (Mistral 23.0.0, this machine)
    ("linear", 50): 5.066,
    ("linear", 200): 56.395,
    ("with_items", 100): 6.325,
    ("with_items", 1000): 90.129,
    ("fanout", 20): 7.746,
    ("fanout", 100): 93.9,
    ("subwf", 20): 7.623,
    ("subwf", 100): 29.981,
}


def linear(n: int) -> tuple[str, str, dict[str, Any]]:
    tasks = "".join(
        f"    t{i}:\n      action: std.noop\n"
        + (f"      on-success: t{i + 1}\n" if i < n - 1 else "")
        for i in range(n)
    )
    return f"version: '2.0'\nlinear_{n}:\n  tasks:\n{tasks}", f"linear_{n}", {}


def with_items(n: int) -> tuple[str, str, dict[str, Any]]:
    text = (
        f"version: '2.0'\nwith_items_{n}:\n  input: [items]\n  tasks:\n    loop:\n"
        "      with-items: i in <% $.items %>\n      concurrency: 100\n      action: std.noop\n"
    )
    return text, f"with_items_{n}", {"items": list(range(n))}


def fanout(n: int) -> tuple[str, str, dict[str, Any]]:
    targets = "".join(f"        - p{i}\n" for i in range(n))
    branches = "".join(
        f"    p{i}:\n      action: std.noop\n      on-success: done\n" for i in range(n)
    )
    text = (
        f"version: '2.0'\nfanout_{n}:\n  tasks:\n    start:\n      action: std.noop\n"
        f"      on-success:\n{targets}{branches}    done:\n      join: all\n"
        "      action: std.noop\n"
    )
    return text, f"fanout_{n}", {}


def subwf(n: int) -> tuple[str, str, dict[str, Any]]:
    tasks = "".join(
        f"    s{i}:\n      workflow: subwf_{n}_child\n"
        + (f"      on-success: s{i + 1}\n" if i < n - 1 else "")
        for i in range(n)
    )
    text = (
        f"version: '2.0'\nsubwf_{n}:\n  tasks:\n{tasks}"
        f"subwf_{n}_child:\n  tasks:\n    only:\n      action: std.noop\n"
    )
    return text, f"subwf_{n}", {}


def nested(n: int) -> tuple[str, str, dict[str, Any]]:
    text = (
        "version: '2.0'\n"
        + "".join(
            f"nested_{i}:\n  tasks:\n    t:\n      workflow: nested_{i + 1}\n" for i in range(n)
        )
        + f"nested_{n}:\n  tasks:\n    t:\n      action: std.noop\n"
    )
    return text, "nested_0", {}


def publish(n: int) -> tuple[str, str, dict[str, Any]]:
    tasks = "".join(
        f"    t{i}:\n      action: std.test_dict size=1000 key_prefix=k val=<% $.pad %>\n"
        f"      publish: {{p{i}: <% task().result %>}}\n"
        + (f"      on-success: t{i + 1}\n" if i < n - 1 else "")
        for i in range(n)
    )
    text = f"version: '2.0'\npublish_{n}:\n  input: [pad]\n  tasks:\n{tasks}"
    return text, f"publish_{n}", {"pad": "x" * 90}


WORKLOADS = {
    "linear": (linear, [50, 200, 1000]),
    "with_items": (with_items, [100, 1000, 10000]),
    "fanout": (fanout, [20, 100, 1000]),
    "subwf": (subwf, [20, 100]),
    "nested": (nested, [100]),
    "publish": (publish, [50, 100, 200]),
}


WARM_UP = """
version: '2.0'
warm_up:
  tasks:
    t:
      action: std.echo output=<% 1 + 1 %>
      publish: {x: '{{ task().result }}'}
"""


def _warm_up(runtime: Any) -> None:
    """One small run first, so that one-time costs (parsers, caches) are not counted."""
    from meltemi.services.executions import Executions

    runtime.definitions.create_workflows(WARM_UP)
    runtime.wait(Executions(runtime).start("warm_up").id, timeout=60)


def run_one(name: str, n: int) -> dict[str, Any]:
    """Runs in a child process: one workload, one size; prints a JSON line."""
    from meltemi.persistence.db import Database, sqlite_url
    from meltemi.services.executions import Executions
    from meltemi.services.runtime import Runtime

    make, _sizes = WORKLOADS[name]
    text, workflow, workflow_input = make(n)
    with tempfile.TemporaryDirectory(prefix="meltemi-bench-") as tmp:
        path = Path(tmp) / "bench.db"
        runtime = Runtime(Database(sqlite_url(path)))
        runtime.start()
        _warm_up(runtime)
        started = time.perf_counter()
        runtime.definitions.create_workflows(text)
        registered = time.perf_counter() - started
        started = time.perf_counter()
        execution = Executions(runtime).start(workflow, input=workflow_input)
        final = runtime.wait(execution.id, timeout=900)
        elapsed = time.perf_counter() - started
        runtime.stop(grace=0)
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
    return {
        "scenario": name,
        "n": n,
        "state": str(final.state),
        "register_s": round(registered, 3),
        "run_s": round(elapsed, 3),
        "per_unit_ms": round(elapsed / n * 1000, 3),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "db_bytes": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", default=list(WORKLOADS))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--child", nargs=2, metavar=("NAME", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child[0], int(args.child[1]))))
        return
    rows = []
    for name in args.workloads:
        for n in WORKLOADS[name][1]:
            results = []
            for _ in range(args.repeat):
                out = subprocess.run(
                    [sys.executable, __file__, "--child", name, str(n)],
                    capture_output=True,
                    text=True,
                    check=True,
                    env=dict(os.environ),
                )
                results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            best = min(results, key=lambda r: r["run_s"])
            best["run_s_median"] = statistics.median(r["run_s"] for r in results)
            mistral = MISTRAL.get((name, n))
            best["mistral_s"] = mistral
            best["speedup"] = round(mistral / best["run_s_median"], 1) if mistral else None
            rows.append(best)
            print(json.dumps(best), flush=True)
    print()
    print(
        f"{'workload':12} {'n':>6} {'state':8} {'run s':>8} {'ms/unit':>8} {'RSS MiB':>8} "
        f"{'DB MiB':>8} {'Mistral s':>10} {'x faster':>9}"
    )
    for r in rows:
        mistral = f"{r['mistral_s']:.1f}" if r["mistral_s"] else "-"
        speedup = f"{r['speedup']}" if r["speedup"] else "-"
        print(
            f"{r['scenario']:12} {r['n']:>6} {r['state']:8} {r['run_s_median']:>8.3f} "
            f"{r['per_unit_ms']:>8.3f} {r['peak_rss_mib']:>8.1f} "
            f"{r['db_bytes'] / 2**20:>8.1f} {mistral:>10} {speedup:>9}"
        )


if __name__ == "__main__":
    main()
