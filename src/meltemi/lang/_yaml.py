"""Reading YAML text into a tree of nodes that remember where they came from.

The tree keeps every mapping entry in source order (duplicates included, so that
they can be reported) and the position of every node, so that later checks can
point at the exact line and column of a bad value.

YAML is read as Mistral reads it: the safe schema, and anchors (``&a``), aliases
(``*a``) and ``@`` at the start of a plain value are plain text. This also makes
"billion laughs" alias bombs harmless. Timestamps stay text, so that every value is
JSON.

libyaml's composer is used when the text cannot hold an anchor, alias or ``@`` at
the start of a value (the two readers agree on such text); otherwise, and to word
errors, the pure Python reader with Mistral's rules.
"""

from __future__ import annotations

import bisect
import enum
import re
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

import yaml
import yaml.nodes

from meltemi.lang.errors import Diagnostic, Severity

MAX_DOCUMENT_BYTES: Final = 16 * 1024 * 1024
MAX_NODES: Final = 2_000_000

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


class NodeKind(enum.Enum):
    MAP = "mapping"
    SEQ = "list"
    SCALAR = "scalar"


@dataclass(slots=True, eq=False)
class Node:
    """A YAML node with its position (1-based line and column)."""

    kind: NodeKind
    scalar: JsonValue = None
    items: list[Node] = field(default_factory=list)
    entries: list[tuple[Node, Node]] = field(default_factory=list)
    line: int = 1
    column: int = 1
    start: int = 0
    end: int = 0
    style: str | None = None

    @property
    def is_map(self) -> bool:
        return self.kind is NodeKind.MAP

    @property
    def is_seq(self) -> bool:
        return self.kind is NodeKind.SEQ

    @property
    def is_scalar(self) -> bool:
        return self.kind is NodeKind.SCALAR

    @property
    def is_str(self) -> bool:
        return self.kind is NodeKind.SCALAR and isinstance(self.scalar, str)

    def describe(self) -> str:
        """The kind of value, in words, for messages: 'a list', 'the number 3'."""
        if self.kind is NodeKind.MAP:
            return "a mapping"
        if self.kind is NodeKind.SEQ:
            return "a list"
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
        found: Node | None = None
        for k, v in self.entries:
            if k.scalar == key:
                found = v
        return found

    def key_node(self, key: str) -> Node | None:
        found: Node | None = None
        for k, _v in self.entries:
            if k.scalar == key:
                found = k
        return found

    def unique_entries(self) -> Iterator[tuple[str, Node, Node]]:
        """(key, key node, value node) with the last duplicate winning, in source order."""
        last: dict[str, int] = {}
        for i, (k, _v) in enumerate(self.entries):
            last[str(k.scalar)] = i
        for i, (k, v) in enumerate(self.entries):
            if last[str(k.scalar)] == i:
                yield str(k.scalar), k, v

    def to_python(self) -> JsonValue:
        if self.kind is NodeKind.SCALAR:
            return self.scalar
        if self.kind is NodeKind.SEQ:
            return [n.to_python() for n in self.items]
        return {str(k.scalar): v.to_python() for k, v in self.entries}


@dataclass(slots=True)
class SourceText:
    """The text of a document and a way to turn offsets into lines and columns."""

    file: str
    text: str
    _line_starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        starts = [0]
        find = self.text.find
        i = find("\n")
        while i != -1:
            starts.append(i + 1)
            i = find("\n", i + 1)
        self._line_starts = starts

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def locate_in_node(self, node: Node, needle: str, offset_in_needle: int = 0) -> tuple[int, int]:
        """Position of ``needle`` (and a character inside it) within a node's source.

        Falls back to the node's own position when the value is not written verbatim
        (escapes, folding).
        """
        raw = self.text[node.start : node.end]
        found = raw.find(needle) if needle else -1
        if found == -1:
            return node.line, node.column
        return self.position(node.start + found + offset_in_needle)


class _MistralSafeLoader(yaml.SafeLoader):
    """The safe loader with anchors, aliases and a leading ``@`` read as plain text."""

    def fetch_alias(self) -> None:
        self.fetch_plain()

    def fetch_anchor(self) -> None:
        self.fetch_plain()

    def check_plain(self) -> bool:
        if self.peek() == "@":
            return True
        return bool(super().check_plain())


# A value that starts with &, * or @ (after a key, a dash, a flow bracket or a comma).
_NEEDS_MISTRAL_RULES = re.compile(r"(?:^|[\[{,]|[:-][ \t])[ \t]*[&*@]", re.MULTILINE)

_STR_TAG: Final = "tag:yaml.org,2002:str"
_SCALAR_TAGS: Final = frozenset(
    {
        "tag:yaml.org,2002:null",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        _STR_TAG,
    }
)


class _ScalarConstructor(yaml.constructor.SafeConstructor):
    pass


_constructor = _ScalarConstructor()


@dataclass(slots=True)
class YamlResult:
    root: Node | None
    source: SourceText
    diagnostics: list[Diagnostic]


def _diag(
    source: SourceText,
    line: int,
    column: int,
    code: str,
    message: str,
    hint: str | None = None,
    severity: Severity = Severity.ERROR,
) -> Diagnostic:
    return Diagnostic(
        severity=severity,
        code=code,
        message=message,
        file=source.file,
        line=line,
        column=column,
        hint=hint,
    )


def decode(data: bytes | str, file: str) -> tuple[str | None, Diagnostic | None]:
    """Text of a document given as bytes or text; a diagnostic when it cannot be read."""
    if isinstance(data, str):
        size = len(data)
        text = data
    else:
        size = len(data)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            before = data[: e.start]
            line = before.count(b"\n") + 1
            column = len(before) - (before.rfind(b"\n") + 1) + 1
            return None, Diagnostic(
                severity=Severity.ERROR,
                code="not-utf8",
                message=f"the file is not UTF-8 text: byte 0x{data[e.start]:02x} cannot be decoded",
                file=file,
                line=line,
                column=column,
                hint="save the file as UTF-8",
            )
    if size > MAX_DOCUMENT_BYTES:
        return None, Diagnostic(
            severity=Severity.ERROR,
            code="too-large",
            message=(f"the document is {size} bytes; the limit is {MAX_DOCUMENT_BYTES} bytes"),
            file=file,
            line=1,
            column=1,
            hint="split the workflows into several documents",
        )
    return text, None


def load_yaml(data: bytes | str, file: str) -> YamlResult:
    """Reads one YAML document into a :class:`Node` tree, never raising on bad input."""
    text, problem = decode(data, file)
    if text is None:
        return YamlResult(None, SourceText(file, ""), [problem] if problem else [])
    source = SourceText(file, text)
    diagnostics: list[Diagnostic] = []

    yaml_root: yaml.nodes.Node | None
    try:
        yaml_root = _compose(text)
    except yaml.MarkedYAMLError as e:
        diagnostics.append(_syntax_diagnostic(source, e))
        return YamlResult(None, source, diagnostics)
    except yaml.reader.ReaderError as e:
        line, column = source.position(e.position)
        diagnostics.append(
            _diag(
                source,
                line,
                column,
                "yaml-syntax",
                f"YAML cannot contain the character #x{e.character:04x}",
                "remove the control character or write it as an escape in a double-quoted string",
            )
        )
        return YamlResult(None, source, diagnostics)
    except (yaml.YAMLError, RecursionError) as e:
        diagnostics.append(_diag(source, 1, 1, "yaml-syntax", f"YAML could not be read: {e}"))
        return YamlResult(None, source, diagnostics)

    if yaml_root is None:
        diagnostics.append(
            _diag(
                source,
                1,
                1,
                "empty-document",
                "the document is empty",
                "a workflow document starts with `version: '2.0'` followed by workflows",
            )
        )
        return YamlResult(None, source, diagnostics)

    converter = _Converter(source, diagnostics)
    try:
        root = converter.convert(yaml_root, 0)
    except _TooBig:
        diagnostics.append(
            _diag(
                source,
                1,
                1,
                "too-large",
                f"the document has more than {MAX_NODES} values",
                "split the workflows into several documents",
            )
        )
        return YamlResult(None, source, diagnostics)
    return YamlResult(root, source, diagnostics)


def _compose(text: str) -> yaml.nodes.Node | None:
    if not _NEEDS_MISTRAL_RULES.search(text):
        try:
            return yaml.compose(text, Loader=yaml.CSafeLoader)
        except yaml.YAMLError:
            pass  # read again below, to word the error as the Python reader does
    return yaml.compose(text, Loader=_MistralSafeLoader)  # a subclass of SafeLoader


def _syntax_diagnostic(source: SourceText, e: yaml.MarkedYAMLError) -> Diagnostic:
    mark = e.problem_mark or e.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = e.problem or "invalid YAML"
    message = f"YAML syntax error: {problem}"
    if e.context and e.context_mark is not None and e.context_mark is not mark:
        message += f" ({e.context} at line {e.context_mark.line + 1})"
    hint = "check the indentation and quoting around this place"
    if "expected a single document" in problem:
        hint = "keep one YAML document per file (remove the second '---')"
    if "\t" in problem or "tab" in problem:
        hint = "indent with spaces, not tabs"
    return _diag(source, line, column, "yaml-syntax", message, hint)


class _TooBig(Exception):
    pass


class _Converter:
    def __init__(self, source: SourceText, diagnostics: list[Diagnostic]) -> None:
        self.source = source
        self.diagnostics = diagnostics
        self.count = 0

    def convert(self, node: yaml.nodes.Node, depth: int) -> Node:
        self.count += 1
        if self.count > MAX_NODES or depth > 200:
            raise _TooBig
        mark = node.start_mark
        line, column = mark.line + 1, mark.column + 1
        start, end = mark.index, node.end_mark.index
        if isinstance(node, yaml.nodes.MappingNode):
            entries = []
            seen: dict[object, Node] = {}
            for k, v in node.value:
                key = self.convert(k, depth + 1)
                entry_value = self.convert(v, depth + 1)
                if not key.is_scalar or not isinstance(key.scalar, str | int | float | bool):
                    self._error(key, "bad-key", "a mapping key must be a plain name")
                    continue
                if not isinstance(key.scalar, str):
                    key.scalar = _key_text(k, key.scalar)
                previous = seen.get(key.scalar)
                if previous is not None:
                    self._error(
                        key,
                        "duplicate-key",
                        f"duplicate key '{key.scalar}' (first at line {previous.line})",
                        "each name may appear once in a mapping; rename or remove one of them",
                    )
                seen[key.scalar] = key
                entries.append((key, entry_value))
            return Node(
                NodeKind.MAP, entries=entries, line=line, column=column, start=start, end=end
            )
        if isinstance(node, yaml.nodes.SequenceNode):
            items = [self.convert(v, depth + 1) for v in node.value]
            return Node(NodeKind.SEQ, items=items, line=line, column=column, start=start, end=end)
        scalar_node = typing.cast(yaml.nodes.ScalarNode, node)
        value: JsonValue
        if scalar_node.tag == _STR_TAG:
            value = scalar_node.value
        elif scalar_node.tag in _SCALAR_TAGS:
            value = _constructor.construct_object(scalar_node)
        elif scalar_node.tag == "tag:yaml.org,2002:timestamp":
            value = scalar_node.value
        else:
            self.diagnostics.append(
                _diag(
                    self.source,
                    line,
                    column,
                    "yaml-tag",
                    f"the YAML tag '{scalar_node.tag}' is not supported",
                    "remove the tag; values are plain JSON (text, numbers, booleans, null)",
                )
            )
            value = scalar_node.value
        return Node(
            NodeKind.SCALAR,
            scalar=value,
            line=line,
            column=column,
            start=start,
            end=end,
            style=scalar_node.style,
        )

    def _error(self, node: Node, code: str, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(_diag(self.source, node.line, node.column, code, message, hint))


def _key_text(node: yaml.nodes.Node, value: object) -> str:
    if isinstance(node, yaml.nodes.ScalarNode) and isinstance(node.value, str):
        return node.value
    return str(value)
