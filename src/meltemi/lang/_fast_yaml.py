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

import itertools
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
    """Reads the content lines (not blank, not comments) by index.

    Line ``i`` has its text without indentation in ``texts[i]``, its indentation in
    ``indents[i]``, the offset of its first character in ``starts[i]`` and its
    1-based number in ``numbers[i]``: parallel lists are cheaper than an object per
    line.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0
        self.duplicates: list[tuple[Node, Node]] = []
        raws = text.split("\n")
        stripped = [raw.lstrip(" ") for raw in raws]
        offsets = [0, *itertools.accumulate(len(raw) + 1 for raw in raws)]
        keep = [i for i, content in enumerate(stripped) if content and content[0] != "#"]
        self.texts = [stripped[i] for i in keep]
        self.indents = [len(raws[i]) - len(stripped[i]) for i in keep]
        self.starts = [offsets[i] + indent for i, indent in zip(keep, self.indents, strict=True)]
        self.numbers = [i + 1 for i in keep]
        self.count = len(keep)
        if _DOCUMENT_MARKERS.search(text):
            if not self.count or self.indents[0] or not _DOCUMENT_START.match(self.texts[0]):
                raise _GiveUp
            for column in (self.texts, self.indents, self.starts, self.numbers):
                del column[0]
            self.count -= 1
            if _DOCUMENT_MARKERS.search(text, self.starts[0] if self.count else 0):
                raise _GiveUp

    def read(self) -> tuple[Node, list[tuple[Node, Node]]]:
        # A content line makes at most three nodes (a collection, a key, a value);
        # a longer document is left to the complete reader, which words the error.
        if 3 * self.count >= MAX_NODES:
            raise _GiveUp
        if not self.count or self.indents[0] != 0 or _is_item(self.texts[0]):
            raise _GiveUp
        root = self._mapping(0, 0)
        if self.at != self.count:
            raise _GiveUp
        return root, self.duplicates

    def _boundary(self) -> int:
        """End offset of a collection: where the next token starts, or the end of text."""
        return self.starts[self.at] if self.at < self.count else len(self.text)

    def _block(self, depth: int) -> Node:
        if _is_item(self.texts[self.at]):
            return self._sequence(self.indents[self.at], depth)
        return self._mapping(0, depth)

    def _mapping(self, skip: int, depth: int) -> Node:
        """A block mapping whose first key is ``skip`` characters into the current line."""
        if depth >= MAX_DEPTH:
            raise _GiveUp  # its values would be too deep; the complete reader says so
        texts, indents, starts, numbers = self.texts, self.indents, self.starts, self.numbers
        at = self.at
        column = indents[at] + skip
        entries: list[tuple[Node, Node]] = []
        seen: dict[str, Node] = {}
        node = Node(_MAP, None, None, entries, numbers[at], column + 1, starts[at] + skip)
        count = self.count
        entry = _ENTRY.match
        while True:
            content = texts[at]
            match = entry(content, skip)
            if match is None:
                raise _GiveUp
            key_text, rest = match.group(1, 2)
            if key_text[-1] == " " or (_key_tags.get(key_text) or _key_tag(key_text)) is None:
                raise _GiveUp
            key_start = starts[at] + skip
            key_end = key_start + len(key_text)
            key = Node(_SCALAR, key_text, None, None, numbers[at], column + 1, key_start, key_end)
            previous = seen.get(key_text)
            if previous is not None:
                self.duplicates.append((key, previous))
            seen[key_text] = key
            if not rest or rest[0] == "#":
                self.at = at + 1
                value = self._nested(at, column, depth + 1, key_end + 1, indentless=True)
            else:
                value = self._scalar(at, match.start(2))
                self.at = at + 1
            entries.append((key, value))
            at = self.at
            if at >= count:
                break
            indent = indents[at]
            if indent < column or (indent == column and _is_item(texts[at])):
                break
            if indent > column:
                raise _GiveUp
            skip = 0
        node.end = self._boundary()
        return node

    def _sequence(self, column: int, depth: int) -> Node:
        if depth >= MAX_DEPTH:
            raise _GiveUp
        texts, indents, starts = self.texts, self.indents, self.starts
        at = self.at
        items: list[Node] = []
        node = Node(_SEQ, None, items, None, self.numbers[at], column + 1, starts[at])
        while at < self.count:
            content = texts[at]
            if indents[at] != column or not _is_item(content):
                if indents[at] > column:
                    raise _GiveUp
                break
            skip = 1
            while skip < len(content) and content[skip] == " ":
                skip += 1
            if skip == len(content) or content[skip] == "#":
                self.at = at + 1
                items.append(self._nested(at, column, depth + 1, starts[at] + 1, indentless=False))
            elif _is_item(content[skip:]):
                raise _GiveUp  # "- - x": a list in a list on one line
            elif _ENTRY.match(content, skip):
                items.append(self._mapping(skip, depth + 1))
            else:
                items.append(self._scalar(at, skip))
                self.at = at + 1
            at = self.at
        node.end = self._boundary()
        return node

    def _nested(
        self, line: int, column: int, depth: int, empty_at: int, *, indentless: bool
    ) -> Node:
        """The value after ``key:`` or ``-`` that ends ``line``: a block below, or null."""
        at = self.at
        if at < self.count:
            indent = self.indents[at]
            if indent > column:
                return self._block(depth)
            if indentless and indent == column and _is_item(self.texts[at]):
                return self._sequence(column, depth)
        empty_column = empty_at - self.starts[line] + self.indents[line] + 1
        return Node(_SCALAR, None, None, None, self.numbers[line], empty_column, empty_at, empty_at)

    def _scalar(self, line: int, skip: int) -> Node:
        """A one-line scalar that starts ``skip`` characters into the text of ``line``."""
        content = self.texts[line]
        quote = content[skip]
        value: JsonValue
        if quote in "'\"":
            value, end = _quoted(content, skip)
            style: str | None = quote
        else:
            value, end = _plain(content, skip)
            style = None
        start = self.starts[line]
        column = self.indents[line] + skip + 1
        number = self.numbers[line]
        return Node(_SCALAR, value, None, None, number, column, start + skip, start + end, style)


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
