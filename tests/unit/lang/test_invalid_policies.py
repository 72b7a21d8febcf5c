"""Invalid policies: retry, wait-before, wait-after, timeout, concurrency, pause-before, fail-on.

Counts and seconds are whole numbers of 0 or more, or expressions; never negative,
fractional, boolean, or text that is not an expression.
"""

from __future__ import annotations

import textwrap

import pytest

from tests.unit.lang.cases import Case, check, doc, ids


def task(body: str) -> str:
    """A workflow whose only task ``t1`` (line 5 on) has ``body`` as attributes."""
    attributes = textwrap.indent(doc(body).strip("\n"), "      ")
    return f"version: '2.0'\nwf:\n  tasks:\n    t1:\n{attributes}\n"


CASES = [
    Case(
        "unknown retry attribute",
        task("retry:\n  count: 3\n  delay: 1\n  max: 4"),
        8,
        9,
        "wf.tasks.t1.retry.max",
        "unknown-attribute",
    ),
    Case(
        "retry without delay",
        task("retry:\n  count: 3"),
        6,
        9,
        "wf.tasks.t1.retry",
        "missing-attribute",
    ),
    Case(
        "retry count negative",
        task("retry:\n  count: -1\n  delay: 1"),
        6,
        16,
        "wf.tasks.t1.retry.count",
        "negative",
    ),
    Case(
        "retry count is a boolean",
        task("retry:\n  count: true\n  delay: 1"),
        6,
        16,
        "wf.tasks.t1.retry.count",
        "wrong-type",
    ),
    Case(
        "retry count is a fraction",
        task("retry:\n  count: 1.5\n  delay: 1"),
        6,
        16,
        "wf.tasks.t1.retry.count",
        "not-integer",
    ),
    Case(
        "retry delay is a word",
        task("retry:\n  count: 3\n  delay: ten"),
        7,
        16,
        "wf.tasks.t1.retry.delay",
        "not-an-expression",
    ),
    Case(
        "retry delay is negative",
        task("retry:\n  count: 3\n  delay: -10"),
        7,
        16,
        "wf.tasks.t1.retry.delay",
        "negative",
    ),
    Case(
        "retry break-on is not an expression",
        task("retry:\n  count: 3\n  delay: 1\n  break-on: $.done"),
        8,
        19,
        "wf.tasks.t1.retry.break-on",
        "not-an-expression",
    ),
    Case(
        "retry continue-on is a boolean",
        task("retry:\n  count: 3\n  delay: 1\n  continue-on: true"),
        8,
        22,
        "wf.tasks.t1.retry.continue-on",
        "not-an-expression",
    ),
    Case("retry is a list", task("retry: [3, 1]"), 5, 14, "wf.tasks.t1.retry", "wrong-type"),
    Case("retry is a number", task("retry: 3"), 5, 14, "wf.tasks.t1.retry", "wrong-type"),
    Case(
        "one-line retry without delay",
        task("retry: count=3"),
        5,
        14,
        "wf.tasks.t1.retry",
        "bad-retry",
    ),
    Case(
        "one-line retry with an unknown parameter",
        task("retry: count=3 delay=1 max=5"),
        5,
        14,
        "wf.tasks.t1.retry",
        "bad-retry",
    ),
    Case(
        "one-line retry with a negative count",
        task("retry: count=-3 delay=1"),
        5,
        14,
        "wf.tasks.t1.retry",
        "bad-retry",
    ),
    Case(
        "one-line retry with a word for a count",
        task('retry: count="three" delay=1'),
        5,
        14,
        "wf.tasks.t1.retry",
        "bad-retry",
    ),
    Case(
        "wait-before negative",
        task("wait-before: -5"),
        5,
        20,
        "wf.tasks.t1.wait-before",
        "negative",
    ),
    Case(
        "wait-before is a boolean",
        task("wait-before: false"),
        5,
        20,
        "wf.tasks.t1.wait-before",
        "wrong-type",
    ),
    Case(
        "wait-after is a fraction",
        task("wait-after: 2.5"),
        5,
        19,
        "wf.tasks.t1.wait-after",
        "not-integer",
    ),
    Case(
        "wait-after is text",
        task("wait-after: 10s"),
        5,
        19,
        "wf.tasks.t1.wait-after",
        "not-an-expression",
    ),
    Case("timeout is a boolean", task("timeout: true"), 5, 16, "wf.tasks.t1.timeout", "wrong-type"),
    Case("timeout is a list", task("timeout: [10]"), 5, 16, "wf.tasks.t1.timeout", "wrong-type"),
    Case("timeout negative", task("timeout: -1"), 5, 16, "wf.tasks.t1.timeout", "negative"),
    Case(
        "concurrency is a quoted number",
        task('concurrency: "5"'),
        5,
        20,
        "wf.tasks.t1.concurrency",
        "not-an-expression",
    ),
    Case(
        "concurrency negative",
        task("concurrency: -2"),
        5,
        20,
        "wf.tasks.t1.concurrency",
        "negative",
    ),
    Case(
        "pause-before is a number",
        task("pause-before: 1"),
        5,
        21,
        "wf.tasks.t1.pause-before",
        "wrong-type",
    ),
    Case(
        "fail-on is text, not an expression",
        task('fail-on: "$.x > 1"'),
        5,
        16,
        "wf.tasks.t1.fail-on",
        "not-an-expression",
    ),
    Case(
        "retry delay is a boolean",
        task("retry:\n  count: 3\n  delay: false"),
        7,
        16,
        "wf.tasks.t1.retry.delay",
        "wrong-type",
    ),
    Case(
        "wait-before is a fraction",
        task("wait-before: 0.5"),
        5,
        20,
        "wf.tasks.t1.wait-before",
        "not-integer",
    ),
    Case(
        "timeout is a fraction", task("timeout: 2.5"), 5, 16, "wf.tasks.t1.timeout", "not-integer"
    ),
    Case(
        "concurrency is a boolean",
        task("concurrency: true"),
        5,
        20,
        "wf.tasks.t1.concurrency",
        "wrong-type",
    ),
    Case(
        "concurrency is a fraction",
        task("concurrency: 1.5"),
        5,
        20,
        "wf.tasks.t1.concurrency",
        "not-integer",
    ),
    Case(
        "fail-on is a mapping",
        task("fail-on: {x: 1}"),
        5,
        16,
        "wf.tasks.t1.fail-on",
        "wrong-type",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_policy_errors_name_line_column_and_path(case: Case) -> None:
    check(case)
