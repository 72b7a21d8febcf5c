"""Expression benchmarks: CPU time of one evaluation, Meltemi against Mistral's way.

    python bench/bench_expressions.py
    python bench/bench_expressions.py --keys 1000      # a bigger data context

Every expression is evaluated against one shared data root (a context of ``--keys``
workflow variables plus ``__env``, ``__execution`` and ``__task_execution``), with a
warm cache, through the public ``evaluate_string``. "stock" is what Mistral does
for each evaluation: for YAQL, convert the data root for yaql, evaluate the parsed
expression in a fresh child context and sanitize the result; for Jinja, bind the
functions to the data and call the compiled expression or render the template. Reported: median over
``--repeat`` rounds of CPU time per evaluation (``time.process_time``), in
microseconds. ../shared/BENCHMARKS.md has stock yaql at ~370 us for ``$.x + 1``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import jinja2
import jinja2.sandbox

from meltemi.expressions import _yaql, evaluate_string
from meltemi.expressions._evaluate import YaqlExpression
from meltemi.expressions._functions import Functions
from meltemi.expressions._syntax import JINJA_PATTERN, YAQL_PATTERN

EXPRESSIONS = [
    "<% $.x + 1 %>",
    "<% $.vm.flavor.name %>",
    "<% $.items[2] %>",
    "<% $.count > 5 and $.status = 'ok' %>",
    "<% not $.flags.dry_run or $.x in $.items %>",
    "<% len($.items) %>",
    "<% $.vm.get(zone, 'nova') %>",
    "<% task(t1).result.id %>",
    "<% env().region %>",
    "<% $.vm %>",
    "vm-<% $.x %>-<% $.status %>",
    "<% $.items.where($ > 5).len() %>",
    "<% $.items.orderBy(-$).first() %>",  # not compiled: stock yaql, as a reference
    "{{ _.x + 1 }}",
    "{{ _.vm.flavor.name }}",
    "{{ task('t1').result.id }}",
    "vm-{{ _.x }}-{{ _.status }}",
]


class Host:
    """Just enough engine for task() and env()."""

    def env(self) -> Any:
        return {"region": "eu-west"}

    def execution(self) -> Any:
        return {"id": "wf-1"}

    def task(self, name: str | None) -> Any:
        return {"id": "task-1", "name": name, "result": {"id": 42, "ok": True}}

    def tasks(self, *args: Any) -> Any:
        return []

    def global_var(self, name: str) -> Any:
        return None

    def executions(self, *args: Any) -> Any:
        return []


def data_root(keys: int) -> dict[str, Any]:
    data: dict[str, Any] = {f"var_{i}": {"value": i, "tags": ["a", "b"]} for i in range(keys)}
    data.update(
        x=41,
        count=7,
        status="ok",
        items=list(range(10)),
        flags={"dry_run": False},
        vm={"flavor": {"name": "m1.small", "vcpus": 1}, "image": "cirros"},
        __env={"region": "eu-west"},
        __execution={"id": "wf-1"},
        __task_execution={"id": "task-1", "name": "t1"},
    )
    return data


def per_call(function: Callable[[], Any], repeat: int, budget: float) -> float:
    """Median CPU seconds of one call, over ``repeat`` rounds of about ``budget`` s."""
    function()
    calls = 1
    while True:  # size a round
        start = time.process_time()
        for _ in range(calls):
            function()
        spent = time.process_time() - start
        if spent >= budget / 4:
            break
        calls *= 4
    rounds = []
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(calls):
            function()
        rounds.append((time.process_time() - start) / calls)
    return statistics.median(rounds)


def stock_yaql(text: str, data: dict[str, Any], host: Host) -> Callable[[], Any] | None:
    """Mistral's way, for each <% %> of the string: convert, evaluate, sanitize."""
    if "<%" not in text:
        return None
    inner = [raw.strip("<%>").strip() for raw in YAQL_PATTERN.findall(text)]
    statements = [YaqlExpression(expression).statement for expression in inner]

    def run() -> Any:
        functions = Functions(host, data)
        return [
            _yaql.evaluate(statement, data, _yaql.convert_input(data), functions)
            for statement in statements
        ]

    return run


_MISTRAL_JINJA = jinja2.sandbox.SandboxedEnvironment(
    undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
)


def stock_jinja(text: str, data: dict[str, Any], host: Host) -> Callable[[], Any]:
    """Mistral's way: a render context with the functions bound to the data, then
    the compiled expression (a whole ``{{ }}``) or the template."""
    match = JINJA_PATTERN.search(text)
    assert match is not None
    whole = match.group(0) == text
    expression = _MISTRAL_JINJA.compile_expression(match.group(1), undefined_to_none=False)
    template = _MISTRAL_JINJA.from_string(text)

    def run() -> Any:
        functions = Functions(host, data)
        context = {"_": data, **functions.jinja_globals()}
        for key in ("__env", "__execution", "__task_execution"):
            context[key] = data.get(key)
        if whole:
            result = expression(**context)
            str(result)
            return result
        return template.render(**context)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=30, help="variables in the data root")
    parser.add_argument("--repeat", type=int, default=5, help="rounds per measurement")
    parser.add_argument("--budget", type=float, default=0.2, help="CPU seconds per round")
    args = parser.parse_args()

    data, host = data_root(args.keys), Host()
    print(f"data root: {len(data)} keys; CPU time per evaluation, median of {args.repeat}")
    print(f"{'expression':<46} {'meltemi':>10} {'stock':>11} {'speed-up':>9}")
    for text in EXPRESSIONS:
        ours = per_call(lambda t=text: evaluate_string(t, data, host), args.repeat, args.budget)
        stock = stock_yaql(text, data, host) or stock_jinja(text, data, host)
        stock_time = per_call(stock, args.repeat, args.budget) if stock is not None else None
        stock_cell = f"{stock_time * 1e6:9.1f}us" if stock_time is not None else f"{'-':>11}"
        ratio = f"{stock_time / ours:8.0f}x" if stock_time is not None else f"{'-':>9}"
        print(f"{text:<46} {ours * 1e6:8.1f}us {stock_cell} {ratio}")


if __name__ == "__main__":
    main()
