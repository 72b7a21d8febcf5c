"""Building whole documents: workflow lists, workbooks and ad-hoc action lists."""

from __future__ import annotations

import re
from typing import Final

from meltemi.lang._clauses import report_dropped
from meltemi.lang._inline import parse_inline
from meltemi.lang._reader import Reader, join_path
from meltemi.lang._workflows import build_workflow
from meltemi.lang._yaml import Node
from meltemi.lang.specs import ActionSpec, Data, Document, DocumentKind, WorkflowSpec

_WORKBOOK_KEYS: Final = frozenset(
    {"version", "name", "description", "tags", "workflows", "actions"}
)
_ACTION_KEYS: Final = frozenset(
    {"name", "version", "description", "tags", "base", "base-input", "input", "output"}
)
_MEMBER_NAME: Final = re.compile(r"^[\w-]+$")
_VERSION_HINT: Final = "start the document with: version: '2.0'"


def detect_kind(root: Node) -> DocumentKind:
    """Workbook, workflows or actions, from the shape of the top-level mapping."""
    name = root.get("name")
    if name is not None and name.is_scalar:
        return DocumentKind.WORKBOOK
    for key in ("workflows", "actions"):
        section = root.get(key)
        # A workflow or an action that happens to be called "workflows" has a body.
        if section is not None and section.is_map and not _is_definition(section):
            return DocumentKind.WORKBOOK
    bodies = [v for k, v in root.entries if k.scalar != "version"]
    if bodies and all(b.is_map and _is_action(b) for b in bodies):
        return DocumentKind.ACTIONS
    return DocumentKind.WORKFLOWS


def _is_definition(node: Node) -> bool:
    return node.get("tasks") is not None or node.get("base") is not None


def _is_action(node: Node) -> bool:
    return node.get("base") is not None and node.get("tasks") is None


def build_document(reader: Reader, root: Node, kind: DocumentKind | None) -> Document | None:
    if not root.is_map:
        reader.error(
            root,
            "",
            "wrong-type",
            f"a workflow document must be a mapping, not {root.describe()}",
            _VERSION_HINT + ", then one or more workflows by name",
        )
        return None
    kind = kind or detect_kind(root)
    _check_version(reader, root, "", required=True)
    if kind is DocumentKind.WORKBOOK:
        return _workbook(reader, root)
    members = [(k, v) for k, v in root.entries if k.scalar != "version"]
    if not members:
        reader.error(
            root,
            "",
            "empty-document",
            f"the document defines no {kind.value}",
            f"add at least one {'workflow' if kind is DocumentKind.WORKFLOWS else 'action'} "
            "after 'version'",
        )
    if kind is DocumentKind.ACTIONS:
        actions = tuple(
            a
            for name, key_node, body in root.unique_entries()
            if name != "version" and (a := _action(reader, name, key_node, body, name)) is not None
        )
        return Document(kind=kind, actions=actions)
    workflows = tuple(
        wf
        for name, key_node, body in root.unique_entries()
        if name != "version" and (wf := _workflow(reader, name, key_node, body, name)) is not None
    )
    return Document(kind=kind, workflows=workflows)


def _check_version(reader: Reader, node: Node, path: str, *, required: bool) -> None:
    version = node.get("version")
    if version is None:
        if required:
            reader.error(
                node,
                path,
                "missing-version",
                "the document has no 'version'",
                _VERSION_HINT,
            )
        return
    value = version.scalar
    # As Mistral's schemas: '2.0', or the number 2.0 (written 2 too). A workflow list
    # lets anything through there, but a document for another version of the language
    # cannot mean what it says.
    if value == "2.0" or (
        isinstance(value, int | float) and not isinstance(value, bool) and value == 2
    ):
        return
    reader.error(
        version,
        join_path(path, "version"),
        "bad-version",
        f"unsupported language version {value!r}: Meltemi reads Mistral DSL version 2.0"
        if version.is_scalar
        else f"'version' must be '2.0', not {version.describe()}",
        "write version: '2.0'",
    )


def _workflow(
    reader: Reader, name: str, key_node: Node, body: Node, path: str
) -> WorkflowSpec | None:
    if body.is_map:
        _check_version(reader, body, path, required=False)
        name_node = body.get("name")
        if name_node is not None and name_node.scalar != name:
            reader.warning(
                name_node,
                join_path(path, "name"),
                "name-ignored",
                f"the workflow is named '{name}' by its key; 'name: {name_node.scalar}' is ignored",
                "remove 'name' from the workflow body",
            )
    elif body.is_scalar and body.scalar is None:
        reader.error(
            key_node,
            path,
            "wrong-type",
            f"workflow '{name}' is empty",
            "give it a 'tasks' mapping",
        )
        return None
    return build_workflow(reader, name, body, path, key_node)


def _workbook(reader: Reader, root: Node) -> Document:
    reader.check_keys(root, "", _WORKBOOK_KEYS, "a workbook")
    name: str | None = None
    name_node = root.get("name")
    if name_node is None:
        reader.error(
            root,
            "",
            "missing-attribute",
            "the workbook has no 'name'",
            "add 'name: my_workbook' at the top",
        )
    else:
        name = reader.string(name_node, "name", "the workbook 'name'", expressions=False)
    description = tags = None
    workflows: list[WorkflowSpec] = []
    actions: list[ActionSpec] = []
    for key, _k, value in root.unique_entries():
        if key == "description":
            description = reader.description(value, key)
        elif key == "tags":
            tags = reader.tags(value, key)
        elif key == "workflows":
            for member, member_key, body in _members(reader, value, key):
                wf = _workflow(reader, member, member_key, body, join_path(key, member))
                if wf is not None:
                    workflows.append(wf)
        elif key == "actions":
            for member, member_key, body in _members(reader, value, key):
                action = _action(reader, member, member_key, body, join_path(key, member))
                if action is not None:
                    actions.append(action)
    if root.get("workflows") is None and root.get("actions") is None:
        # Mistral registers such a workbook; it is most likely unfinished.
        reader.warning(
            root,
            "",
            "empty-document",
            "the workbook defines no workflows or actions",
            "add a 'workflows:' or 'actions:' section",
        )
    return Document(
        kind=DocumentKind.WORKBOOK,
        name=name,
        description=description,
        tags=tags or (),
        workflows=tuple(workflows),
        actions=tuple(actions),
    )


def _members(reader: Reader, node: Node, path: str) -> list[tuple[str, Node, Node]]:
    if not node.is_map or not node.entries:
        reader.error(
            node,
            path,
            "wrong-type",
            f"'{path}' must be a non-empty mapping of names to definitions, not {node.describe()}",
        )
        return []
    members = []
    for name, key_node, body in node.unique_entries():
        if name == "version":
            _check_version(reader, node, path, required=False)
            continue
        if not _MEMBER_NAME.match(name):
            reader.error(
                key_node,
                join_path(path, name),
                "bad-name",
                f"'{name}' is not a valid name for a workbook member",
                "use letters, digits, '_' and '-' only",
            )
        members.append((name, key_node, body))
    return members


def _base(reader: Reader, node: Node | None, path: str) -> tuple[str | None, dict[str, Data]]:
    """The base action's name and its inline parameters."""
    if node is None:
        return None, {}
    text = reader.string(node, path, "'base'")
    if text is None:
        return None, {}
    parsed = parse_inline(text)
    if parsed.command is None:
        reader.error(node, path, "bad-command", f"'{text}' does not start with an action name")
    report_dropped(reader, node, path, text, parsed.dropped)
    return parsed.command, dict(parsed.params)


def _action(reader: Reader, name: str, key_node: Node, node: Node, path: str) -> ActionSpec | None:
    if not reader.mapping(node, path, f"action '{name}'"):
        return None
    reader.check_keys(node, path, _ACTION_KEYS, f"action '{name}'")
    fields: dict[str, object] = {"name": name, "line": node.line}
    base, inline = _base(reader, node.get("base"), join_path(path, "base"))
    base_input: dict[str, Data] = {}
    for key, _k, value in node.unique_entries():
        key_path = join_path(path, key)
        if key == "base-input":
            base_input = reader.named_data(value, key_path, "'base-input'")
        elif key == "input":
            fields["input"] = reader.params(value, key_path, "action inputs")
        elif key == "output":
            fields["output"] = reader.data(value, key_path)
        elif key == "description":
            fields["description"] = reader.description(value, key_path)
        elif key == "tags":
            fields["tags"] = reader.tags(value, key_path)
    if node.get("base") is None:
        reader.error(
            key_node,
            path,
            "missing-attribute",
            f"action '{name}' has no 'base'",
            "name the action it is built on, e.g. base: std.http",
        )
    if base is None:
        return None
    fields["base_input"] = {**base_input, **inline}
    return ActionSpec(base=base, **fields)  # type: ignore[arg-type]  # keys are ActionSpec fields
