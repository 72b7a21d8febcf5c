"""The task graph of a workflow as Mermaid or Graphviz DOT text, for docs and the UI.

Edges are labelled with the clause that makes them (success, error, complete, skip)
and their condition; engine commands (fail, succeed, pause) become end nodes. Reverse
workflows draw an edge from each required task to the task that requires it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from meltemi.lang.specs import ClauseKind, WorkflowSpec, WorkflowType

_LABELS = {
    ClauseKind.ON_SUCCESS: "success",
    ClauseKind.ON_ERROR: "error",
    ClauseKind.ON_COMPLETE: "complete",
    ClauseKind.ON_SKIP: "skip",
}


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    label: str


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
                target = t.target if not t.is_engine_command else f"{name}__{t.target}"
                result.append(Edge(name, target, label))
    return result


def _node_id(name: str) -> str:
    return "n_" + re.sub(r"\W", "_", name)


def _escape(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(spec: WorkflowSpec) -> str:
    """A Mermaid flowchart of the workflow."""
    lines = ["flowchart TD"]
    for name, task in spec.tasks.items():
        what = task.workflow or task.action or ""
        shape = f'{_node_id(name)}["{_escape(name)}<br/><small>{_escape(what)}</small>"]'
        lines.append(f"    {shape}")
    for edge in edges(spec):
        if edge.target not in spec.tasks:
            command = edge.target.rsplit("__", 1)[1]
            lines.append(f'    {_node_id(edge.target)}(("{command}"))')
        lines.append(
            f'    {_node_id(edge.source)} -->|"{_escape(edge.label)}"| {_node_id(edge.target)}'
        )
    return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(spec: WorkflowSpec) -> str:
    """A Graphviz DOT digraph of the workflow."""
    lines = [f"digraph {_dot_quote(spec.name)} {{", "    node [shape=box];"]
    for name, task in spec.tasks.items():
        what = task.workflow or task.action or ""
        lines.append(f"    {_dot_quote(name)} [label={_dot_quote(name + chr(10) + what)}];")
    for edge in edges(spec):
        if edge.target not in spec.tasks:
            command = edge.target.rsplit("__", 1)[1]
            lines.append(
                f"    {_dot_quote(edge.target)} [label={_dot_quote(command)}, shape=ellipse];"
            )
        lines.append(
            f"    {_dot_quote(edge.source)} -> {_dot_quote(edge.target)} "
            f"[label={_dot_quote(edge.label)}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"
