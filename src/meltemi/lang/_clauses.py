"""on-success, on-error, on-complete and on-skip: transitions, conditions, advanced publish."""

from __future__ import annotations

import re
from typing import Final

from meltemi.lang._inline import DroppedText, explain_dropped, glued_to, parse_inline
from meltemi.lang._reader import Reader, join_path
from meltemi.lang._yaml import Node
from meltemi.lang.errors import Severity
from meltemi.lang.specs import Data, Expr, OnClause, PublishSpec, Transition

# The three forms of a transition target that Mistral's schema accepts.
_TARGET_FORMS: Final = (
    re.compile(r"^\S+$"),
    re.compile(r"^\w+ \w+=(.*)$"),
    re.compile(r"^\w+\(\w+=(.*)\)$"),
)


def on_clause(reader: Reader, node: Node, path: str, kind: str) -> OnClause | None:
    """The four forms: 'task', {task: <% cond %>}, a list of those, {publish, next}."""
    if node.is_map and any(k.scalar in ("publish", "next") for k, _v in node.entries):
        return _advanced_clause(reader, node, path, kind)
    transitions = _transitions(reader, node, path, kind)
    return OnClause(transitions=transitions) if transitions is not None else None


def _advanced_clause(reader: Reader, node: Node, path: str, kind: str) -> OnClause | None:
    reader.check_keys(node, path, ("publish", "next"), f"'{kind}'")
    publish: PublishSpec | None = None
    transitions: tuple[Transition, ...] = ()
    publish_node = node.get("publish")
    if publish_node is not None:
        publish = _publish(reader, publish_node, join_path(path, "publish"))
    next_node = node.get("next")
    if next_node is not None:
        transitions = _transitions(reader, next_node, join_path(path, "next"), kind) or ()
    return OnClause(transitions=transitions, publish=publish)


def _publish(reader: Reader, node: Node, path: str) -> PublishSpec | None:
    if not reader.mapping(node, path, "'publish'"):
        return None
    reader.check_keys(node, path, ("branch", "global", "atomic"), "advanced 'publish'")
    scopes: dict[str, dict[str, Data]] = {}
    for scope in ("branch", "global", "atomic"):
        scope_node = node.get(scope)
        if scope_node is not None:
            scopes[scope] = reader.named_data(scope_node, join_path(path, scope), f"'{scope}'")
    if not scopes and not any(
        k.scalar not in ("branch", "global", "atomic") for k, _ in node.entries
    ):
        reader.error(
            node,
            path,
            "missing-attribute",
            "advanced 'publish' needs 'branch', 'global' or 'atomic'",
            "e.g. publish: {branch: {x: <% task().result %>}}",
        )
    return PublishSpec(
        branch=scopes.get("branch", {}),
        global_=scopes.get("global", {}),
        atomic=scopes.get("atomic", {}),
    )


def _transitions(reader: Reader, node: Node, path: str, kind: str) -> tuple[Transition, ...] | None:
    if node.is_seq:
        if not node.items:
            reader.error(node, path, "wrong-type", f"'{kind}' must not be an empty list")
            return None
        result = []
        seen: list[tuple[str, str | None]] = []
        for i, item in enumerate(node.items):
            item_path = join_path(path, i)
            transition = _transition(reader, item, item_path, kind)
            if transition is None:
                continue
            key = (transition.target, transition.condition)
            if key in seen and not transition.params:
                reader.error(
                    item,
                    item_path,
                    "duplicate",
                    f"'{transition.target}' is listed twice",
                    "remove one of them",
                )
                continue
            seen.append(key)
            result.append(transition)
        return tuple(result)
    transition = _transition(reader, node, path, kind)
    return (transition,) if transition is not None else None


def _transition(reader: Reader, node: Node, path: str, kind: str) -> Transition | None:
    if node.is_str and node.scalar:
        return _target(reader, node, str(node.scalar), path, None)
    if node.is_map and len(node.entries) == 1:
        key_node, value = node.entries[0]
        condition = reader.expression(value, path, f"the condition of '{key_node.scalar}'")
        return _target(reader, key_node, str(key_node.scalar), path, condition)
    reader.error(
        node,
        path,
        "bad-transition",
        f"each entry of '{kind}' must be a task name or 'task: <% condition %>', "
        f"not {node.describe()}",
        "e.g. - next_task, or - next_task: <% $.ok %>",
    )
    return None


def _target(
    reader: Reader, node: Node, text: str, path: str, condition: Expr | None
) -> Transition | None:
    if not any(form.match(text) for form in _TARGET_FORMS):
        reader.error(
            node,
            path,
            "bad-transition",
            f"'{text}' is not a task name",
            'write a task name, or an engine command with a parameter: fail msg="..."',
        )
        return None
    parsed = parse_inline(text)
    if parsed.command is None:
        reader.error(node, path, "bad-transition", f"'{text}' is not a task name")
        return None
    reader.check_expressions(node, path, text)
    report_dropped(reader, node, path, text, parsed.dropped)
    transition = Transition(
        target=parsed.command,
        condition=condition,
        params=parsed.params,
        line=node.line,
        column=node.column,
    )
    reader.transitions.append((transition, path))
    return transition


def report_dropped(
    reader: Reader, node: Node, path: str, text: str, dropped: tuple[DroppedText, ...]
) -> None:
    """Warns about each piece of an inline string that Mistral silently ignores."""
    for piece in dropped:
        bare = piece.text.strip("()")
        if not bare:
            continue  # the parentheses of ``fail(msg=...)``
        message, hint = explain_dropped(bare, glued_to(text, piece))
        offset = piece.offset + piece.text.find(bare)
        line, column = reader.source.locate_in_node(node, text, offset)
        reader.report(line, column, path, "dropped-inline-param", message, hint, Severity.WARNING)
