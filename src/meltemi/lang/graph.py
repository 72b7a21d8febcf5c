"""The task graph of a workflow as Mermaid or Graphviz DOT text, for docs and the UI.

Edges are labelled with the clause that makes them (success, error, complete, skip)
and their condition; engine commands (fail, succeed, pause) become end nodes. Reverse
workflows draw an edge from each required task to the task that requires it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from meltemi.lang.specs import ClauseKind, WorkflowSpec, WorkflowType

_LABELS = {
    ClauseKind.ON_SUCCESS: "success",
    ClauseKind.ON_ERROR: "error",
    ClauseKind.ON_COMPLETE: "complete",
    ClauseKind.ON_SKIP: "skip",
}


@dataclass(frozen=True, slots=True)
class Edge:
    """An edge of the task graph; ``command`` is set when the target is an engine command."""

    source: str
    target: str
    label: str
    command: str | None = None


def edges(spec: WorkflowSpec) -> list[Edge]:
    """The edges of a workflow's task graph, in definition order."""
    result: list[Edge] = []
    if spec.type is WorkflowType.REVERSE:
        for name, task in spec.tasks.items():
            result.extend(Edge(req, name, "requires") for req in spec.requires(task))
        return result
    for name, task in spec.tasks.items():
        for kind in ClauseKind:
            for t in spec.transitions(task, kind):
                label = _LABELS[kind]
                if t.condition:
                    label += f" [{t.condition}]"
                if t.is_engine_command:
                    # Each task gets its own end node, so the drawing stays a tree there.
                    result.append(Edge(name, f"{name}:{t.target}", label, t.target))
                else:
                    result.append(Edge(name, t.target, label))
    return result


class _Ids:
    """Short node ids (n0, n1, ...): task names may hold any character."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}

    def __call__(self, key: str) -> str:
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = f"n{len(self._ids)}"
        return found


_MERMAID_ENTITIES: Final = {'"': "#quot;", "<": "#lt;", ">": "#gt;"}


def _escape(text: str) -> str:
    """Text for inside a quoted Mermaid label (which may hold HTML)."""
    return "".join(_MERMAID_ENTITIES.get(c, c) for c in text)


def to_mermaid(spec: WorkflowSpec) -> str:
    """A Mermaid flowchart of the workflow."""
    node_id = _Ids()
    lines = ["flowchart TD"]
    for name, task in spec.tasks.items():
        what = task.workflow or task.action or ""
        lines.append(f'    {node_id(name)}["{_escape(name)}<br/><small>{_escape(what)}</small>"]')
    for edge in edges(spec):
        if edge.command is not None:
            lines.append(f'    {node_id(edge.target)}(("{edge.command}"))')
        source, target = node_id(edge.source), node_id(edge.target)
        lines.append(f'    {source} -->|"{_escape(edge.label)}"| {target}')
    return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def to_dot(spec: WorkflowSpec) -> str:
    """A Graphviz DOT digraph of the workflow."""
    lines = [f"digraph {_dot_quote(spec.name)} {{", "    node [shape=box];"]
    for name, task in spec.tasks.items():
        what = task.workflow or task.action or ""
        lines.append(f"    {_dot_quote(name)} [label={_dot_quote(name + chr(10) + what)}];")
    for edge in edges(spec):
        if edge.command is not None:
            lines.append(
                f"    {_dot_quote(edge.target)} [label={_dot_quote(edge.command)}, shape=ellipse];"
            )
        lines.append(
            f"    {_dot_quote(edge.source)} -> {_dot_quote(edge.target)} "
            f"[label={_dot_quote(edge.label)}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"
