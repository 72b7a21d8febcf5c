"""Inline parameters: ``std.echo output="hi" n=3``, ``fail msg=<% $.x %>``, ``retry: count=3``.

Mistral reads a command and its parameters out of one string with regular
expressions: the command is the first word (or an expression), and every
``name=value`` where value is a quoted string, an expression, a JSON list, ``true``,
``false``, ``null`` or digits becomes a parameter. Values that fit none of these
(``output=fast``) are silently dropped. We read them the same way, and also report
the parts of the string that were dropped so that the validator can warn about them.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from dataclasses import dataclass
from typing import Final

from meltemi.lang._yaml import JsonValue

YAQL_INLINE: Final = r"<%.*?%>"
JINJA_INLINE: Final = r"({{(.*?)}})"
JINJA_ANY: Final = r"{{.*}}|{%.*%}"

_EXPRESSION: Final = f"{JINJA_INLINE}|{YAQL_INLINE}"
_VALUE_FORMS: Final = (
    r"\"[^\"]*\"\s*",
    r"'[^']*'\s*",
    _EXPRESSION,
    r"\[.*\]\s*",
    "true",
    "false",
    "null",
    r"\d+",
)
_CMD: Final = re.compile(rf"^([\w\.]+[^=\(\s\"]*|{YAQL_INLINE}|{JINJA_ANY})")
_PARAM: Final = re.compile(r"([-_\w]+)=({})".format("|".join(_VALUE_FORMS)))
_TYPOGRAPHIC_QUOTES: Final = "\u201c\u201d\u201e\u2018\u2019\u00ab\u00bb"


@dataclass(frozen=True, slots=True)
class DroppedText:
    """A piece of an inline string that yields no parameter (Mistral ignores it)."""

    offset: int
    text: str


@dataclass(frozen=True, slots=True)
class InlineCommand:
    command: str | None
    params: dict[str, JsonValue]
    dropped: tuple[DroppedText, ...]
    params_offsets: dict[str, int]


def parse_inline(text: str) -> InlineCommand:
    """Splits ``name p1=v1 p2=v2`` into the name and its parameters, as Mistral does.

    ``command`` is None when the string does not start with a name or an expression
    (Mistral rejects such a string with "Invalid action/workflow task property").
    The result is the caller's own: its dictionaries and lists are never shared.
    """
    if " " not in text:
        return InlineCommand(text, {}, (), {})
    parsed = _parse_cached(text)
    params = {
        k: copy.deepcopy(v) if isinstance(v, list | dict) else v for k, v in parsed.params.items()
    }
    return InlineCommand(parsed.command, params, parsed.dropped, dict(parsed.params_offsets))


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str) -> InlineCommand:
    """Workflows repeat the same action lines; read each once."""
    cmd_match = _CMD.search(text)
    if cmd_match is None:
        return InlineCommand(None, {}, (), {})
    params: dict[str, JsonValue] = {}
    offsets: dict[str, int] = {}
    covered = [(cmd_match.start(), cmd_match.end())]
    for match in _PARAM.finditer(text):
        key = match.group(1)
        raw = match.group(2).strip()
        value: JsonValue
        if raw[0] in "\"'":
            value = raw[1:-1]
        elif raw[0] in "<{":
            value = raw  # an expression; never JSON (json.loads would only fail)
        else:
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw
        params[key] = value
        offsets[key] = match.start(2)
        covered.append((match.start(), match.end()))
    return InlineCommand(cmd_match.group(), params, _dropped(text, covered), offsets)


def _dropped(text: str, covered: list[tuple[int, int]]) -> tuple[DroppedText, ...]:
    dropped: list[DroppedText] = []
    position = 0
    for start, end in sorted(covered):
        if start > position:
            _collect(text, position, start, dropped)
        position = max(position, end)
    _collect(text, position, len(text), dropped)
    return tuple(dropped)


_NEXT_PARAM: Final = re.compile(r"\s+(?=[-\w]+=)")


def _collect(text: str, start: int, end: int, out: list[DroppedText]) -> None:
    """Adds the non-blank pieces of text[start:end], one per ``name=value``."""
    piece = text[start:end]
    offset = start
    for part in _NEXT_PARAM.split(piece):
        stripped = part.strip()
        if stripped:
            at = text.index(stripped, offset)
            out.append(DroppedText(at, stripped))
            offset = at + len(stripped)


def glued_to(text: str, piece: DroppedText) -> str:
    """The parameter a dropped piece was cut from (``output=1`` for ``.5``), or ''."""
    if piece.offset == 0 or text[piece.offset - 1].isspace():
        return ""
    start = max(text.rfind(" ", 0, piece.offset), text.rfind("(", 0, piece.offset)) + 1
    return text[start : piece.offset]


_PYTHON_LITERALS: Final = {"True": "true", "False": "false", "None": "null"}
_NUMBER: Final = re.compile(r"-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")


def explain_dropped(piece: str, glued: str = "") -> tuple[str, str]:
    """Why an inline piece is ignored, and how to write it instead.

    Args:
        piece: the text Mistral's parameter pattern does not read.
        glued: the parameter the piece was cut from, when there is no space between
            them (``output=1`` and ``.5``): that parameter is passed, cut short.
    """
    if glued and "=" in glued:
        name, _eq, read = glued.partition("=")
        written = read + piece
        return (
            f"inline parameter '{glued}{piece}' is read as {name}={read}: "
            f"the rest, '{piece}', is ignored",
            f"quote the value ({name}=\"{written}\") or put it under 'input:' ({name}: {written})",
        )
    name, eq, value = piece.partition("=")
    value = value.strip()
    if eq and any(q in value for q in _TYPOGRAPHIC_QUOTES):
        fixed = value
        for q in _TYPOGRAPHIC_QUOTES:
            fixed = fixed.replace(q, '"')
        return (
            f"inline parameter '{piece}' uses a typographic quote, so it is ignored "
            "and the parameter is not passed",
            f"use plain ASCII quotes: {name}={fixed}",
        )
    literal = _PYTHON_LITERALS.get(value) or _PYTHON_LITERALS.get(value.capitalize())
    if eq and literal:
        return (
            f"inline parameter '{piece}' is not a JSON literal, so it is ignored "
            "and the parameter is not passed",
            f"write {name}={literal} (JSON literals are lowercase)",
        )
    if eq and _NUMBER.fullmatch(value):
        return (
            f"inline parameter '{piece}' is ignored: inline numbers can only be whole "
            "numbers of 0 or more, and the parameter is not passed",
            f"put it under 'input:' ({name}: {value}), or quote it for a string",
        )
    if eq and value and re.fullmatch(r"[-\w.]+", name):
        return (
            f"inline parameter '{piece}' has an unquoted value, so it is ignored "
            "and the parameter is not passed",
            f"quote the value: {name}=\"{value}\" (or move it under 'input:')",
        )
    return (
        f"'{piece}' is not an inline parameter and is ignored",
        "write parameters as name=value with quoted strings, or under 'input:'",
    )
