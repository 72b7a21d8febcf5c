"""What Mistral accepts but almost surely fails at run time: warnings with a fix.

Warnings never make a document invalid; strict validation turns them into errors.
"""

from __future__ import annotations

import textwrap

import pytest

from meltemi.lang import parse
from tests.unit.lang.cases import Case, check, doc, ids, warning

CODE = "dropped-inline-param"


def task(body: str, *, more: str = "") -> str:
    """A workflow whose task ``t1`` (line 5 on) has ``body`` as attributes."""
    attributes = textwrap.indent(doc(body).strip("\n"), "      ")
    rest = textwrap.indent(doc(more), "    ")
    return f"version: '2.0'\nwf:\n  tasks:\n    t1:\n{attributes}\n{rest}"


CASES = [
    warning(
        "bare word inline parameter",
        task("action: std.echo output=fast"),
        5,
        24,
        "wf.tasks.t1.action",
        CODE,
    ),
    warning(
        "typographic closing quote",
        task('action: std.echo output="Hello Workflow!”'),
        5,
        24,
        "wf.tasks.t1.action",
        CODE,
    ),
    warning(
        "typographic quotes on both sides",
        task("action: std.echo output=“Hello”"),
        5,
        24,
        "wf.tasks.t1.action",
        CODE,
    ),
    warning(
        "Python False",
        task('action: std.http url="http://x" verify=False'),
        5,
        39,
        "wf.tasks.t1.action",
        CODE,
    ),
    warning(
        "Python None",
        task("action: std.echo output=None"),
        5,
        24,
        "wf.tasks.t1.action",
        CODE,
    ),
    warning(
        "a fraction is cut at the dot",
        task("action: std.echo output=1.5"),
        5,
        32,
        "wf.tasks.t1.action",
        CODE,
    ),
    warning(
        "a negative number",
        task("action: std.sleep seconds=-1"),
        5,
        25,
        "wf.tasks.t1.action",
        CODE,
    ),
    warning(
        "bare word in a sub-workflow's inline parameters",
        task("workflow: sub level=high"),
        5,
        21,
        "wf.tasks.t1.workflow",
        CODE,
    ),
    warning(
        "bare word in an engine command's message",
        task("on-error: fail msg=boom"),
        5,
        22,
        "wf.tasks.t1.on-error",
        CODE,
    ),
    warning(
        "Python True in a listed engine command",
        task("on-error:\n  - fail msg=True"),
        6,
        16,
        "wf.tasks.t1.on-error[0]",
        CODE,
    ),
    warning(
        "bare word in an ad-hoc action's base",
        "version: '2.0'\ngreet:\n  base: std.echo output=fast\n",
        3,
        18,
        "greet.base",
        CODE,
    ),
    warning(
        "a task that can never run",
        task(
            "action: std.noop",
            more="a:\n  action: std.noop\n  on-success: [b]\nb:\n  on-success: [a]\n",
        ),
        8,
        20,
        "wf.tasks.a.on-success[0]",
        "unreachable-task",
        count=2,
    ),
    warning(
        "a workflow 'name' that is not its key",
        "version: '2.0'\nwf:\n  name: other\n  tasks:\n    t1:\n      action: std.noop\n",
        3,
        9,
        "wf.name",
        "name-ignored",
    ),
    warning(
        "input that is text, not an expression",
        task("action: std.echo\ninput: just text"),
        6,
        14,
        "wf.tasks.t1.input",
        "input-not-mapping",
    ),
    warning(
        "input parameter that is not a plain name",
        task("action: std.echo\ninput:\n  my-param: 1"),
        7,
        9,
        "wf.tasks.t1.input.my-param",
        "bad-name",
    ),
    warning(
        "published name that expressions cannot read as $.name",
        task("action: std.echo\npublish:\n  my-var: 1"),
        7,
        9,
        "wf.tasks.t1.publish.my-var",
        "bad-name",
    ),
    warning(
        "a task 'type' other than its workflow's",
        task("type: reverse\naction: std.noop"),
        5,
        13,
        "wf.tasks.t1.type",
        "type-ignored",
    ),
    # Mistral registers both of these; what they mean is almost surely not meant.
    warning(
        "engine command as a task name",
        "version: '2.0'\nwf:\n  tasks:\n    fail:\n      action: std.noop\n",
        4,
        5,
        "wf.tasks.fail",
        "reserved-name",
    ),
    warning(
        "workbook without workflows or actions",
        "version: '2.0'\nname: wb\ndescription: to be written\n",
        1,
        1,
        "",
        "empty-document",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_warnings_name_line_column_and_path(case: Case) -> None:
    check(case)


def test_a_warning_says_how_to_fix_it() -> None:
    result = parse(task('action: std.echo output="Hello Workflow!”'), "wf.yaml")
    [diagnostic] = result.warnings
    assert "typographic quote" in diagnostic.message
    assert diagnostic.hint == 'use plain ASCII quotes: output="Hello Workflow!"'


def test_a_dropped_parameter_is_not_passed_and_the_others_are() -> None:
    result = parse(task('action: std.http url="http://x" verify=False'), "wf.yaml")
    assert result.document is not None
    assert result.document.workflow("wf").tasks["t1"].input == {"url": "http://x"}


@pytest.mark.parametrize("version", ["'2.0'", "2.0", "2"])
@pytest.mark.parametrize("kind", ["workflows", "workbook"])
def test_version_2_may_be_written_as_a_string_or_a_number(version: str, kind: str) -> None:
    # Mistral's schemas take '2.0' and the number 2.0, which YAML also reads from 2.
    body = "wf:\n  tasks:\n    t1:\n      action: std.noop\n"
    if kind == "workbook":
        body = "name: wb\nworkflows:\n" + textwrap.indent(body, "  ")
    result = parse(f"version: {version}\n{body}")
    assert result.is_valid(strict=True), [d.message for d in result.diagnostics]
