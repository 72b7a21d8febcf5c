"""Reading typed values out of YAML nodes, collecting diagnostics instead of raising.

:class:`Reader` is what the spec builders use to ask "is this a mapping?", "is this a
count or an expression?", "are these expressions well formed?". Every check that
fails adds a diagnostic with the node's position and attribute path, and returns a
usable fallback so that building goes on and all errors are reported at once.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Collection, Iterable
from typing import Final

from meltemi.expressions import SyntaxProblem, check_syntax, is_expression, is_whole_expression
from meltemi.lang._yaml import JsonValue, Node, SourceText
from meltemi.lang._yaql_shapes import certainly_valid_yaql_text
from meltemi.lang.errors import Diagnostic, Severity
from meltemi.lang.specs import RESERVED_CONTEXT_KEYS, Expr, Param, Transition

WORD: Final = re.compile(r"^\w+$")
_EXPRESSION_HINT: Final = "write it as one expression, e.g. <% $.value %> or {{ _.value }}"


def join_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Reader:
    """Typed reads of YAML nodes with diagnostics for everything that does not fit."""

    def __init__(self, source: SourceText, diagnostics: list[Diagnostic]) -> None:
        self.source = source
        self.diagnostics = diagnostics
        # Transitions read so far, with their attribute paths, for the graph checks.
        self.transitions: list[tuple[Transition, str]] = []

    # -- reporting -------------------------------------------------------------------

    def error(
        self, node: Node, path: str, code: str, message: str, hint: str | None = None
    ) -> None:
        self.report(node.line, node.column, path, code, message, hint, Severity.ERROR)

    def warning(
        self, node: Node, path: str, code: str, message: str, hint: str | None = None
    ) -> None:
        self.report(node.line, node.column, path, code, message, hint, Severity.WARNING)

    def report(
        self,
        line: int,
        column: int,
        path: str,
        code: str,
        message: str,
        hint: str | None,
        severity: Severity,
    ) -> None:
        self.diagnostics.append(
            Diagnostic(
                severity=severity,
                code=code,
                message=message,
                file=self.source.file,
                line=line,
                column=column,
                path=path,
                hint=hint,
            )
        )

    # -- structure -------------------------------------------------------------------

    def mapping(self, node: Node, path: str, what: str) -> bool:
        if node.is_map:
            return True
        self.error(node, path, "wrong-type", f"{what} must be a mapping, not {node.describe()}")
        return False

    def check_keys(self, node: Node, path: str, allowed: Collection[str], what: str) -> None:
        """Reports each key of a mapping that is not an allowed attribute."""
        for key, key_node, _value in node.unique_entries():
            if key not in allowed:
                self.unknown_attribute(key_node, path, key, allowed, what)

    def unknown_attribute(
        self, key_node: Node, path: str, key: str, allowed: Collection[str], what: str
    ) -> None:
        close = suggest(key, allowed)
        hint = (
            f"did you mean '{close}'?" if close else "allowed here: " + ", ".join(sorted(allowed))
        )
        self.error(
            key_node,
            join_path(path, key),
            "unknown-attribute",
            f"unknown attribute '{key}' in {what}",
            hint,
        )

    def string(self, node: Node, path: str, what: str, *, expressions: bool = True) -> str | None:
        """A non-empty string (expressions in it are checked)."""
        if not node.is_str or node.scalar == "":
            self.error(
                node,
                path,
                "wrong-type",
                f"{what} must be a non-empty string, not {node.describe()}",
            )
            return None
        text = str(node.scalar)
        if expressions:
            self.check_expressions(node, path, text)
        return text

    def string_list(
        self, node: Node, path: str, what: str, *, allow_single: bool = False
    ) -> tuple[str, ...]:
        """A list of unique non-empty strings (or one string, when allowed)."""
        if allow_single and node.is_str:
            value = self.string(node, path, what, expressions=False)
            return (value,) if value else ()
        if not node.is_seq or not node.items:
            expected = "a string or a list of strings" if allow_single else "a list of strings"
            self.error(
                node, path, "wrong-type", f"{what} must be {expected}, not {node.describe()}"
            )
            return ()
        values: list[str] = []
        for i, item in enumerate(node.items):
            value = self.string(
                item, join_path(path, i), f"each entry of {what}", expressions=False
            )
            if value is None:
                continue
            if value in values:
                self.error(
                    item,
                    join_path(path, i),
                    "duplicate",
                    f"'{value}' appears twice in {what}",
                    "remove one of them",
                )
                continue
            values.append(value)
        return tuple(values)

    def description(self, node: Node, path: str) -> str | None:
        return self.string(node, path, "'description'", expressions=False)

    def tags(self, node: Node, path: str) -> tuple[str, ...]:
        return self.string_list(node, path, "'tags'")

    # -- numbers, booleans, expressions ----------------------------------------------

    def expression(self, node: Node, path: str, what: str) -> Expr | None:
        """A string that is one whole expression."""
        if node.is_str and is_whole_expression(str(node.scalar)):
            text = str(node.scalar)
            self.check_expressions(node, path, text)
            return Expr(text)
        self.error(
            node,
            path,
            "not-an-expression",
            f"{what} must be an expression, not {node.describe()}"
            + (f" '{node.scalar}'" if node.is_str and node.scalar else ""),
            _EXPRESSION_HINT,
        )
        return None

    def count_or_expression(self, node: Node, path: str, what: str) -> int | Expr | None:
        """An integer >= 0 (seconds, counts) or an expression."""
        value = node.scalar
        if node.is_scalar and isinstance(value, int) and not isinstance(value, bool):
            if value < 0:
                self.error(
                    node,
                    path,
                    "negative",
                    f"{what} must be 0 or more, not {value}",
                    f"use a whole number such as {abs(value)}",
                )
                return None
            return value
        if node.is_scalar and isinstance(value, float) and value.is_integer() and value >= 0:
            return int(value)
        if node.is_str:
            return self.expression(node, path, f"{what} (when a string)")
        if node.is_scalar and isinstance(value, float):
            hint = f"use a whole number such as {max(round(value), 0)}"
            self.error(
                node, path, "not-integer", f"{what} must be a whole number, not {value}", hint
            )
            return None
        self.error(
            node,
            path,
            "wrong-type",
            f"{what} must be a whole number or an expression, not {node.describe()}",
        )
        return None

    def bool_or_expression(self, node: Node, path: str, what: str) -> bool | Expr | None:
        if node.is_scalar and isinstance(node.scalar, bool):
            return node.scalar
        if node.is_str:
            return self.expression(node, path, f"{what} (when a string)")
        self.error(
            node,
            path,
            "wrong-type",
            f"{what} must be true, false or an expression, not {node.describe()}",
        )
        return None

    # -- data ------------------------------------------------------------------------

    def data(self, node: Node, path: str) -> JsonValue:
        """Any JSON value; every expression in its strings is checked."""
        if node.is_scalar:
            if isinstance(node.scalar, str):
                self.check_expressions(node, path, node.scalar)
            return node.scalar
        if node.is_seq:
            return [self.data(item, join_path(path, i)) for i, item in enumerate(node.items)]
        return {
            key: self.data(value, join_path(path, key))
            for key, _key_node, value in node.unique_entries()
        }

    def named_data(self, node: Node, path: str, what: str) -> dict[str, JsonValue]:
        """A non-empty mapping of names (\\w+) to data: publish, output, vars, base-input."""
        if not node.is_map or not node.entries:
            self.error(
                node,
                path,
                "wrong-type",
                f"{what} must be a non-empty mapping of names to values, not {node.describe()}",
            )
            return {}
        result: dict[str, JsonValue] = {}
        for key, key_node, value in node.unique_entries():
            if not WORD.match(key):
                # Mistral's schema does not check such names; expressions can only
                # reach them as $['my-name'], so it is most likely a slip.
                self.warning(
                    key_node,
                    join_path(path, key),
                    "bad-name",
                    f"'{key}' in {what} is not a plain name: an expression cannot read it "
                    f"as $.{key}",
                    "use letters, digits and underscores only",
                )
            result[key] = self.data(value, join_path(path, key))
        return result

    def check_expressions(self, node: Node, path: str, text: str) -> None:
        if "<%" not in text and "{" not in text:
            return  # no expression can start here (the usual case, decided cheaply)
        if not is_expression(text) and "<%" not in text:
            return
        for problem in _syntax_problems(text):
            line, column = self.source.locate_in_node(node, text, problem.offset)
            if (line, column) == (node.line, node.column) and node.style in ("'", '"'):
                column += 1
            language = f"{problem.language} " if problem.language else ""
            self.report(
                line,
                column,
                path,
                "expression-syntax",
                f"invalid {language}expression: {problem.message}",
                "fix the expression; it is checked when the workflow is registered",
                Severity.ERROR,
            )

    # -- declared parameters ---------------------------------------------------------

    def params(self, node: Node, path: str, what: str) -> tuple[Param, ...]:
        """``input:`` lists: names, or one-key mappings ``{name: default}``."""
        if not node.is_seq or not node.items:
            self.error(
                node,
                path,
                "wrong-type",
                f"{what} must be a list of names or 'name: default' entries, not {node.describe()}",
            )
            return ()
        params: list[Param] = []
        seen: set[str] = set()
        for i, item in enumerate(node.items):
            item_path = join_path(path, i)
            param = self._param(item, item_path, what)
            if param is None:
                continue
            if param.name in seen:
                self.error(
                    item,
                    item_path,
                    "duplicate",
                    f"'{param.name}' appears twice in {what}",
                    "declare each parameter once",
                )
                continue
            if param.name in RESERVED_CONTEXT_KEYS:
                self.error(
                    item,
                    item_path,
                    "reserved-name",
                    f"'{param.name}' is a name the engine reserves for its own data",
                    "rename the parameter",
                )
            seen.add(param.name)
            params.append(param)
        return tuple(params)

    def _param(self, item: Node, path: str, what: str) -> Param | None:
        if item.is_str and item.scalar:
            return Param(name=str(item.scalar))
        if item.is_map and len(item.entries) == 1:
            key_node, value = item.entries[0]
            return Param(name=str(key_node.scalar), required=False, default=value.to_python())
        self.error(
            item,
            path,
            "wrong-type",
            f"each entry of {what} must be a name or a one-key mapping 'name: default', "
            f"not {item.describe()}",
        )
        return None


@functools.lru_cache(maxsize=8192)
def _syntax_problems(text: str) -> tuple[SyntaxProblem, ...]:
    """The syntax problems of a string's expressions; workflows repeat expressions a lot.

    Expressions of the simple shapes most workflows use are known to be well formed
    without asking yaql's (slow) parser.
    """
    if certainly_valid_yaql_text(text):
        return ()
    return tuple(check_syntax(text))


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else None
