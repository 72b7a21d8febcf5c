"""The tree that YAML is read into: nodes that remember where they came from.

Both readers (the fast one for plain block YAML, and the complete one on PyYAML)
build this tree, and resolve plain scalars with PyYAML's own rules, so that what
a value means never depends on which reader read it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import Final

import yaml
import yaml.constructor
import yaml.nodes
import yaml.resolver

MAX_NODES: Final = 2_000_000
MAX_DEPTH: Final = 200

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


class NodeKind(enum.Enum):
    MAP = "mapping"
    SEQ = "list"
    SCALAR = "scalar"


_MAP: Final = NodeKind.MAP
_SEQ: Final = NodeKind.SEQ
_SCALAR: Final = NodeKind.SCALAR


class Node:
    """A YAML node with its position (1-based line and column, 0-based offsets).

    A plain class with slots rather than a dataclass: documents have hundreds of
    thousands of nodes, and this is the cheapest object Python can build for them.
    """

    __slots__ = (
        "_index",
        "_unique",
        "column",
        "end",
        "entries",
        "items",
        "kind",
        "line",
        "scalar",
        "start",
        "style",
    )

    def __init__(
        self,
        kind: NodeKind,
        scalar: JsonValue = None,
        items: list[Node] | None = None,
        entries: list[tuple[Node, Node]] | None = None,
        line: int = 1,
        column: int = 1,
        start: int = 0,
        end: int = 0,
        style: str | None = None,
    ) -> None:
        self.kind = kind
        self.scalar = scalar
        self.items: list[Node] = items if items is not None else []
        self.entries: list[tuple[Node, Node]] = entries if entries is not None else []
        self.line = line
        self.column = column
        self.start = start
        self.end = end
        self.style = style
        # Built on first use, once the reader has finished the node.
        self._unique: list[tuple[str, Node, Node]] | None = None
        self._index: dict[str, Node] | None = None

    def __repr__(self) -> str:
        what = repr(self.scalar) if self.kind is _SCALAR else self.kind.value
        return f"Node({what} at {self.line}:{self.column})"

    @property
    def is_map(self) -> bool:
        return self.kind is _MAP

    @property
    def is_seq(self) -> bool:
        return self.kind is _SEQ

    @property
    def is_scalar(self) -> bool:
        return self.kind is _SCALAR

    @property
    def is_str(self) -> bool:
        return self.kind is _SCALAR and isinstance(self.scalar, str)

    def describe(self) -> str:
        """The kind of value, in words, for messages: 'a list', 'the number 3'."""
        if self.kind is _MAP:
            return "a mapping" if self.entries else "an empty mapping"
        if self.kind is _SEQ:
            return "a list" if self.items else "an empty list"
        value = self.scalar
        if value is None:
            return "null"
        if isinstance(value, bool):
            return f"the boolean {'true' if value else 'false'}"
        if isinstance(value, int | float):
            return f"the number {value}"
        if value == "":
            return "an empty string"
        return "a string"

    def get(self, key: str) -> Node | None:
        """The value of the last entry with this key, as YAML readers keep it."""
        index = self._index
        if index is None:
            index = self._index = {k: v for k, _kn, v in self.unique_entries()}
        return index.get(key)

    def keys(self) -> Iterator[str]:
        """The keys of a mapping, each once, in source order."""
        return (key for key, _k, _v in self.unique_entries())

    def key_node(self, key: str) -> Node | None:
        for k, kn, _v in self.unique_entries():
            if k == key:
                return kn
        return None

    def unique_entries(self) -> list[tuple[str, Node, Node]]:
        """(key, key node, value node) with the last duplicate winning, in source order."""
        unique = self._unique
        if unique is not None:
            return unique
        entries = self.entries
        keys = [str(k.scalar) for k, _v in entries]
        if len(set(keys)) == len(keys):
            unique = [(key, k, v) for key, (k, v) in zip(keys, entries, strict=True)]
        else:
            last = {key: i for i, key in enumerate(keys)}
            unique = [(keys[i], k, v) for i, (k, v) in enumerate(entries) if last[keys[i]] == i]
        self._unique = unique
        return unique

    def to_python(self) -> JsonValue:
        if self.kind is _SCALAR:
            return self.scalar
        if self.kind is _SEQ:
            return [n.to_python() for n in self.items]
        return {str(k.scalar): v.to_python() for k, v in self.entries}


def node_paths(root: Node, wanted: set[int]) -> dict[int, str]:
    """Attribute paths (``wf.tasks.t1.input[0]``) of the nodes whose ids are wanted.

    A key node gets the path of its entry. Only used to word diagnostics, so a walk
    of the tree is fine.
    """
    found: dict[int, str] = {}
    stack: list[tuple[Node, str]] = [(root, "")]
    while stack and len(found) < len(wanted):
        node, path = stack.pop()
        if id(node) in wanted:
            found[id(node)] = path
        if node.kind is _MAP:
            for k, v in node.entries:
                entry_path = f"{path}.{k.scalar}" if path else str(k.scalar)
                if id(k) in wanted:
                    found[id(k)] = entry_path
                stack.append((v, entry_path))
        elif node.kind is _SEQ:
            stack.extend((item, f"{path}[{i}]") for i, item in enumerate(node.items))
    return found


# -- scalars ---------------------------------------------------------------------------

STR_TAG: Final = "tag:yaml.org,2002:str"
TIMESTAMP_TAG: Final = "tag:yaml.org,2002:timestamp"
_CONSTRUCTED_TAGS: Final = frozenset(
    {
        "tag:yaml.org,2002:null",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
    }
)
KEY_TAGS: Final = frozenset(
    {STR_TAG, TIMESTAMP_TAG, *_CONSTRUCTED_TAGS} - {"tag:yaml.org,2002:null"}
)

_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()
# The first characters for which PyYAML tries its implicit resolvers; any other plain
# scalar is a string (unless there are resolvers for every first character).
_RESOLVED_FIRST: Final = frozenset(
    key for key in yaml.resolver.Resolver.yaml_implicit_resolvers if key is not None
)
_ANY_FIRST: Final = None in yaml.resolver.Resolver.yaml_implicit_resolvers
PLAIN_TAGS: Final[dict[str, str]] = {}
"""A cache of :func:`plain_tag` for the texts seen most (keys, true, false, ...)."""


def plain_tag(text: str) -> str:
    """The tag PyYAML's safe loader gives a plain (unquoted) scalar."""
    if text and text[0] not in _RESOLVED_FIRST and not _ANY_FIRST:
        return STR_TAG
    tag = PLAIN_TAGS.get(text)
    if tag is None:
        resolved: str = _resolver.resolve(  # type: ignore[no-untyped-call]  # PyYAML's stubs
            yaml.nodes.ScalarNode, text, (True, False)
        )
        tag = resolved
        if len(PLAIN_TAGS) < 4096:
            PLAIN_TAGS[text] = tag
    return tag


def is_scalar_tag(tag: str) -> bool:
    """True for the tags whose values are JSON scalars (timestamps are kept as text)."""
    return tag in (STR_TAG, TIMESTAMP_TAG) or tag in _CONSTRUCTED_TAGS


def scalar_value(tag: str, text: str) -> JsonValue:
    """The value of a scalar with one of the tags :func:`is_scalar_tag` accepts.

    The constructor functions are called directly rather than through
    ``construct_object``, which would remember every node it ever built.
    """
    if tag in (STR_TAG, TIMESTAMP_TAG):
        return text
    construct = yaml.constructor.SafeConstructor.yaml_constructors[tag]
    value: JsonValue = construct(_constructor, yaml.nodes.ScalarNode(tag, text))
    return value
