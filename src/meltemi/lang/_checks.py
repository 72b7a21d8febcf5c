"""Checks across a workflow's tasks: transitions, start tasks, joins, requires, reachability."""

from __future__ import annotations

from collections import deque

from meltemi.lang._reader import Reader, join_path, suggest
from meltemi.lang._yaml import Node
from meltemi.lang.errors import Severity
from meltemi.lang.specs import ENGINE_COMMANDS, WorkflowSpec, WorkflowType


def check_graph(
    reader: Reader,
    spec: WorkflowSpec,
    node: Node,
    tasks_node: Node,
    path: str,
    first_transition: int,
) -> None:
    """Runs the checks that need the whole workflow, after its tasks are built."""
    if spec.type is WorkflowType.DIRECT:
        _check_targets(reader, spec, first_transition)
        _check_joins(reader, spec, tasks_node, path)
        if _check_start_tasks(reader, spec, tasks_node, path):
            _check_reachable(reader, spec, first_transition)
    else:
        _check_requires(reader, spec, node, tasks_node, path)


def _check_targets(reader: Reader, spec: WorkflowSpec, first: int) -> None:
    for transition, path in reader.transitions[first:]:
        target = transition.target
        if target in spec.tasks or target in ENGINE_COMMANDS:
            continue
        close = suggest(target, spec.tasks)
        hint = (
            f"did you mean '{close}'?"
            if close
            else (
                "the tasks are: "
                + ", ".join(list(spec.tasks)[:20])
                + (" ..." if len(spec.tasks) > 20 else "")
            )
        )
        reader.report(
            transition.line,
            transition.column,
            path,
            "unknown-task",
            f"transition to unknown task '{target}' in workflow '{spec.name}'",
            hint + "; engine commands are " + ", ".join(sorted(ENGINE_COMMANDS)),
            Severity.ERROR,
        )


def _check_start_tasks(reader: Reader, spec: WorkflowSpec, tasks_node: Node, path: str) -> bool:
    """False (and an error) when no task can start the workflow."""
    if spec.start_tasks():
        return True
    reader.error(
        tasks_node,
        join_path(path, "tasks"),
        "no-start-task",
        f"workflow '{spec.name}' has no task to start with: every task is the target "
        "of a transition",
        "a direct workflow starts with the tasks no transition leads to; "
        "remove the transition into the first task",
    )
    return False


def _task_attr(tasks_node: Node, task: str, key: str) -> Node | None:
    task_node = tasks_node.get(task)
    if task_node is None or not task_node.is_map:
        return None
    return task_node.get(key)


def _check_joins(reader: Reader, spec: WorkflowSpec, tasks_node: Node, path: str) -> None:
    for name, task in spec.tasks.items():
        if task.join is None:
            continue
        inbound = len(spec.inbound(name))
        join_node = _task_attr(tasks_node, name, "join") or tasks_node
        join_path_ = join_path(join_path(join_path(path, "tasks"), name), "join")
        needed = 1 if task.join == "all" else task.join
        if inbound < needed:
            reader.error(
                join_node,
                join_path_,
                "join-inbound",
                f"task '{name}' joins {task.join} inbound tasks but only {inbound} "
                f"task(s) lead to it",
                "add transitions into this task or lower the 'join' number",
            )


def _check_reachable(reader: Reader, spec: WorkflowSpec, first: int) -> None:
    reached: set[str] = set()
    queue = deque(spec.start_tasks())
    reached.update(queue)
    while queue:
        current = queue.popleft()
        for target in spec.outbound(current):
            if target in spec.tasks and target not in reached:
                reached.add(target)
                queue.append(target)
    if len(reached) == len(spec.tasks):
        return
    for transition, path in reader.transitions[first:]:
        target = transition.target
        if target in spec.tasks and target not in reached:
            reader.report(
                transition.line,
                transition.column,
                path,
                "unreachable-task",
                f"task '{target}' can never run: no path from a start task leads to it",
                "make one of its inbound tasks reachable from a start task",
                Severity.WARNING,
            )


def _check_requires(
    reader: Reader, spec: WorkflowSpec, node: Node, tasks_node: Node, path: str
) -> None:
    tasks_path = join_path(path, "tasks")
    for name in spec.tasks:
        task_path = join_path(join_path(tasks_path, name), "requires")
        req_node = _task_attr(tasks_node, name, "requires")
        _check_required_names(reader, spec, req_node, task_path, f"task '{name}'")
    defaults = node.get("task-defaults")
    if defaults is not None and defaults.is_map:
        defaults_path = join_path(join_path(path, "task-defaults"), "requires")
        _check_required_names(
            reader, spec, defaults.get("requires"), defaults_path, "task-defaults"
        )
    cycle = _find_cycle(spec)
    if cycle:
        first = cycle[0]
        at = _task_attr(tasks_node, first, "requires") or tasks_node
        reader.error(
            at,
            join_path(join_path(tasks_path, first), "requires"),
            "requires-cycle",
            "tasks require each other in a cycle: " + " -> ".join([*cycle, cycle[0]]),
            "break the cycle; a reverse workflow needs every task's requirements to end",
        )


def _check_required_names(
    reader: Reader, spec: WorkflowSpec, req_node: Node | None, path: str, who: str
) -> None:
    """Each name in a 'requires' value must be a task of the workflow."""
    if req_node is None:
        return
    if req_node.is_str:
        named = [(req_node, path)]
    elif req_node.is_seq:
        named = [(item, join_path(path, i)) for i, item in enumerate(req_node.items)]
    else:
        return  # the type error is reported where 'requires' is read
    for item, item_path in named:
        required = item.scalar
        if not isinstance(required, str) or required in spec.tasks:
            continue
        if required in ENGINE_COMMANDS:
            reader.error(
                item,
                item_path,
                "requires-engine-command",
                f"'{required}' is an engine command; {who} can only require tasks",
                "requires names tasks of this workflow",
            )
            continue
        close = suggest(required, spec.tasks)
        reader.error(
            item,
            item_path,
            "unknown-task",
            f"{who} requires unknown task '{required}'",
            f"did you mean '{close}'?" if close else "requires names tasks of this workflow",
        )


def _find_cycle(spec: WorkflowSpec) -> list[str] | None:
    """A cycle of requires, in order, or None. Iterative depth-first search."""
    white, grey, black = 0, 1, 2
    color = dict.fromkeys(spec.tasks, white)
    for root in spec.tasks:
        if color[root] != white:
            continue
        stack: list[tuple[str, list[str]]] = [(root, list(spec.requires(spec.tasks[root])))]
        color[root] = grey
        trail = [root]
        while stack:
            current, pending = stack[-1]
            if not pending:
                color[current] = black
                stack.pop()
                trail.pop()
                continue
            following = pending.pop()
            if following not in color:
                continue
            if color[following] == grey:
                return trail[trail.index(following) :]
            if color[following] == white:
                color[following] = grey
                trail.append(following)
                stack.append((following, list(spec.requires(spec.tasks[following]))))
    return None
