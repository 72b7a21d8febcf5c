"""The built-in expression functions (``env()``, ``task()``, ``json_dump()``...).

Both languages call the same ``Functions`` object, built once per evaluation from
the host and the data root. Signatures and parameter names follow Mistral's
``std_functions`` so keyword calls (``tasks(state => 'ERROR')``,
``tasks(state='ERROR')``) keep working; what comes from the engine is asked of the
``ExpressionHost``.
"""

from __future__ import annotations

import json
import uuid as _uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Set
from typing import Any, Final

import jinja2
import yaml

from meltemi.expressions._host import ExpressionHost, JsonValue

# Where the evaluation's Functions object is kept in a YAQL context and in a Jinja
# render context. Neither name can be written in an expression (YAQL variables are
# ``$\w*``, Jinja names are identifiers), so workflows cannot reach the host.
FUNCTIONS_KEY: Final = "#functions"

NAMES: Final = (
    "env",
    "execution",
    "executions",
    "global",
    "json_dump",
    "json_parse",
    "json_pp",
    "task",
    "tasks",
    "uuid",
    "yaml_dump",
    "yaml_parse",
)


class FunctionUnavailableError(Exception):
    """A function needs the running engine, and this evaluation has none."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name}() is only available while an execution runs")


def _mapping_get(data: object, key: str) -> Any:
    return data.get(key) if isinstance(data, Mapping) else None


class Functions:
    """The built-in functions of one evaluation: the host plus the data root.

    Without a host, ``env()`` reads ``__env`` from the data (as Mistral's does) and
    the functions that need the engine raise ``FunctionUnavailableError``.
    """

    __slots__ = ("data", "host")

    def __init__(self, host: ExpressionHost | None, data: object) -> None:
        self.host = host
        self.data = data

    def _need_host(self, name: str) -> ExpressionHost:
        if self.host is None:
            raise FunctionUnavailableError(name)
        return self.host

    def env(self) -> JsonValue:
        if self.host is None:
            return _mapping_get(self.data, "__env")
        return self.host.env()

    def execution(self) -> JsonValue:
        return self._need_host("execution").execution()

    def executions(
        self,
        id: str | None = None,  # the parameter's name in workflows
        root_execution_id: str | None = None,
        state: str | None = None,
        from_time: str | None = None,
        to_time: str | None = None,
    ) -> JsonValue:
        return self._need_host("executions").executions(
            id, root_execution_id, state, from_time, to_time
        )

    def task(self, task_name: str | None = None) -> JsonValue:
        host = self._need_host("task")
        # As in Mistral: no name, or the current task's own name, means the current
        # task execution (not the latest one of that name, which differs in loops).
        current = _mapping_get(self.data, "__task_execution")
        if current and (not task_name or _mapping_get(current, "name") == task_name):
            return host.task(None)
        return host.task(task_name or None)

    def tasks(
        self,
        workflow_execution_id: str | None = None,
        recursive: bool = False,
        state: str | None = None,
        flat: bool = False,
    ) -> JsonValue:
        return self._need_host("tasks").tasks(workflow_execution_id, recursive, state, flat)

    def global_(self, var_name: str) -> JsonValue:
        return self._need_host("global").global_var(var_name)

    def json_dump(self, data: Any) -> str:
        return json.dumps(data, indent=4, default=_plain)

    def json_pp(self, data: Any = None) -> str:
        # Deprecated in Mistral (and removed there); kept so old workflows still run.
        dumped = json.dumps(data or self.data, indent=4, default=_plain)
        return dumped.replace("\\n", "\n").replace(" \n", "\n")

    def json_parse(self, data: Any) -> JsonValue:
        return json.loads(data)

    def yaml_dump(self, data: Any) -> str:
        return yaml.dump(data, Dumper=_Dumper, default_flow_style=False)

    def yaml_parse(self, data: Any) -> JsonValue:
        return yaml.load(data, Loader=_NoAnchorLoader)  # noqa: S506  # a SafeLoader subclass

    def uuid(self) -> str:
        return str(_uuid.uuid4())

    def jinja_globals(self) -> dict[str, Callable[..., Any]]:
        """The functions by the names expressions call them."""
        return {
            "env": self.env,
            "execution": self.execution,
            "executions": self.executions,
            "global": self.global_,
            "json_dump": self.json_dump,
            "json_parse": self.json_parse,
            "json_pp": self.json_pp,
            "task": self.task,
            "tasks": self.tasks,
            "uuid": self.uuid,
            "yaml_dump": self.yaml_dump,
            "yaml_parse": self.yaml_parse,
        }

    def by_name(self, name: str) -> Callable[..., Any]:
        method: Callable[..., Any] = getattr(self, "global_" if name == "global" else name)
        return method


def _plain(value: object) -> object:
    """``json.dumps`` fallback: YAQL hands functions frozen mappings and tuples."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Set | Iterator | Iterable) and not isinstance(value, str | bytes):
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class _Dumper(yaml.SafeDumper):
    """Block-style safe YAML; never writes anchors; writes any Mapping as a mapping."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_mapping(dumper: yaml.SafeDumper, data: Mapping[Any, Any]) -> yaml.Node:
    return dumper.represent_dict(dict(data))


_Dumper.add_multi_representer(Mapping, _represent_mapping)  # type: ignore[type-abstract]  # yaml checks isinstance, abstract bases work


class _NoAnchorLoader(yaml.SafeLoader):
    """Safe YAML where ``&x`` and ``*x`` are plain text, so aliases cannot expand.

    Workflow data never needs anchors, and aliases let a small document expand
    into a huge one ("billion laughs"). A leading ``@`` is plain text too.
    """

    def fetch_alias(self) -> None:
        self.fetch_plain()

    def fetch_anchor(self) -> None:
        self.fetch_plain()

    def check_plain(self) -> bool:
        return self.peek() == "@" or bool(super().check_plain())


# -- YAQL: the functions registered in the root context. yaql injects its context
# into a parameter named ``context``; the other parameter names are Mistral's.


def _of(context: Any) -> Functions:
    functions: Functions = context[FUNCTIONS_KEY]
    return functions


def _yaql_env(context: Any) -> JsonValue:
    return _of(context).env()


def _yaql_execution(context: Any) -> JsonValue:
    return _of(context).execution()


def _yaql_executions(
    context: Any,
    id: str | None = None,
    root_execution_id: str | None = None,
    state: str | None = None,
    from_time: str | None = None,
    to_time: str | None = None,
) -> JsonValue:
    return _of(context).executions(id, root_execution_id, state, from_time, to_time)


def _yaql_global(context: Any, var_name: str) -> JsonValue:
    return _of(context).global_(var_name)


def _yaql_json_dump(context: Any, data: Any) -> str:
    return _of(context).json_dump(data)


def _yaql_json_pp(context: Any, data: Any = None) -> str:
    return _of(context).json_pp(data)


def _yaql_json_parse(context: Any, data: Any) -> JsonValue:
    return _of(context).json_parse(data)


def _yaql_task(context: Any, task_name: str | None = None) -> JsonValue:
    return _of(context).task(task_name)


def _yaql_tasks(
    context: Any,
    workflow_execution_id: str | None = None,
    recursive: bool = False,
    state: str | None = None,
    flat: bool = False,
) -> JsonValue:
    return _of(context).tasks(workflow_execution_id, recursive, state, flat)


def _yaql_uuid(context: Any = None) -> str:
    return str(_uuid.uuid4())


def _yaql_yaml_dump(context: Any, data: Any) -> str:
    return _of(context).yaml_dump(data)


def _yaql_yaml_parse(context: Any, data: Any) -> JsonValue:
    return _of(context).yaml_parse(data)


YAQL_FUNCTIONS: Final[Mapping[str, Callable[..., Any]]] = {
    "env": _yaql_env,
    "execution": _yaql_execution,
    "executions": _yaql_executions,
    "global": _yaql_global,
    "json_dump": _yaql_json_dump,
    "json_parse": _yaql_json_parse,
    "json_pp": _yaql_json_pp,
    "task": _yaql_task,
    "tasks": _yaql_tasks,
    "uuid": _yaql_uuid,
    "yaml_dump": _yaql_yaml_dump,
    "yaml_parse": _yaql_yaml_parse,
}


def jinja_filter(name: str) -> Callable[..., Any]:
    """The Jinja filter ``name``: Mistral passes the filtered value where its
    functions take their data context (``_ | env``, ``_ | task('t1')``)."""

    @jinja2.pass_context
    def apply(render_context: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
        current = render_context.get(FUNCTIONS_KEY)
        host = current.host if isinstance(current, Functions) else None
        return Functions(host, value).by_name(name)(*args, **kwargs)

    apply.__name__ = name
    return apply
