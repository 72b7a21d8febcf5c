"""Finding expressions in strings and checking their syntax, as Mistral recognises them.

A string may hold YAQL (``<% ... %>``, several per string) or Jinja (``{{ ... }}`` and
``{% ... %}``), never both. The delimiters are matched on one line, as Mistral's
regular expressions do: a ``<%`` whose ``%>`` is on another line is plain text.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Final

import jinja2
import jinja2.sandbox

from meltemi.expressions import _yaql


class Language(enum.StrEnum):
    YAQL = "YAQL"
    JINJA = "Jinja"


YAQL_PATTERN: Final = re.compile(r"<%.*?%>")
JINJA_PATTERN: Final = re.compile(r"{{(.*?)}}")
JINJA_BLOCK_PATTERN: Final = re.compile(r"{%(.*?)%}")
# A string that is one whole expression, as Mistral's EXPRESSION schema type says.
_WHOLE_YAQL: Final = re.compile(r"^<%.*?%>\s*$")
_WHOLE_JINJA: Final = re.compile(r"^({{(.*?)}})\s*$")


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    """A syntax problem at ``offset`` (a character index into the checked string)."""

    offset: int
    message: str
    language: Language | None


def language_of(text: str) -> Language | None:
    """The expression language of a string, or None when it holds no expression.

    Jinja wins when both are present, as in Mistral, where evaluators are tried in
    name order.
    """
    if ("{{" in text and JINJA_PATTERN.search(text)) or (
        "{%" in text and JINJA_BLOCK_PATTERN.search(text)
    ):
        return Language.JINJA
    if "<%" in text and YAQL_PATTERN.search(text):
        return Language.YAQL
    return None


def is_expression(text: str) -> bool:
    return language_of(text) is not None


def is_whole_expression(text: str) -> bool:
    """True when the whole string is one expression (Mistral's EXPRESSION type)."""
    return bool(_WHOLE_YAQL.match(text) or _WHOLE_JINJA.match(text))


def yaql_fragments(text: str) -> list[tuple[int, str]]:
    """(offset, expression text) of each ``<% %>`` in a string, delimiters removed."""
    fragments = []
    for match in YAQL_PATTERN.finditer(text):
        raw = match.group()
        inner = raw.strip("<%>")
        fragments.append((match.start() + raw.find(inner) if inner else match.start(), inner))
    return fragments


def check_syntax(text: str) -> list[SyntaxProblem]:
    """Every syntax problem of the expressions in a string; [] when there is none."""
    has_jinja = ("{{" in text and bool(JINJA_PATTERN.search(text))) or (
        "{%" in text and bool(JINJA_BLOCK_PATTERN.search(text))
    )
    has_yaql = "<%" in text and bool(YAQL_PATTERN.search(text))
    if has_jinja and has_yaql:
        yaql_at = YAQL_PATTERN.search(text)
        return [
            SyntaxProblem(
                yaql_at.start() if yaql_at else 0,
                "YAQL (<% %>) and Jinja ({{ }}) are mixed in one string; use one language",
                None,
            )
        ]
    if has_yaql:
        return _check_yaql(text)
    if has_jinja:
        return _check_jinja(text)
    return []


def _check_yaql(text: str) -> list[SyntaxProblem]:
    problems = []
    for offset, inner in yaql_fragments(text):
        if not inner.strip():
            problems.append(SyntaxProblem(offset, "the YAQL expression is empty", Language.YAQL))
            continue
        found = _yaql.syntax_problem(inner)
        if found is not None:
            position, reason = found
            problems.append(SyntaxProblem(offset + position, reason, Language.YAQL))
    return problems


_jinja_environment = jinja2.sandbox.SandboxedEnvironment(
    undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
)


def jinja_environment() -> jinja2.sandbox.SandboxedEnvironment:
    """The shared sandboxed Jinja environment (Mistral's options)."""
    return _jinja_environment


def _check_jinja(text: str) -> list[SyntaxProblem]:
    try:
        _jinja_environment.parse(text)
    except jinja2.TemplateSyntaxError as e:
        lines = text.split("\n")
        line_index = max(0, min((e.lineno or 1) - 1, len(lines) - 1))
        offset = sum(len(line) + 1 for line in lines[:line_index])
        line = lines[line_index]
        starts = [i for i in (line.find("{{"), line.find("{%")) if i != -1]
        if starts:
            offset += min(starts)
        return [SyntaxProblem(offset, e.message or "invalid Jinja syntax", Language.JINJA)]
    return []
