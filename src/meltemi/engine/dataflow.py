"""How data flows between tasks: inbound and outbound contexts, and expression scopes.

A task's *outbound* context is its inbound context updated with what it published;
its *inbound* context is the outbound context of the task that triggered it, or for
a join the merge of the outbound contexts of the tasks that reached it. Contexts are
derived from the published data stored with each task, never stored themselves, and
memoised per task record.

Joins merge by version, as Mistral does: every publish of a key along a path bumps
its version, and when two branches both carry a key the one published more times
wins. This makes the last writer win along a path and lets a join see each branch's
newest value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from meltemi import expressions
from meltemi.engine.records import JsonValue, RunKind, TaskExecution, WorkflowExecution
from meltemi.engine.state import ExecutionState
from meltemi.lang._serialize import to_json


class Context:
    """Context values, and how many times each (dotted) key was published.

    Versions are only needed when contexts merge (joins, the final context), so a
    context built from its parent by a publish keeps the parent and the published
    data and works its versions out when first asked: a long chain of tasks never
    copies version tables it does not use.
    """

    __slots__ = ("_parent", "_published", "_versions", "values")

    def __init__(
        self,
        values: Mapping[str, JsonValue],
        versions: Mapping[str, int] | None = None,
        *,
        parent: Context | None = None,
        published: Mapping[str, JsonValue] | None = None,
    ) -> None:
        self.values = values
        self._versions = versions
        self._parent = parent
        self._published = published

    @property
    def versions(self) -> Mapping[str, int]:
        known = self._versions
        if known is not None:
            return known
        # Walk up to the nearest context that knows its versions (no recursion).
        pending: list[Context] = []
        current: Context | None = self
        while current is not None and current._versions is None:
            pending.append(current)
            current = current._parent
        table: Mapping[str, int] = {}
        if current is not None and current._versions is not None:
            table = current._versions
        for context in reversed(pending):
            table = _bumped(table, context._published or {})
            context._versions = table
            context._parent = None
        return table


EMPTY = Context({}, {})
# A published value with more leaves than this is versioned as one key: per-leaf
# versions of big documents would cost more than any merge could gain from them.
_MAX_VERSIONED_LEAVES = 64


def _published_keys(published: Mapping[str, JsonValue], prefix: str = "") -> Iterator[str]:
    for key, value in published.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value and _leaves(value) <= _MAX_VERSIONED_LEAVES:
            yield from _published_keys(value, dotted)
        else:
            yield dotted


def _leaves(value: Mapping[str, JsonValue], limit: int = _MAX_VERSIONED_LEAVES) -> int:
    count = 0
    for item in value.values():
        count += _leaves(item, limit - count) if isinstance(item, dict) and item else 1
        if count > limit:
            break
    return count


def _bumped(versions: Mapping[str, int], published: Mapping[str, JsonValue]) -> dict[str, int]:
    table = dict(versions)
    for key in _published_keys(published):
        table[key] = table.get(key, 0) + 1
    return table


def _with_published(context: Context, published: Mapping[str, JsonValue]) -> Context:
    if not published:
        return context
    return Context({**context.values, **published}, parent=context, published=published)


def merge(left: Context, right: Context) -> Context:
    """Merges two branch contexts; on a clash the value published more often wins."""
    values = _merge_values(dict(left.values), left.versions, right.values, right.versions, "")
    versions = dict(left.versions)
    for key, version in right.versions.items():
        versions[key] = max(versions.get(key, 0), version)
    return Context(values, versions)


def _merge_values(
    left: dict[str, JsonValue],
    left_versions: Mapping[str, int],
    right: Mapping[str, JsonValue],
    right_versions: Mapping[str, int],
    prefix: str,
) -> dict[str, JsonValue]:
    for key, value in right.items():
        if key not in left:
            left[key] = value
            continue
        dotted = f"{prefix}.{key}" if prefix else key
        current = left[key]
        if isinstance(current, dict) and isinstance(value, dict):
            left[key] = _merge_values(dict(current), left_versions, value, right_versions, dotted)
        elif right_versions.get(dotted, 0) > left_versions.get(dotted, 0):
            left[key] = value
    return left


def merge_all(contexts: list[Context]) -> Context:
    """Merges contexts the way Mistral merges a join's inbound contexts."""
    if not contexts:
        return EMPTY
    result = contexts[-1]
    for context in contexts[:-1]:
        result = merge(result, context)
    return result


# The event of a failed join's triggers: inbound tasks that did not lead to it.
NOT_TRIGGERED = "not triggered"


def inbound(state: ExecutionState, task: TaskExecution) -> Context:
    """The inbound context of a task execution."""
    key = "in:" + task.id
    cached = state.contexts.get(key)
    if cached is not None and cached[0] is task:
        return cached[1]  # type: ignore[no-any-return]  # (record, Context) pairs
    ids = [t.task_id for t in task.triggered_by if t.event != NOT_TRIGGERED]
    if not ids and _is_join(state, task):
        # A join that never started (failed by its inbound tasks): as in Mistral, it
        # sees what the inbound tasks that did reach it published.
        ids = [task_id for task_id, _event in state.join_progress(task.name)[0].values()]
    sources = [state.task(i) for i in ids if i in state.tasks]
    result = merge_all([outbound(state, s) for s in sources])
    state.contexts[key] = (task, result)
    return result


def _is_join(state: ExecutionState, task: TaskExecution) -> bool:
    spec = state.spec.tasks.get(task.name)
    return spec is not None and spec.join is not None


def outbound(state: ExecutionState, task: TaskExecution) -> Context:
    """The outbound context of a task execution (inbound + published)."""
    _prepare_chain(state, task)
    return _outbound_cached(state, task)


def _outbound_cached(state: ExecutionState, task: TaskExecution) -> Context:
    key = "out:" + task.id
    cached = state.contexts.get(key)
    if cached is not None and cached[0] is task:
        return cached[1]  # type: ignore[no-any-return]  # (record, Context) pairs
    result = _with_published(inbound(state, task), task.published)
    state.contexts[key] = (task, result)
    return result


def _prepare_chain(state: ExecutionState, task: TaskExecution) -> None:
    """Fills the memo along long trigger chains without deep recursion."""
    pending: list[TaskExecution] = []
    stack = [task]
    seen: set[str] = set()
    while stack:
        current = stack.pop()
        if current.id in seen:
            continue
        seen.add(current.id)
        cached = state.contexts.get("out:" + current.id)
        if cached is not None and cached[0] is current:
            continue
        pending.append(current)
        stack.extend(
            state.task(t.task_id) for t in current.triggered_by if t.task_id in state.tasks
        )
    for current in sorted(pending, key=lambda t: t.seq):
        _outbound_cached(state, current)


def final_context(state: ExecutionState) -> Context:
    """The merged outbound contexts of the tasks that ended a path (no next tasks)."""
    ends = [t for t in state.iter_tasks() if t.is_completed and not t.next_tasks]
    return merge_all([outbound(state, t) for t in ends])


class ContextView(Mapping[str, JsonValue]):
    """Read-only layers of dictionaries; the first layer holding a key wins."""

    __slots__ = ("_layers",)

    def __init__(self, *layers: Mapping[str, JsonValue] | None) -> None:
        self._layers = [layer for layer in layers if layer]

    def __getitem__(self, key: str) -> JsonValue:
        for layer in self._layers:
            if key in layer:
                return layer[key]
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        for layer in self._layers:
            if key in layer:
                return layer[key]
        return default

    def __contains__(self, key: object) -> bool:
        return any(key in layer for layer in self._layers)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for layer in self._layers:
            for key in layer:
                if key not in seen:
                    seen.add(key)
                    yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"ContextView({dict(self)!r})"


def task_marker(task: TaskExecution) -> dict[str, JsonValue]:
    return {"__task_execution": {"id": task.id, "name": task.name}}


def env_layer(state: ExecutionState) -> dict[str, JsonValue]:
    return {"__env": dict(state.workflow.env)}


def task_scope(
    state: ExecutionState, task: TaskExecution, extra: Mapping[str, JsonValue] | None = None
) -> ContextView:
    """Where a task's input, with-items, target and policies are evaluated."""
    wf = state.workflow
    return ContextView(
        task_marker(task),
        env_layer(state),
        extra,
        inbound(state, task).values,
        wf.context,
        wf.input,
    )


def publish_scope(state: ExecutionState, task: TaskExecution) -> ContextView:
    wf = state.workflow
    return ContextView(
        task_marker(task), inbound(state, task).values, env_layer(state), wf.context, wf.input
    )


def transition_scope(state: ExecutionState, task: TaskExecution) -> ContextView:
    wf = state.workflow
    return ContextView(
        task_marker(task), outbound(state, task).values, env_layer(state), wf.context, wf.input
    )


def workflow_scope(state: ExecutionState, first: Mapping[str, JsonValue] | None) -> ContextView:
    wf = state.workflow
    return ContextView(first, env_layer(state), wf.context, wf.input)


def format_time(value: Any) -> str | None:
    if value is None:
        return None
    return str(value.strftime("%Y-%m-%d %H:%M:%S"))


class Host:
    """What expression functions (task(), execution(), env(), ...) read, from a state."""

    __slots__ = ("_current", "_state")

    def __init__(self, state: ExecutionState, current: TaskExecution | None) -> None:
        self._state = state
        self._current = current

    def env(self) -> JsonValue:
        return dict(self._state.workflow.env)

    def execution(self) -> JsonValue:
        wf = self._state.workflow
        return {
            "id": wf.id,
            "name": wf.workflow_name,
            "spec": to_json(self._state.spec.source or self._state.spec),
            "input": dict(wf.input),
            "params": dict(wf.params),
            "created_at": format_time(wf.created_at),
            "updated_at": format_time(wf.updated_at),
            "root_execution_id": wf.root_id if wf.root_id != wf.id else None,
        }

    def task(self, name: str | None) -> JsonValue:
        if name is None:
            task = self._current
            if task is not None:
                task = self._state.tasks.get(task.id, task)
        else:
            task = self._state.latest(name)
        return task_dict(self._state, task) if task is not None else None

    def tasks(
        self,
        workflow_execution_id: str | None,
        recursive: bool,
        state: str | None,
        flat: bool,
    ) -> JsonValue:
        """Mistral's ``tasks()``: the tasks of one execution (with ``recursive``, of its
        sub-workflows too, depth first after its own), or without an id those of every
        execution; ``state`` keeps the tasks in that state, ``flat`` drops sub-workflow
        tasks in the same state as their sub-workflow. Without a world (a bare engine)
        only this execution is known."""
        world = self._state.world
        if workflow_execution_id is None:
            ids = world.execution_ids() if world is not None else [self._state.workflow.id]
            found: list[JsonValue] = []
            for wf_id in ids:
                found += self._tasks_of(wf_id, recursive=False, state=state, flat=flat)
            return found
        return self._tasks_of(workflow_execution_id, recursive=recursive, state=state, flat=flat)

    def _tasks_of(
        self, wf_id: str, *, recursive: bool, state: str | None, flat: bool
    ) -> list[JsonValue]:
        execution = self._execution_state(wf_id)
        if execution is None:
            return []
        own: list[JsonValue] = []
        nested: list[JsonValue] = []
        for task in execution.iter_tasks():
            children = [
                r for r in execution.runs_of(task.id) if r.kind is RunKind.WORKFLOW and r.accepted
            ]
            wanted = state is None or task.state == state
            if flat and any(child.state == task.state for child in children):
                wanted = False
            if wanted:
                own.append(task_dict(execution, task))
            if recursive:
                for child in children:
                    nested += self._tasks_of(child.id, recursive=True, state=state, flat=flat)
        return own + nested

    def _execution_state(self, wf_id: str) -> ExecutionState | None:
        if wf_id == self._state.workflow.id:
            return self._state
        world = self._state.world
        return world.state_of(wf_id) if world is not None else None

    def global_var(self, name: str) -> JsonValue:
        return self._state.workflow.context.get(name)

    def executions(
        self,
        id: str | None,  # the name of the function's parameter in workflows
        root_execution_id: str | None,
        state: str | None,
        from_time: str | None,
        to_time: str | None,
    ) -> JsonValue:
        """Mistral's ``executions()``: the workflow executions matching every filter;
        this execution as it is now, the others as stored."""
        wf = self._state.workflow
        world = self._state.world
        if world is None:
            rows = [execution_dict(wf)]
        else:
            rows = world.executions(
                id=id,
                root_execution_id=root_execution_id,
                state=state,
                from_time=from_time,
                to_time=to_time,
            )
            rows = [execution_dict(wf) if row.get("id") == wf.id else row for row in rows]
        return [
            row
            for row in rows
            if (id is None or row["id"] == id)
            and (root_execution_id is None or row["root_execution_id"] == root_execution_id)
            and (state is None or row["state"] == state)
        ]


def _task_spec(state: ExecutionState, name: str) -> JsonValue:
    """A task's spec as Mistral shows it (as written, with its name, version, type)."""
    tasks = state.spec.source.get("tasks")
    if isinstance(tasks, Mapping) and isinstance(tasks.get(name), Mapping):
        return to_json(tasks[name])
    spec = state.spec.tasks.get(name)
    return to_json(spec) if spec is not None else None


def task_dict(state: ExecutionState, task: TaskExecution) -> dict[str, JsonValue]:
    """A task execution as ``task()`` and ``tasks()`` give it (Mistral's fields)."""
    return {
        "id": task.id,
        "name": task.name,
        "spec": _task_spec(state, task.name),
        "state": str(task.state),
        "state_info": task.state_info,
        "result": _result_so_far(state, task),
        "published": dict(task.published),
        "type": str(task.type),
        "workflow_execution_id": task.workflow_execution_id,
        "created_at": format_time(task.created_at),
        "updated_at": format_time(task.updated_at),
    }


def _result_so_far(state: ExecutionState, task: TaskExecution) -> JsonValue:
    """A task's result; for one still going, Mistral's from its finished runs: an
    empty list before any finished (also in the task's own input), the output of a
    single one, or the list of them (always a list for with-items)."""
    if task.result is not None or task.is_completed:
        return task.result
    done = sorted(
        (r for r in state.runs_of(task.id) if r.accepted and r.is_completed),
        key=lambda r: r.index,
    )
    results: list[JsonValue] = [r.output for r in done]
    spec = state.spec.tasks.get(task.name)
    if len(results) == 1 and (spec is None or not spec.with_items):
        return results[0]
    return results


def execution_dict(wf: WorkflowExecution) -> dict[str, JsonValue]:
    """A workflow execution as ``executions()`` gives it."""
    return {
        "id": wf.id,
        "name": wf.workflow_name,
        "workflow_name": wf.workflow_name,
        "workflow_id": wf.workflow_id,
        "workflow_namespace": wf.namespace,
        "description": wf.description,
        "state": str(wf.state),
        "state_info": wf.state_info,
        "input": dict(wf.input),
        "output": dict(wf.output) if isinstance(wf.output, Mapping) else wf.output,
        "params": dict(wf.params),
        "task_execution_id": wf.task_execution_id,
        "root_execution_id": wf.root_id if wf.root_id != wf.id else None,
        "created_at": format_time(wf.created_at),
        "updated_at": format_time(wf.updated_at),
    }


def evaluate(
    state: ExecutionState,
    value: JsonValue,
    scope: Mapping[str, JsonValue],
    task: TaskExecution | None,
) -> JsonValue:
    """Evaluates expressions in ``value``; raises expressions.EvaluationError."""
    return expressions.evaluate(
        value, scope, Host(state, task), task=task.name if task is not None else None
    )
