"""Speed of the workflow language: parse + validate, and the JSON round trip of specs.

    python bench/bench_lang.py               # every workload, best of 3
    python bench/bench_lang.py --repeat 5 --tasks 20000

Workloads:
  chain       a direct workflow of N tasks, each `std.echo` with an inline parameter,
              a publish and an on-success to the next (the same expressions repeat)
  joins+expr  N tasks in groups of 50: a fork to 48 branches and a `join: all`; every
              task has its own expressions (input, publish, a condition), so no
              expression is checked twice
  corpus      every document of ../shared/corpus (INDEX.tsv), one after the other
  json        the chain's spec to JSON text and back (orjson + from_json)

Target (ISSUE 2): 10,000 tasks in under 1 s on this machine. The real Mistral needs
80 s to register a 200-task workflow here (../shared/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from meltemi.lang import WorkflowSpec, parse, spec_from_json, spec_to_json

ROOT = Path(__file__).resolve().parents[1]


def chain(n: int) -> str:
    lines = ["version: '2.0'", f"chain_{n}:", "  input:", "    - x: 1", "  tasks:"]
    for i in range(n):
        lines += [
            f"    t{i}:",
            "      action: std.echo output=<% $.x %>",
            "      publish:",
            "        last: <% task().result %>",
        ]
        if i < n - 1:
            lines.append(f"      on-success: t{i + 1}")
    return "\n".join(lines) + "\n"


def joins_and_expressions(n: int) -> str:
    """Groups of 50 tasks: head -> 48 branches -> join (all), head of the next group."""
    group = 50
    lines = ["version: '2.0'", f"joins_{n}:", "  input:", "    - limit: 10", "  tasks:"]
    groups = max(n // group, 1)
    for g in range(groups):
        head, join = f"g{g}_head", f"g{g}_join"
        branches = [f"g{g}_b{b}" for b in range(group - 2)]
        lines += [f"    {head}:", f"      action: std.echo output=<% $.limit + {g} %>"]
        lines += ["      on-success:"] + [f"        - {b}" for b in branches]
        for b, name in enumerate(branches):
            lines += [
                f"    {name}:",
                "      action: std.echo",
                "      input:",
                f"        output: <% $.limit * {b} + {g} %>",
                "      publish:",
                f"        {name}_out: <% task().result.get(value_{b}) %>",
                "      on-success:",
                f"        - {join}: <% $.limit > {b} or {g} = 0 %>",
            ]
        lines += [f"    {join}:", "      join: all", "      action: std.noop"]
        if g < groups - 1:
            lines.append(f"      on-success: g{g + 1}_head")
    return "\n".join(lines) + "\n"


def corpus_documents() -> list[tuple[str, bytes]]:
    configured = os.environ.get("MELTEMI_CORPUS")
    corpus = Path(configured) if configured else ROOT.parent / "shared" / "corpus"
    index = corpus / "INDEX.tsv"
    if not index.is_file():
        return []
    names = [line.split("\t")[0] for line in index.read_text().splitlines()[1:] if line.strip()]
    return [(name, (corpus / name).read_bytes()) for name in names]


def best(run: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """(best wall, median wall, best CPU) time of ``repeat`` runs, in seconds.

    CPU time is the process's own; on a machine shared with other jobs it varies
    less than wall time.
    """
    walls, cpus = [], []
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return min(walls), statistics.median(walls), min(cpus)


def check_valid(text: str) -> WorkflowSpec:
    result = parse(text, "bench.yaml")
    if not result.is_valid(strict=True) or result.document is None:
        sys.exit("the generated workflow is not valid:\n" + "\n".join(map(str, result.diagnostics)))
    return result.document.workflows[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n, repeat = args.tasks, args.repeat

    rows: list[tuple[str, str, tuple[float, float, float], str]] = []
    chain_text = chain(n)
    spec = check_valid(chain_text)
    timing = best(lambda: parse(chain_text, "chain.yaml"), repeat)
    rows.append(("chain", f"{len(spec.tasks)} tasks", timing, per(timing[0], n, "task")))

    joins_text = joins_and_expressions(n)
    count = len(check_valid(joins_text).tasks)
    timing = best(lambda: parse(joins_text, "joins.yaml"), repeat)
    rows.append(("joins+expr", f"{count} tasks", timing, per(timing[0], count, "task")))

    documents = corpus_documents()
    if documents:

        def whole_corpus() -> None:
            for name, data in documents:
                parse(data, name)

        timing = best(whole_corpus, repeat)
        what = f"{len(documents)} files"
        rows.append(("corpus", what, timing, per(timing[0], len(documents), "file")))

    stored = orjson.dumps(spec_to_json(spec))
    if spec_from_json(WorkflowSpec, orjson.loads(stored)) != spec:
        sys.exit("the JSON round trip changed the spec")

    def round_trip() -> None:
        spec_from_json(WorkflowSpec, orjson.loads(orjson.dumps(spec_to_json(spec))))

    timing = best(round_trip, repeat)
    what = f"{n} tasks, {len(stored) / 1e6:.1f} MB"
    rows.append(("json round trip", what, timing, per(timing[0], n, "task")))

    print(
        f"meltemi.lang, {repeat} runs each (Python {sys.version.split()[0]}, {os.cpu_count()} CPUs)"
    )
    print(f"{'workload':<16} {'size':<20} {'best':>8} {'median':>8} {'CPU':>8}  {'per unit':>12}")
    for name, what, (fastest, median, cpu), unit in rows:
        print(f"{name:<16} {what:<20} {fastest:>7.3f}s {median:>7.3f}s {cpu:>7.3f}s  {unit:>12}")
    verdict = "met" if rows[0][2][0] < 1.0 and rows[1][2][0] < 1.0 else "NOT met"
    print(f"target: {n} tasks parsed and validated in under 1 s (best wall time): {verdict}")


def per(seconds: float, count: int, unit: str) -> str:
    return f"{seconds / max(count, 1) * 1e6:.0f} us/{unit}"


if __name__ == "__main__":
    main()
