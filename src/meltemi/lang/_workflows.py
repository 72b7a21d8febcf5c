"""Building workflow, task and task-defaults specs from YAML nodes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from meltemi.expressions import is_whole_expression
from meltemi.lang._checks import check_graph
from meltemi.lang._clauses import on_clause, report_dropped
from meltemi.lang._inline import parse_inline
from meltemi.lang._policies import POLICY_KEYS, policies
from meltemi.lang._reader import WORD, Reader, join_path
from meltemi.lang._yaml import JsonValue, Node
from meltemi.lang.errors import Severity
from meltemi.lang.specs import (
    ENGINE_COMMANDS,
    ClauseKind,
    Data,
    Expr,
    TaskDefaults,
    TaskSpec,
    TaskType,
    WithItemsSpec,
    WorkflowSpec,
    WorkflowType,
)

MAX_TASK_NAME: Final = 255
MAX_JOIN_TASK_NAME: Final = MAX_TASK_NAME - 47

_CLAUSE_KEYS: Final = tuple(kind.value for kind in ClauseKind)
_TASK_KEYS: Final = frozenset(
    {
        "name",
        "version",
        "type",
        "description",
        "tags",
        "action",
        "workflow",
        "input",
        "with-items",
        "publish",
        "publish-on-error",
        "publish-on-skip",
        "target",
        "keep-result",
        "safe-rerun",
        *POLICY_KEYS,
    }
)
_DIRECT_TASK_KEYS: Final = _TASK_KEYS | {"join", *_CLAUSE_KEYS}
_REVERSE_TASK_KEYS: Final = _TASK_KEYS | {"requires"}
_TASK_DEFAULTS_KEYS: Final = frozenset({*POLICY_KEYS, *_CLAUSE_KEYS, "safe-rerun", "requires"})
_WORKFLOW_KEYS: Final = frozenset(
    {
        "name",
        "version",
        "type",
        "description",
        "tags",
        "input",
        "output",
        "output-on-error",
        "vars",
        "task-defaults",
        "tasks",
    }
)
_WITH_ITEMS: Final = re.compile(r"\s*([\w\-]+)\s*in\s*(\[.+\]|({{(.*?)}})|<%.*?%>)")
_UUID: Final = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
)


def build_workflow(
    reader: Reader, name: str, node: Node, path: str, key_node: Node | None = None
) -> WorkflowSpec | None:
    """A workflow spec from its mapping node; None when it is not a mapping at all.

    ``key_node`` is the key that names the workflow (where to point when something
    is wrong with the workflow as a whole).
    """
    if not reader.mapping(node, path, f"workflow '{name}'"):
        return None
    named_at = key_node or node
    reader.check_keys(node, path, _WORKFLOW_KEYS, f"workflow '{name}'")
    if _UUID.match(name):
        reader.error(
            named_at,
            path,
            "bad-name",
            f"the workflow name '{name}' looks like a UUID",
            "give the workflow a name that is not a UUID; UUIDs identify stored workflows",
        )

    wf_type = WorkflowType.DIRECT
    type_node = node.get("type")
    if type_node is not None:
        if type_node.scalar in ("direct", "reverse"):
            wf_type = WorkflowType(str(type_node.scalar))
        else:
            reader.error(
                type_node,
                join_path(path, "type"),
                "bad-value",
                f"workflow type must be 'direct' or 'reverse', not {_shown(type_node)}",
                "write type: direct (the default, with on-success etc.) or type: reverse "
                "(with requires)",
            )

    fields: dict[str, object] = {"name": name, "type": wf_type, "line": node.line}
    first_transition = len(reader.transitions)
    _read_fields(reader, node, path, _WORKFLOW_FIELDS, fields, _Owner(name, wf_type))
    tasks_node = node.get("tasks")
    tasks: dict[str, TaskSpec] = {}
    if tasks_node is None:
        reader.error(
            named_at,
            path,
            "missing-attribute",
            f"workflow '{name}' has no 'tasks'",
            "add a 'tasks:' mapping with at least one task",
        )
    elif not tasks_node.is_map or not tasks_node.entries:
        reader.error(
            tasks_node,
            join_path(path, "tasks"),
            "wrong-type",
            f"'tasks' must be a non-empty mapping of task names to tasks, "
            f"not {tasks_node.describe()}",
        )
    else:
        tasks_path = join_path(path, "tasks")
        for task_name, key_node, task_node in tasks_node.unique_entries():
            task = _task(
                reader, task_name, key_node, task_node, join_path(tasks_path, task_name), wf_type
            )
            if task is not None:
                tasks[task_name] = task
    fields["tasks"] = tasks
    fields["source"] = _mistral_form(node, name, wf_type)
    spec = WorkflowSpec(**fields)  # type: ignore[arg-type]  # keys are WorkflowSpec fields
    if tasks_node is not None and tasks:
        check_graph(reader, spec, node, tasks_node, path, first_transition)
    return spec


def _mistral_form(node: Node, name: str, wf_type: WorkflowType) -> dict[str, JsonValue]:
    """The workflow as Mistral keeps it: the mapping as written, with its name and
    version added, and each task with its name, version and the workflow's type."""
    data = node.to_python()
    if not isinstance(data, dict):
        return {}
    data.update(name=name, version="2.0")
    tasks = data.get("tasks")
    if isinstance(tasks, dict):
        for task_name, task in tasks.items():
            if isinstance(task, dict):
                task.update(name=task_name, version="2.0", type=str(wf_type))
    return data


def _shown(node: Node) -> str:
    return f"'{node.scalar}'" if node.is_scalar else node.describe()


def _vars(reader: Reader, node: Node, path: str) -> dict[str, Data]:
    result = reader.named_data(node, path, "'vars'")
    for key, key_node, _value in node.unique_entries() if node.is_map else ():
        if key in ("__execution", "__env", "__task_execution", "openstack"):
            reader.error(
                key_node,
                join_path(path, key),
                "reserved-name",
                f"'{key}' is a name the engine reserves for its own data",
                "rename the variable",
            )
    return result


@dataclass(frozen=True, slots=True)
class _Owner:
    """The workflow or task whose attributes are being read."""

    name: str
    wf_type: WorkflowType


_FieldReader = Callable[[Reader, Node, str, _Owner], object]


def _read_fields(
    reader: Reader,
    node: Node,
    path: str,
    table: Mapping[str, tuple[str, _FieldReader]],
    fields: dict[str, object],
    owner: _Owner,
) -> None:
    """Reads each attribute that has an entry in ``table`` into ``fields``."""
    for key, _k, value in node.unique_entries():
        entry = table.get(key)
        if entry is not None:
            field_name, read = entry
            fields[field_name] = read(reader, value, join_path(path, key), owner)


_WORKFLOW_FIELDS: Final[Mapping[str, tuple[str, _FieldReader]]] = {
    "description": ("description", lambda r, n, p, o: r.description(n, p)),
    "tags": ("tags", lambda r, n, p, o: r.tags(n, p)),
    "input": ("input", lambda r, n, p, o: r.params(n, p, "workflow inputs")),
    "output": ("output", lambda r, n, p, o: r.named_data(n, p, "'output'")),
    "output-on-error": (
        "output_on_error",
        lambda r, n, p, o: r.named_data(n, p, "'output-on-error'"),
    ),
    "vars": ("vars", lambda r, n, p, o: _vars(r, n, p)),
    "task-defaults": ("task_defaults", lambda r, n, p, o: _task_defaults(r, n, p, o.wf_type)),
}


# -- tasks ---------------------------------------------------------------------------------


def _task(
    reader: Reader,
    name: str,
    key_node: Node,
    node: Node,
    path: str,
    wf_type: WorkflowType,
) -> TaskSpec | None:
    _check_task_name(reader, name, key_node, path)
    if not node.is_map or not node.entries:
        reader.error(
            node,
            path,
            "wrong-type",
            f"task '{name}' must be a non-empty mapping of task attributes, not {node.describe()}",
            "give the task at least an 'action' or a 'workflow'",
        )
        return None
    allowed = _DIRECT_TASK_KEYS if wf_type is WorkflowType.DIRECT else _REVERSE_TASK_KEYS
    _check_task_keys(reader, node, path, allowed, name, wf_type)

    fields: dict[str, object] = {"name": name, "line": key_node.line}
    inline = _action_or_workflow(reader, node, path, name, fields)
    _read_fields(reader, node, path, _TASK_FIELDS, fields, _Owner(name, wf_type))
    input_value = fields.pop("input", {})
    if inline:
        if isinstance(input_value, dict):
            input_value = {**input_value, **inline}
        else:
            # Mistral cannot merge parameters into a string and fails to register it.
            command = node.get("action") or node.get("workflow") or node
            reader.error(
                command,
                join_path(path, "action" if node.get("action") else "workflow"),
                "inline-params-with-input-expression",
                f"task '{name}' has inline parameters and an 'input' that is an expression; "
                "they cannot be merged",
                "move the inline parameters into the 'input' expression, or make 'input' a mapping",
            )
    fields.pop("_type", None)
    fields["input"] = input_value
    fields["policies"] = policies(reader, node, path)
    return TaskSpec(**fields)  # type: ignore[arg-type]  # keys are TaskSpec fields


def _action_or_workflow(
    reader: Reader, node: Node, path: str, name: str, fields: dict[str, object]
) -> dict[str, JsonValue]:
    """Reads 'action' or 'workflow' into ``fields``; returns their inline parameters."""
    action_node, workflow_node = node.get("action"), node.get("workflow")
    inline: dict[str, JsonValue] = {}
    if action_node is not None and workflow_node is not None:
        reader.error(
            workflow_node,
            join_path(path, "workflow"),
            "action-and-workflow",
            f"task '{name}' has both 'action' and 'workflow'",
            "a task runs either one action or one sub-workflow; split it into two tasks",
        )
    if action_node is not None:
        fields["action"], inline = _command(
            reader, action_node, join_path(path, "action"), "action"
        )
    elif workflow_node is not None:
        fields["workflow"], inline = _command(
            reader, workflow_node, join_path(path, "workflow"), "workflow"
        )
        fields["type"] = TaskType.WORKFLOW
    else:
        fields["action"] = "std.noop"
    return inline


def _or(value: bool | Expr | None, default: bool) -> bool | Expr:
    return default if value is None else value


def _clause_field(kind: str) -> tuple[str, _FieldReader]:
    return kind.replace("-", "_"), lambda r, n, p, o: on_clause(r, n, p, kind)


def _publish_field(key: str) -> tuple[str, _FieldReader]:
    return key.replace("-", "_"), lambda r, n, p, o: r.named_data(n, p, f"'{key}'")


_TASK_FIELDS: Final[Mapping[str, tuple[str, _FieldReader]]] = {
    "description": ("description", lambda r, n, p, o: r.description(n, p)),
    "tags": ("tags", lambda r, n, p, o: r.tags(n, p)),
    "type": ("_type", lambda r, n, p, o: _check_type_echo(r, n, p, o.wf_type)),
    "input": ("input", lambda r, n, p, o: _task_input(r, n, p)),
    "with-items": ("with_items", lambda r, n, p, o: _with_items(r, n, p)),
    "publish": _publish_field("publish"),
    "publish-on-error": _publish_field("publish-on-error"),
    "publish-on-skip": _publish_field("publish-on-skip"),
    "target": ("target", lambda r, n, p, o: r.string(n, p, "'target'")),
    "keep-result": (
        "keep_result",
        lambda r, n, p, o: _or(r.bool_or_expression(n, p, "'keep-result'"), True),
    ),
    "safe-rerun": ("safe_rerun", lambda r, n, p, o: r.bool_or_expression(n, p, "'safe-rerun'")),
    "join": ("join", lambda r, n, p, o: _join(r, o.name, n, p)),
    "requires": (
        "requires",
        lambda r, n, p, o: r.string_list(n, p, "'requires'", allow_single=True),
    ),
    **{kind: _clause_field(kind) for kind in _CLAUSE_KEYS},
}


def _check_task_name(reader: Reader, name: str, key_node: Node, path: str) -> None:
    if len(name) > MAX_TASK_NAME:
        reader.error(
            key_node,
            path,
            "name-too-long",
            f"task name is {len(name)} characters long; the limit is {MAX_TASK_NAME}",
            "shorten the task name",
        )
    if name in ENGINE_COMMANDS:
        # Mistral accepts the task; it runs only as a start task, since a transition
        # to its name runs the engine command.
        reader.warning(
            key_node,
            path,
            "reserved-name",
            f"'{name}' is an engine command: a transition to '{name}' runs the command, "
            "never this task",
            "rename the task",
        )


def _check_task_keys(
    reader: Reader,
    node: Node,
    path: str,
    allowed: frozenset[str],
    name: str,
    wf_type: WorkflowType,
) -> None:
    for key, key_node, _value in node.unique_entries():
        if key in allowed:
            continue
        if wf_type is WorkflowType.DIRECT and key == "requires":
            reader.error(
                key_node,
                join_path(path, key),
                "wrong-workflow-type",
                f"'requires' is only allowed in reverse workflows (task '{name}')",
                "set 'type: reverse' on the workflow, or use on-success transitions",
            )
        elif wf_type is WorkflowType.REVERSE and key in (*_CLAUSE_KEYS, "join"):
            reader.error(
                key_node,
                join_path(path, key),
                "wrong-workflow-type",
                f"'{key}' is only allowed in direct workflows (task '{name}')",
                "reverse workflows order tasks with 'requires'; or remove 'type: reverse'",
            )
        else:
            reader.unknown_attribute(key_node, path, key, allowed, f"task '{name}'")


def _check_type_echo(reader: Reader, node: Node, path: str, wf_type: WorkflowType) -> None:
    # Mistral overwrites a task's 'type' with its workflow's, so any value passes.
    if node.scalar != wf_type.value:
        reader.warning(
            node,
            path,
            "type-ignored",
            f"a task's 'type' is always its workflow's type ('{wf_type.value}'); "
            f"{_shown(node)} is ignored",
            "remove 'type' from the task",
        )


def _command(
    reader: Reader, node: Node, path: str, what: str
) -> tuple[str | None, dict[str, JsonValue]]:
    text = reader.string(node, path, f"'{what}'", expressions=False)
    if text is None:
        return None, {}
    parsed = parse_inline(text)
    if parsed.command is None:
        reader.error(
            node,
            path,
            "bad-command",
            f"'{text}' does not start with an {what} name",
            f"write '{what}: <name> param=value ...'",
        )
        return None, {}
    reader.check_expressions(node, path, text)
    report_dropped(reader, node, path, text, parsed.dropped)
    return parsed.command, parsed.params


def _task_input(reader: Reader, node: Node, path: str) -> dict[str, Data] | Expr:
    if node.is_str:
        text = str(node.scalar)
        if text and is_whole_expression(text):
            reader.check_expressions(node, path, text)
            return Expr(text)
        if text:
            reader.check_expressions(node, path, text)
            reader.warning(
                node,
                path,
                "input-not-mapping",
                "'input' is a string that is not one expression; it cannot give a mapping",
                "write input as a mapping of parameter names to values, or as one expression",
            )
            return Expr(text)
    if node.is_map and node.entries:
        result: dict[str, Data] = {}
        for key, key_node, value in node.unique_entries():
            if not WORD.match(key):
                reader.warning(
                    key_node,
                    join_path(path, key),
                    "bad-name",
                    f"'{key}' is not a plain name; actions take parameters named with "
                    "letters, digits and underscores",
                )
            result[key] = reader.data(value, join_path(path, key))
        return result
    reader.error(
        node,
        path,
        "wrong-type",
        f"'input' must be a non-empty mapping or an expression, not {node.describe()}",
    )
    return {}


def _with_items(reader: Reader, node: Node, path: str) -> tuple[WithItemsSpec, ...]:
    entries: list[tuple[Node, str]] = []
    if node.is_str and node.scalar:
        entries.append((node, path))
    elif node.is_seq and node.items:
        entries.extend((item, join_path(path, i)) for i, item in enumerate(node.items))
    else:
        reader.error(
            node,
            path,
            "wrong-type",
            f"'with-items' must be 'var in <list>' or a list of them, not {node.describe()}",
            "e.g. with-items: host in <% $.hosts %>",
        )
        return ()
    result: list[WithItemsSpec] = []
    names: set[str] = set()
    for item, item_path in entries:
        spec = _with_item(reader, item, item_path)
        if spec is None:
            continue
        if spec.var in names:
            reader.error(
                item,
                item_path,
                "duplicate",
                f"the with-items variable '{spec.var}' is defined twice",
                "give each list its own variable name",
            )
            continue
        names.add(spec.var)
        result.append(spec)
    return tuple(result)


def _with_item(reader: Reader, node: Node, path: str) -> WithItemsSpec | None:
    if not node.is_str:
        reader.error(
            node, path, "wrong-type", f"a with-items entry must be a string, not {node.describe()}"
        )
        return None
    text = str(node.scalar)
    match = _WITH_ITEMS.match(text)
    if match is None:
        reader.error(
            node,
            path,
            "bad-with-items",
            f"'{text}' is not of the form 'var in <list>'",
            "write 'name in <% $.list %>' or 'name in [1, 2, 3]'",
        )
        return None
    var, source = match.group(1), match.group(2)
    if source.startswith("["):
        try:
            items = json.loads(source)
        except json.JSONDecodeError as e:
            line, column = reader.source.locate_in_node(node, source, 0)
            reader.report(
                line,
                column,
                path,
                "bad-with-items",
                f"the list {source} is not valid JSON: {e.msg}",
                'write the list as JSON, e.g. ["a", "b"], or use an expression',
                Severity.ERROR,
            )
            return None
        if not isinstance(items, list):
            return None
        return WithItemsSpec(var=var, source=items)
    reader.check_expressions(node, path, source)
    return WithItemsSpec(var=var, source=Expr(source))


def _join(reader: Reader, name: str, node: Node, path: str) -> Literal["all"] | int | None:
    value = node.scalar
    if len(name) > MAX_JOIN_TASK_NAME:
        reader.error(
            node,
            path,
            "name-too-long",
            f"a join task name may have at most {MAX_JOIN_TASK_NAME} characters; "
            f"'{name[:20]}...' has {len(name)}",
            "shorten the task name",
        )
    if value == "all":
        return "all"
    if value == "one":
        return 1
    if node.is_scalar and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    shown = f"'{value}'" if node.is_str else node.describe()
    reader.error(
        node,
        path,
        "bad-value",
        f"'join' must be 'all', 'one' or a number of tasks (0 or more), not {shown}",
        "join: all waits for every inbound task; join: 2 starts the task once two have arrived",
    )
    return None


# -- task-defaults ---------------------------------------------------------------------------


def _task_defaults(reader: Reader, node: Node, path: str, wf_type: WorkflowType) -> TaskDefaults:
    if not node.is_map or not node.entries:
        reader.error(
            node, path, "wrong-type", f"'task-defaults' must be a mapping, not {node.describe()}"
        )
        return TaskDefaults()
    reader.check_keys(node, path, _TASK_DEFAULTS_KEYS, "'task-defaults'")
    fields: dict[str, object] = {"policies": policies(reader, node, path)}
    for key, _k, value in node.unique_entries():
        key_path = join_path(path, key)
        if key == "safe-rerun":
            fields["safe_rerun"] = reader.bool_or_expression(value, key_path, "'safe-rerun'")
        elif key == "requires":
            fields["requires"] = reader.string_list(
                value, key_path, "'requires'", allow_single=True
            )
        elif key in _CLAUSE_KEYS:
            fields[key.replace("-", "_")] = on_clause(reader, value, key_path, key)
    return TaskDefaults(**fields)  # type: ignore[arg-type]  # keys are TaskDefaults fields
