"""Reading YAML text into a tree of nodes that remember where they came from.

The tree keeps every mapping entry in source order (duplicates included, so that
they can be reported) and the position of every node, so that later checks can
point at the exact line and column of a bad value.

YAML is read as Mistral reads it: the safe schema, and anchors (``&a``), aliases
(``*a``) and ``@`` at the start of a plain value are plain text. This also makes
"billion laughs" alias bombs harmless. Timestamps stay text, so that every value is
JSON.

Plain block YAML (most workflow documents) is read by the fast reader of
:mod:`meltemi.lang._fast_yaml`. Everything else goes through PyYAML: libyaml's
composer when the text cannot hold an anchor, alias or ``@`` at the start of a value
(the two agree on such text); otherwise, and to word errors, the pure Python reader
with Mistral's rules.
"""

from __future__ import annotations

import bisect
import re
import typing
from dataclasses import dataclass, field
from typing import Final

import yaml
import yaml.nodes

from meltemi.lang._fast_yaml import read_simple_yaml
from meltemi.lang._nodes import (
    MAX_DEPTH,
    MAX_NODES,
    JsonValue,
    Node,
    NodeKind,
    is_scalar_tag,
    node_paths,
    scalar_value,
)
from meltemi.lang.errors import Diagnostic, Severity

__all__ = ["MAX_DOCUMENT_BYTES", "JsonValue", "Node", "NodeKind", "SourceText", "load_yaml"]

MAX_DOCUMENT_BYTES: Final = 16 * 1024 * 1024


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

        When the value is not written verbatim (block scalars, folded lines, escapes),
        the few characters around the wanted one are looked up instead, counting
        occurrences so that a repeated piece is found at the right place. Falls back
        to the node's own position.
        """
        raw = self.text[node.start : node.end]
        found = raw.find(needle) if needle else -1
        if found != -1:
            return self.position(node.start + found + offset_in_needle)
        target = min(max(offset_in_needle, 0), len(needle))
        line_start = needle.rfind("\n", 0, target) + 1
        line_end = needle.find("\n", target)
        line_end = len(needle) if line_end == -1 else line_end
        for reach in (12, 4):
            low, high = max(line_start, target - reach), min(line_end, target + reach)
            window = needle[low:high]
            if not window.strip():
                continue
            at = _nth_find(raw, window, _count_before(needle, window, low))
            if at != -1:
                return self.position(node.start + at + target - low)
        return node.line, node.column


def _count_before(text: str, piece: str, end: int) -> int:
    """How many times ``piece`` starts in ``text`` before ``end``."""
    count, at = 0, text.find(piece)
    while at != -1 and at < end:
        count += 1
        at = text.find(piece, at + 1)
    return count


def _nth_find(text: str, piece: str, n: int) -> int:
    """Where the ``n``-th (0-based) occurrence of ``piece`` starts in ``text``, or -1."""
    at = text.find(piece)
    for _ in range(n):
        if at == -1:
            break
        at = text.find(piece, at + 1)
    return at


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


def load_yaml(data: bytes | str, file: str, *, fast: bool = True) -> YamlResult:
    """Reads one YAML document into a :class:`Node` tree, never raising on bad input.

    With ``fast`` (the default) plain block YAML is read by the fast reader; the
    tests turn it off to compare the two readers.
    """
    text, problem = decode(data, file)
    if text is None:
        return YamlResult(None, SourceText(file, ""), [problem] if problem else [])
    source = SourceText(file, text)
    simple = read_simple_yaml(text) if fast else None
    if simple is not None:
        root, duplicates = simple
        problems = [_duplicate(key, previous) for key, previous in duplicates]
        return YamlResult(root, source, _with_paths(source, root, problems))
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

    if yaml_root is None or _is_empty(yaml_root):
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

    converter = _Converter()
    try:
        root = converter.convert(yaml_root, 0)
    except _TooBig:
        diagnostics.append(
            _diag(
                source,
                1,
                1,
                "too-large",
                f"the document has more than {MAX_NODES} values or is nested more than "
                f"{MAX_DEPTH} levels deep",
                "split the workflows into several documents",
            )
        )
        return YamlResult(None, source, diagnostics)
    diagnostics.extend(_with_paths(source, root, converter.problems))
    return YamlResult(root, source, diagnostics)


def _is_empty(node: yaml.nodes.Node) -> bool:
    """A document of nothing but '---' (and comments) has an empty null root."""
    return (
        isinstance(node, yaml.nodes.ScalarNode)
        and node.tag == "tag:yaml.org,2002:null"
        and node.value == ""
    )


def _compose(text: str) -> yaml.nodes.Node | None:
    if not _NEEDS_MISTRAL_RULES.search(text):
        try:
            return yaml.compose(text, Loader=yaml.CSafeLoader)
        except yaml.YAMLError:
            pass  # read again below, to word the error as the Python reader does
    return yaml.compose(text, Loader=_MistralSafeLoader)  # a subclass of SafeLoader


def _syntax_diagnostic(source: SourceText, e: yaml.MarkedYAMLError) -> Diagnostic:
    problem = e.problem or "invalid YAML"
    mark = e.problem_mark or e.context_mark
    if "end of stream" in problem and e.context_mark is not None:
        # The end of the file says nothing; what was left open is where it began.
        mark = e.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    message = f"YAML syntax error: {problem}"
    if e.context and e.context_mark is not None and e.context_mark is not mark:
        message += f" ({e.context} at line {e.context_mark.line + 1})"
    elif e.context and mark is e.context_mark:
        message += f" ({e.context})"
    context = e.context or ""
    hint = "check the indentation and quoting around this place"
    if "expected a single document" in context:
        hint = "keep one YAML document per file (remove the second '---')"
    elif "'\\t'" in problem:
        hint = "indent with spaces, not tabs"
    elif "end of stream" in problem and "quoted scalar" in context:
        hint = "close the quote that starts here"
    return _diag(source, line, column, "yaml-syntax", message, hint)


class _TooBig(Exception):
    pass


@dataclass(slots=True)
class _Problem:
    """A problem found while reading, reported once the tree (and so paths) exist."""

    node: Node  # where to point
    subject: Node  # whose attribute path to name
    code: str
    message: str
    hint: str | None = None


def _duplicate(key: Node, previous: Node) -> _Problem:
    return _Problem(
        key,
        key,
        "duplicate-key",
        f"duplicate key '{key.scalar}' (first at line {previous.line})",
        "each name may appear once in a mapping; rename or remove one of them",
    )


def _with_paths(source: SourceText, root: Node, problems: list[_Problem]) -> list[Diagnostic]:
    if not problems:
        return []
    paths = node_paths(root, {id(p.subject) for p in problems})
    return [
        Diagnostic(
            severity=Severity.ERROR,
            code=p.code,
            message=p.message,
            file=source.file,
            line=p.node.line,
            column=p.node.column,
            path=paths.get(id(p.subject), ""),
            hint=p.hint,
        )
        for p in problems
    ]


_MAP_TAG: Final = "tag:yaml.org,2002:map"
_SEQ_TAG: Final = "tag:yaml.org,2002:seq"


def _tag_problem(node: Node, tag: str) -> _Problem:
    # Mistral's safe loader refuses these tags (or builds sets and pairs, not JSON).
    return _Problem(
        node,
        node,
        "yaml-tag",
        f"the YAML tag '{tag}' is not supported",
        "remove the tag; values are plain JSON (text, numbers, booleans, null, lists, mappings)",
    )


class _Converter:
    """PyYAML's node tree to ours."""

    def __init__(self) -> None:
        self.count = 0
        self.problems: list[_Problem] = []

    def convert(self, node: yaml.nodes.Node, depth: int) -> Node:
        self.count += 1
        if self.count > MAX_NODES or depth > MAX_DEPTH:
            raise _TooBig
        mark = node.start_mark
        line, column = mark.line + 1, mark.column + 1
        start, end = mark.index, node.end_mark.index
        if isinstance(node, yaml.nodes.MappingNode):
            entries: list[tuple[Node, Node]] = []
            result = Node(
                NodeKind.MAP, entries=entries, line=line, column=column, start=start, end=end
            )
            if node.tag != _MAP_TAG:
                self.problems.append(_tag_problem(result, node.tag))
            seen: dict[str, Node] = {}
            for k, v in node.value:
                key = self.convert(k, depth + 1)
                entry_value = self.convert(v, depth + 1)
                if not key.is_scalar or not isinstance(key.scalar, str | int | float | bool):
                    self.problems.append(
                        _Problem(
                            key,
                            result,
                            "bad-key",
                            f"a mapping key must be a plain name, not {key.describe()}",
                            "write the key as a plain name; this entry is ignored",
                        )
                    )
                    continue
                if not isinstance(key.scalar, str):
                    key.scalar = _key_text(k, key.scalar)
                text = str(key.scalar)
                previous = seen.get(text)
                if previous is not None:
                    self.problems.append(_duplicate(key, previous))
                seen[text] = key
                entries.append((key, entry_value))
            return result
        if isinstance(node, yaml.nodes.SequenceNode):
            items = [self.convert(v, depth + 1) for v in node.value]
            sequence = Node(
                NodeKind.SEQ, items=items, line=line, column=column, start=start, end=end
            )
            if node.tag != _SEQ_TAG:
                self.problems.append(_tag_problem(sequence, node.tag))
            return sequence
        scalar_node = typing.cast(yaml.nodes.ScalarNode, node)
        tag = scalar_node.tag
        result = Node(
            NodeKind.SCALAR,
            line=line,
            column=column,
            start=start,
            end=end,
            # libyaml says '' for plain scalars, PyYAML None
            style=scalar_node.style or None,
        )
        if is_scalar_tag(tag):
            result.scalar = scalar_value(tag, scalar_node.value)
        else:
            self.problems.append(_tag_problem(result, tag))
            result.scalar = scalar_node.value
        return result


def _key_text(node: yaml.nodes.Node, value: object) -> str:
    if isinstance(node, yaml.nodes.ScalarNode) and isinstance(node.value, str):
        return node.value
    return str(value)
