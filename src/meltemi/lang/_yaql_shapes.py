"""Recognising YAQL expressions that are certainly well formed, without the YAQL parser.

yaql's parser is written in Python (ply) and costs about 70 us per expression on
this machine; a generated workflow of 10,000 tasks has tens of thousands of
distinct expressions. Most are of a few simple shapes: ``$.name``,
``task().result.key``, ``$.count + 1``, ``$.a = 'x' and not $.b``,
``$.items.where($ > 1).len()``. This module recognises a strict subset of YAQL
(paths, calls, indexes, literals, unary and binary operators) and says "certainly
valid" only for expressions made of nothing else; for anything else the caller asks
the real parser. A differential test checks, for the corpus and for many generated
expressions, that whatever is recognised here the real parser accepts.
"""

from __future__ import annotations

import re
from typing import Final

# One token, after optional whitespace. Strings without escapes only.
_TOKEN: Final = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d+)?(?![\w.]))
      | (?P<string>'[^'\\]*'|"[^"\\]*")
      | (?P<variable>\$(?:[A-Za-z_]\w*)?)
      | (?P<name>(?!__)[A-Za-z_]\w*)
      | (?P<operator><=|>=|!=|[-+*/=<>])
      | (?P<punctuation>[.,()\[\]])
    )""",
    re.VERBOSE,
)
_KEYWORD_OPERATORS: Final = frozenset({"and", "or", "in", "mod"})
_CONSTANTS: Final = frozenset({"true", "false", "null"})
# Words that never start or name anything here (yaql keywords and look-alikes).
_RESERVED: Final = _KEYWORD_OPERATORS | _CONSTANTS | {"not", "is", "if", "then", "else"}
_BINARY: Final = frozenset({"<=", ">=", "!=", "-", "+", "*", "/", "=", "<", ">"})

_Token = tuple[str, str]  # (kind, text)

# The commonest shapes as one regular expression (matched in C, a few microseconds):
# operands joined by binary operators; an operand is a literal, $, $name, a bare
# word or a call with literal arguments, then .name, .name(...) and [literal]
# steps. Anything else goes to the recogniser below. A sub-grammar of it.
_WORD = r"(?!(?:and|or|not|in|mod|is|if|then|else)\b|__)[A-Za-z_]\w*"
_LITERAL = rf"""(?:\d+(?:\.\d+)?(?![\w.])|'[^'\\]*'|"[^"\\]*"|\$(?:[A-Za-z_]\w*)?|{_WORD})"""
_ARGUMENTS = rf"\(\s*(?:{_LITERAL}(?:\s*,\s*{_LITERAL})*)?\s*\)"
_OPERAND = (
    rf"(?:not\s+|-\s*)*(?:{_WORD}\s*{_ARGUMENTS}|{_LITERAL})"
    rf"(?:\s*\.\s*{_WORD}(?:\s*{_ARGUMENTS})?|\s*\[\s*{_LITERAL}\s*\])*"
)
_OPERATOR = r"(?:\s*(?:<=|>=|!=|[-+*/=<>])\s*|\s+(?:and|or|in|mod)\s+)"
_SIMPLE: Final = re.compile(rf"\s*{_OPERAND}(?:{_OPERATOR}{_OPERAND})*\s*")


class _NotSimple(Exception):
    pass


def _tokens(text: str) -> list[_Token] | None:
    tokens: list[_Token] = []
    position, end = 0, len(text)
    while True:
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            break
        kind = match.lastgroup or ""  # one of the groups always matches
        token = match.group(kind)
        if kind == "name" and token in _KEYWORD_OPERATORS:
            kind = "operator"
        tokens.append((kind, token))
        position = match.end()
    if text[position:end].strip():
        return None  # a character outside the subset
    return tokens


class _Recogniser:
    """expression := unary (binary-operator unary)*
    unary := ("not" | "-")* postfix
    postfix := primary ("." name ["(" arguments ")"] | "[" expression "]")*
    primary := number | string | true | false | null | $ | $name
             | name ["(" arguments ")"] | "(" expression ")"
    """

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.at = 0

    def accepts(self) -> bool:
        """True when the tokens are one whole expression of the subset."""
        try:
            self.expression(0)
        except _NotSimple:
            return False
        return self.at == len(self.tokens)

    def peek(self) -> _Token:
        return self.tokens[self.at] if self.at < len(self.tokens) else ("end", "")

    def take(self, text: str) -> None:
        if self.peek()[1] != text:
            raise _NotSimple
        self.at += 1

    def expression(self, depth: int) -> None:
        if depth > 50:
            raise _NotSimple
        self.unary(depth)
        while True:
            kind, text = self.peek()
            if kind != "operator" or not (text in _BINARY or text in _KEYWORD_OPERATORS):
                return
            self.at += 1
            self.unary(depth)

    def unary(self, depth: int) -> None:
        while self.peek() in (("name", "not"), ("operator", "-")):
            self.at += 1
        self.primary(depth)
        while True:
            _kind, text = self.peek()
            if text == ".":
                self.at += 1
                kind, name = self.peek()
                if kind != "name" or name in _RESERVED:
                    raise _NotSimple
                self.at += 1
                if self.peek()[1] == "(":
                    self.arguments(depth)
            elif text == "[":
                self.at += 1
                self.expression(depth + 1)
                self.take("]")
            else:
                return

    def primary(self, depth: int) -> None:
        kind, text = self.peek()
        if kind in ("number", "string", "variable") or text in _CONSTANTS:
            self.at += 1
        elif kind == "name" and text not in _RESERVED:
            self.at += 1  # a function call, or a bare word (yaql reads it as a string)
            if self.peek()[1] == "(":
                self.arguments(depth)
        elif text == "(":
            self.at += 1
            self.expression(depth + 1)
            self.take(")")
        else:
            raise _NotSimple

    def arguments(self, depth: int) -> None:
        self.take("(")
        if self.peek()[1] == ")":
            self.at += 1
            return
        self.expression(depth + 1)
        while self.peek()[1] == ",":
            self.at += 1
            self.expression(depth + 1)
        self.take(")")


def certainly_valid(expression: str) -> bool:
    """True when a YAQL expression (without ``<% %>``) is of a shape yaql accepts.

    False means "ask the real parser", not "invalid".
    """
    if _SIMPLE.fullmatch(expression):
        return True
    tokens = _tokens(expression)
    return bool(tokens) and _Recogniser(tokens or []).accepts()


_YAQL: Final = re.compile(r"<%.*?%>")


def certainly_valid_yaql_text(text: str) -> bool:
    """True when a string holds no Jinja and each of its ``<% %>`` is certainly valid.

    The expression inside the delimiters is taken as the expression checker takes it.
    """
    if "{{" in text or "{%" in text:
        return False
    return all(certainly_valid(match.group().strip("<%>")) for match in _YAQL.finditer(text))
