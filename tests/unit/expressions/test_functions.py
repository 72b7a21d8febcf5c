"""The built-in functions, in YAQL and in Jinja."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from meltemi.expressions import EvaluationError, evaluate_string
from tests.unit.expressions.fakes import EXECUTION, FakeHost

DATA: dict[str, Any] = {
    "__env": {"region": "eu", "limits": {"cpu": 2}},
    "__execution": {"id": "wf-1"},
    "__task_execution": {"id": "id-t1", "name": "t1"},
    "obj": {"b": [1, {"c": "d"}], "a": 1},
    "text": '{"k": [1, 2]}',
    "doc": "a: 1\nb: [x, y]\n",
}

# Each function call as YAQL and as Jinja writes it.
LANGUAGES = [
    pytest.param(lambda call: f"<% {call.replace('=', ' => ')} %>", id="yaql"),
    pytest.param(lambda call: "{{ " + call.replace("$.", "_.") + " }}", id="jinja"),
]


def run(make: Any, call: str, host: FakeHost | None = None) -> Any:
    return evaluate_string(make(call), DATA, host or FakeHost())


@pytest.mark.parametrize("make", LANGUAGES)
def test_env_comes_from_the_host(make: Any) -> None:
    host = FakeHost()
    assert run(make, "env()", host) == {"region": "eu", "limits": {"cpu": 2}}
    assert run(make, "env().limits", host) == {"cpu": 2}
    assert ("env",) in host.calls


@pytest.mark.parametrize("make", LANGUAGES)
def test_env_without_a_host_reads_the_data(make: Any) -> None:
    assert evaluate_string(make("env()"), DATA) == DATA["__env"]


@pytest.mark.parametrize("make", LANGUAGES)
def test_execution(make: Any) -> None:
    assert run(make, "execution()") == EXECUTION
    assert run(make, "execution().id") == "wf-1"


@pytest.mark.parametrize("make", LANGUAGES)
def test_executions_passes_its_filters(make: Any) -> None:
    host = FakeHost()
    assert run(make, "executions()", host) == [{"id": "wf-1", "state": "RUNNING"}]
    run(make, "executions('wf-1', 'root-1', 'RUNNING', '2026')", host)
    assert host.calls[-1] == ("executions", "wf-1", "root-1", "RUNNING", "2026", None)


def test_keyword_arguments_are_camel_case_in_yaql() -> None:
    # yaql's default convention (Mistral's too) renames Python parameters.
    host = FakeHost()
    evaluate_string("<% executions(fromTime => '2026', toTime => '2027') %>", DATA, host)
    assert host.calls[-1] == ("executions", None, None, None, "2026", "2027")
    evaluate_string("<% tasks(workflowExecutionId => 'x', recursive => true) %>", DATA, host)
    assert host.calls[-1] == ("tasks", "x", True, None, False)
    evaluate_string("{{ tasks(workflow_execution_id='y', flat=True) }}", DATA, host)
    assert host.calls[-1] == ("tasks", "y", False, None, True)


@pytest.mark.parametrize("make", LANGUAGES)
def test_task_by_name_and_current(make: Any) -> None:
    host = FakeHost()
    assert run(make, "task('t2').result", host) == "two"
    assert host.calls[-1] == ("task", "t2")
    assert run(make, "task().result.value", host) == 10
    assert host.calls[-1] == ("task", None)
    # The current task's own name means the current execution of it (as in Mistral).
    assert run(make, "task('t1').state", host) == "SUCCESS"
    assert host.calls[-1] == ("task", None)
    assert run(make, "task('absent')", host) is None


@pytest.mark.parametrize("make", LANGUAGES)
def test_tasks_passes_its_filters(make: Any) -> None:
    host = FakeHost()
    assert [t["name"] for t in run(make, "tasks()", host)] == ["t1", "t2"]
    assert host.calls[-1] == ("tasks", None, False, None, False)
    assert [t["name"] for t in run(make, "tasks(state='ERROR')", host)] == ["t2"]
    run(make, "tasks('wf-9', not 0, 'RUNNING', not 0)", host)
    assert host.calls[-1] == ("tasks", "wf-9", True, "RUNNING", True)


@pytest.mark.parametrize("make", LANGUAGES)
def test_global(make: Any) -> None:
    assert run(make, "global('counter')") == 7
    assert run(make, "global('nothing')") is None


@pytest.mark.parametrize("make", LANGUAGES)
def test_json_dump_is_indented_json(make: Any) -> None:
    dumped = run(make, "json_dump($.obj)")
    assert dumped == json.dumps(DATA["obj"], indent=4)


@pytest.mark.parametrize("make", LANGUAGES)
def test_json_pp_is_kept_for_old_workflows(make: Any) -> None:
    assert json.loads(run(make, "json_pp($.obj)")) == DATA["obj"]


@pytest.mark.parametrize("make", LANGUAGES)
def test_json_parse(make: Any) -> None:
    assert run(make, "json_parse($.text)") == {"k": [1, 2]}


@pytest.mark.parametrize("make", LANGUAGES)
def test_yaml_dump_is_block_style(make: Any) -> None:
    assert run(make, "yaml_dump($.obj)") == "a: 1\nb:\n- 1\n- c: d\n"


@pytest.mark.parametrize("make", LANGUAGES)
def test_yaml_parse(make: Any) -> None:
    assert run(make, "yaml_parse($.doc)") == {"a": 1, "b": ["x", "y"]}


def test_yaml_parse_reads_anchors_and_aliases_as_text() -> None:
    # Aliases would let a few bytes expand into gigabytes ("billion laughs").
    doc = "a: &x [1, 2]\nb: *x\n"
    assert evaluate_string("<% yaml_parse($.doc) %>", {"doc": doc}) == {
        "a": "&x [1, 2]",
        "b": "*x",
    }


def test_yaml_parse_is_safe() -> None:
    with pytest.raises(EvaluationError):
        evaluate_string("<% yaml_parse($.doc) %>", {"doc": "!!python/object/apply:os.system [ls]"})


@pytest.mark.parametrize("make", LANGUAGES)
def test_uuid_is_new_each_time(make: Any) -> None:
    first, second = run(make, "uuid()"), run(make, "uuid()")
    assert first != second
    assert str(uuid.UUID(first)) == first


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ _ | env }}", {"region": "eu", "limits": {"cpu": 2}}),
        ("{{ (_ | task('t2')).state }}", "ERROR"),
        ("{{ _ | execution }}", EXECUTION),
        ("{{ (_ | tasks(state='ERROR'))[0].name }}", "t2"),
        ("{{ _ | global('counter') }}", 7),
    ],
)
def test_functions_are_also_jinja_filters(template: str, expected: Any) -> None:
    assert evaluate_string(template, DATA, FakeHost()) == expected


def test_filters_take_the_filtered_value_as_their_data_context() -> None:
    # As in Mistral, the value in front of the filter stands for the data context.
    assert evaluate_string("{{ {'__env': 5} | env }}", DATA) == 5
    with pytest.raises(EvaluationError):
        evaluate_string("{{ _.obj | json_dump }}", DATA)  # json_dump(context, data)


@pytest.mark.parametrize("make", LANGUAGES)
@pytest.mark.parametrize(
    "call", ["execution()", "task()", "tasks()", "global('x')", "executions()"]
)
def test_engine_functions_without_a_host_fail_clearly(make: Any, call: str) -> None:
    with pytest.raises(EvaluationError, match="only available while an execution runs"):
        evaluate_string(make(call), DATA)


def test_yaql_context_variables_of_mistral() -> None:
    assert evaluate_string("<% $__env.region %>", DATA) == "eu"
    assert evaluate_string("<% $__execution.id %>", DATA) == "wf-1"
    assert evaluate_string("<% $__task_execution.name %>", DATA) == "t1"


def test_jinja_context_names_of_mistral() -> None:
    assert evaluate_string("{{ __env.region }}", DATA) == "eu"
    assert evaluate_string("{{ __execution.id }}", DATA) == "wf-1"
    assert evaluate_string("{{ __task_execution.name }}", DATA) == "t1"


def test_the_host_is_not_reachable_from_expressions() -> None:
    with pytest.raises(EvaluationError):
        evaluate_string("{{ functions }}", DATA, FakeHost())
    assert evaluate_string("<% $functions %>", DATA, FakeHost()) is None
