"""A fast reader for the plain block YAML that workflow documents are mostly made of.

PyYAML builds an object per token, event and node and then we convert its nodes
into ours; for a document of ten thousand tasks that is most of the time spent in
validation. Most documents use a small part of YAML: block mappings and lists,
one-line plain and quoted scalars, comments. This reader reads exactly that part,
line by line, straight into :class:`~meltemi.lang._nodes.Node` trees with the same
values and positions PyYAML gives, and gives up (returns None) on anything else:
flow collections, block scalars, multi-line scalars, escapes, anchors, tags,
directives, tabs, unusual characters. Then the complete reader reads the document.

A differential test checks that both readers build the same tree for every corpus
document and for many mutated ones.
"""

from __future__ import annotations

import re
from typing import Final

from meltemi.lang._nodes import (
    KEY_TAGS,
    MAX_DEPTH,
    MAX_NODES,
    STR_TAG,
    JsonValue,
    Node,
    NodeKind,
    is_scalar_tag,
    plain_tag,
    scalar_value,
)

# Characters that PyYAML reads differently from plain text or rejects: tabs, CR, NEL,
# line and paragraph separators, the BOM, and the characters YAML does not allow.
_UNSUPPORTED_CHARS: Final = re.compile(
    "[^\x0a\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
# Lines the reader leaves to PyYAML: directives and document markers (except one
# "---" that starts the document).
_DOCUMENT_MARKERS: Final = re.compile(r"^(?:%|---|\.\.\.)", re.MULTILINE)
_DOCUMENT_START: Final = re.compile(r"---(?: +(?:#.*)?)?$")
# ``key:`` or ``key: value``; a key is a plain scalar without ':' or '#'. Keys that
# need more of YAML than that (quoted, flow, '?', ...) make the reader give up.
_ENTRY: Final = re.compile(r"([^\s\-?:,\[\]{}#&*!|>'\"%@`][^:#]*?|-[^\s:#][^:#]*?):(?: +(.*))?$")
# What may not start a one-line plain scalar here (flow collections, block scalars,
# anchors, aliases, tags, reserved indicators; '-', '?', ':' only before a space).
_PLAIN_START_FORBIDDEN: Final = frozenset(",[]{}#&*!|>%@`")


_MAP: Final = NodeKind.MAP
_SEQ: Final = NodeKind.SEQ
_SCALAR: Final = NodeKind.SCALAR
_key_tags: dict[str, str] = {}


def _key_tag(text: str) -> str | None:
    """The tag of a plain key, if it is one the reader takes (not null, merge, ...)."""
    tag = plain_tag(text)
    if tag not in KEY_TAGS:
        return None
    if len(_key_tags) < 4096:
        _key_tags[text] = tag
    return tag


class _GiveUp(Exception):
    """The text uses YAML this reader does not read."""


class _Line:
    __slots__ = ("indent", "number", "start", "text")

    def __init__(self, number: int, start: int, indent: int, text: str) -> None:
        self.number = number  # 1-based line number
        self.start = start  # offset of the line's first character
        self.indent = indent
        self.text = text  # the line without its indentation


def _is_item(text: str) -> bool:
    return text[0] == "-" and (len(text) == 1 or text[1] == " ")


def read_simple_yaml(text: str) -> tuple[Node, list[tuple[Node, Node]]] | None:
    """The node tree of a plain block YAML document, or None to let PyYAML read it.

    Returns the root and the duplicate keys found, as (key node, previous key node).
    """
    if _UNSUPPORTED_CHARS.search(text):
        return None
    try:
        return _Reader(text).read()
    except _GiveUp:
        return None


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines: list[_Line] = []
        self.at = 0
        self.duplicates: list[tuple[Node, Node]] = []
        offset = 0
        for number, raw in enumerate(text.split("\n"), 1):
            content = raw.lstrip(" ")
            if content and content[0] != "#":
                indent = len(raw) - len(content)
                self.lines.append(_Line(number, offset + indent, indent, content))
            offset += len(raw) + 1
        if _DOCUMENT_MARKERS.search(text):
            first = self.lines[0] if self.lines else None
            if first is None or first.indent or not _DOCUMENT_START.match(first.text):
                raise _GiveUp
            del self.lines[0]
            if _DOCUMENT_MARKERS.search(text, self.lines[0].start if self.lines else 0):
                raise _GiveUp

    def read(self) -> tuple[Node, list[tuple[Node, Node]]]:
        # A content line makes at most three nodes (a collection, a key, a value);
        # a longer document is left to the complete reader, which words the error.
        if 3 * len(self.lines) >= MAX_NODES:
            raise _GiveUp
        if not self.lines or self.lines[0].indent != 0 or _is_item(self.lines[0].text):
            raise _GiveUp
        root = self._mapping(self.lines[0], 0, 0)
        if self.at != len(self.lines):
            raise _GiveUp
        return root, self.duplicates

    def _boundary(self) -> int:
        """End offset of a collection: where the next token starts, or the end of text."""
        return self.lines[self.at].start if self.at < len(self.lines) else len(self.text)

    def _block(self, depth: int) -> Node:
        line = self.lines[self.at]
        if _is_item(line.text):
            return self._sequence(line.indent, depth)
        return self._mapping(line, 0, depth)

    def _mapping(self, line: _Line, skip: int, depth: int) -> Node:
        """A block mapping whose first key is ``skip`` characters into ``line``'s text."""
        if depth >= MAX_DEPTH:
            raise _GiveUp  # its values would be too deep; the complete reader says so
        column = line.indent + skip
        entries: list[tuple[Node, Node]] = []
        seen: dict[str, Node] = {}
        node = Node(_MAP, None, None, entries, line.number, column + 1, line.start + skip)
        lines = self.lines
        count = len(lines)
        entry = _ENTRY.match
        while True:
            match = entry(line.text, skip)
            if match is None:
                raise _GiveUp
            key_text, rest = match.group(1, 2)
            if key_text[-1] == " " or (_key_tags.get(key_text) or _key_tag(key_text)) is None:
                raise _GiveUp
            key_start = line.start + skip
            key_end = key_start + len(key_text)
            key = Node(_SCALAR, key_text, None, None, line.number, column + 1, key_start, key_end)
            previous = seen.get(key_text)
            if previous is not None:
                self.duplicates.append((key, previous))
            seen[key_text] = key
            if not rest or rest[0] == "#":
                self.at += 1
                value = self._nested(column, depth + 1, line, key_end + 1, indentless=True)
            else:
                value = self._scalar(line, match.start(2))
                self.at += 1
            entries.append((key, value))
            if self.at >= count:
                break
            line = lines[self.at]
            if line.indent < column or (line.indent == column and _is_item(line.text)):
                break
            if line.indent > column:
                raise _GiveUp
            skip = 0
        node.end = self._boundary()
        return node

    def _sequence(self, column: int, depth: int) -> Node:
        if depth >= MAX_DEPTH:
            raise _GiveUp
        first = self.lines[self.at]
        items: list[Node] = []
        node = Node(_SEQ, None, items, None, first.number, column + 1, first.start)
        lines = self.lines
        while self.at < len(lines):
            line = lines[self.at]
            if line.indent != column or not _is_item(line.text):
                if line.indent > column:
                    raise _GiveUp
                break
            content = line.text
            skip = 1
            while skip < len(content) and content[skip] == " ":
                skip += 1
            if skip == len(content) or content[skip] == "#":
                self.at += 1
                items.append(
                    self._nested(column, depth + 1, line, line.start + 1, indentless=False)
                )
            elif _is_item(content[skip:]):
                raise _GiveUp  # "- - x": a list in a list on one line
            elif _ENTRY.match(content, skip):
                items.append(self._mapping(line, skip, depth + 1))
            else:
                items.append(self._scalar(line, skip))
                self.at += 1
        node.end = self._boundary()
        return node

    def _nested(
        self, column: int, depth: int, line: _Line, empty_at: int, *, indentless: bool
    ) -> Node:
        """The value after ``key:`` or ``-`` that ends its line: a block below, or null."""
        if self.at < len(self.lines):
            following = self.lines[self.at]
            if following.indent > column:
                return self._block(depth)
            if indentless and following.indent == column and _is_item(following.text):
                return self._sequence(column, depth)
        column = empty_at - line.start + line.indent + 1
        return Node(_SCALAR, None, None, None, line.number, column, empty_at, empty_at)

    def _scalar(self, line: _Line, skip: int) -> Node:
        """A one-line scalar that starts ``skip`` characters into the line's text."""
        content = line.text
        quote = content[skip]
        value: JsonValue
        if quote in "'\"":
            value, end = _quoted(content, skip)
            style: str | None = quote
        else:
            value, end = _plain(content, skip)
            style = None
        start = line.start
        column = line.indent + skip + 1
        return Node(
            _SCALAR, value, None, None, line.number, column, start + skip, start + end, style
        )


def _quoted(content: str, skip: int) -> tuple[str, int]:
    """A quoted scalar that ends on its line: its value and where it ends."""
    quote = content[skip]
    close = skip + 1
    while True:
        close = content.find(quote, close)
        if close == -1:
            raise _GiveUp  # continues on the next line
        if quote == "'" and content.startswith("''", close):
            close += 2
            continue
        break
    inner = content[skip + 1 : close]
    if quote == '"' and "\\" in inner:
        raise _GiveUp  # escapes
    tail = content[close + 1 :].lstrip(" ")
    if tail and (tail[0] != "#" or content[close + 1] == "#"):
        raise _GiveUp  # more after the closing quote
    return (inner.replace("''", "'") if quote == "'" else inner), close + 1


def _plain(content: str, skip: int) -> tuple[JsonValue, int]:
    """A plain scalar that ends on its line: its value and where it ends."""
    first = content[skip]
    if first in _PLAIN_START_FORBIDDEN or (
        first in "-?:" and (len(content) == skip + 1 or content[skip + 1] == " ")
    ):
        raise _GiveUp
    comment = content.find(" #", skip)
    raw = (content[skip:comment] if comment != -1 else content[skip:]).rstrip(" ")
    if ": " in raw or raw.endswith(":"):
        raise _GiveUp
    tag = plain_tag(raw)
    if tag == STR_TAG:
        return raw, skip + len(raw)
    if not is_scalar_tag(tag):
        raise _GiveUp
    return scalar_value(tag, raw), skip + len(raw)
