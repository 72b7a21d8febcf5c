"""The YAQL fast path: common expression shapes compiled into Python closures.

Stock yaql resolves overloads for every operator at every evaluation and first
converts the whole data root (lists to tuples, dicts to frozen dicts). Most workflow
expressions are simple (``$.x + 1``, ``task(t).result.items[0]``, ``$.a = 'b' and
not $.c``), so this module compiles such trees into closures that work on the plain
data directly.

The rule that keeps it exact: a closure either returns exactly what stock yaql
would return, or raises ``Fallback`` and the expression is evaluated by stock yaql.
Shapes not handled here (most library functions, lambdas other than those of
``where``/``select``, keyword arguments, ``->``) are never compiled; at run time an
operand of a type whose yaql semantics are not reproduced (booleans in arithmetic,
containers in ``=``, ...) raises ``Fallback``; so does every error, so stock yaql
reports it in its own words. Lists and tuples are treated alike, which is safe
because the operations kept here never tell them apart (stock yaql sees data lists
as tuples and function results as lists); ``where``/``select`` results are marked
(``Lazy``) because yaql's are iterators, which do differ.
``tests/unit/expressions/test_fast_path_differential.py`` holds the proof.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from yaql.language import expressions as nodes

from meltemi.expressions import _fast_ops as ops
from meltemi.expressions._fast_ops import Fallback
from meltemi.expressions._functions import Functions

__all__ = ["Compiled", "Fallback", "compile_statement"]

Compiled = Callable[[Any, Functions], Any]


class _Unsupported(Exception):
    """This tree has a shape the fast path does not compile."""


# The context variables Mistral sets besides `$` (raw entries of the data root).
_DATA_VARIABLES: Final = {
    "$__env": "__env",
    "$__execution": "__execution",
    "$__task_execution": "__task_execution",
}


def compile_statement(statement: Any) -> Compiled | None:
    """A closure evaluating a parsed statement on plain data, or None when its shape
    is not one the fast path handles."""
    try:
        body = _Compiler(in_lambda=False).compile(statement.expression)
    except _Unsupported:
        return None

    def run(data: Any, functions: Functions) -> Any:
        try:
            return ops.output(body(data, functions))
        except Fallback:
            raise
        except Exception as e:
            # Stock yaql evaluates again and reports the error in its own words.
            raise Fallback from e

    return run


class _Compiler:
    """Compiles one scope: the statement, or the body of a lambda (``where($ > 1)``).

    Closures take ``(data, functions)`` where ``data`` is what ``$`` means: the data
    root, or in a lambda the current item.
    """

    __slots__ = ("in_lambda",)

    def __init__(self, *, in_lambda: bool) -> None:
        self.in_lambda = in_lambda

    def compile(self, node: Any) -> Compiled:
        kind = type(node)
        if kind is nodes.Constant or kind is nodes.KeywordConstant:
            value = node.value
            if type(value) not in ops.SCALARS:
                raise _Unsupported
            return lambda data, functions: value
        if kind is nodes.Wrap:
            return self.compile(node.expr)
        if kind is nodes.GetContextValue:
            return self.variable(node.path.value)
        if kind is nodes.ListExpression:
            items = self.all(node.args)
            return lambda data, functions: [item(data, functions) for item in items]
        if kind is nodes.MapExpression:
            return self.map(node.args)
        if kind is nodes.IndexExpression:
            return self.index(node.args)
        if kind is nodes.BinaryOperator:
            return self.binary(node)
        if kind is nodes.UnaryOperator:
            return self.unary(node)
        if kind is nodes.Function:
            return _call(node.name, self.all(node.args))
        raise _Unsupported

    def all(self, args: tuple[Any, ...]) -> list[Compiled]:
        if any(type(arg) is nodes.MappingRuleExpression for arg in args):
            raise _Unsupported  # keyword arguments: yaql renames them by convention
        return [self.compile(arg) for arg in args]

    def variable(self, name: str) -> Compiled:
        if name in ("$", "$1"):
            return lambda data, functions: data
        key = _DATA_VARIABLES.get(name)
        if key is not None:
            if self.in_lambda:
                raise _Unsupported  # they name the root, which a lambda's closures lack

            def data_variable(data: Any, functions: Functions) -> Any:
                return data.get(key) if isinstance(data, Mapping) else None

            return data_variable
        # Nothing else is set in an evaluation's context (a lambda sets only `$1`);
        # yaql gives null for it.
        return lambda data, functions: None

    def map(self, args: tuple[Any, ...]) -> Compiled:
        pairs = []
        for rule in args:
            if type(rule) is not nodes.MappingRuleExpression:
                raise _Unsupported
            source = rule.source
            if type(source) not in (nodes.Constant, nodes.KeywordConstant):
                raise _Unsupported  # computed keys may be unhashable here but not in yaql
            if type(source.value) not in ops.SCALARS:
                raise _Unsupported
            pairs.append((source.value, self.compile(rule.destination)))
        return lambda data, functions: {key: value(data, functions) for key, value in pairs}

    def index(self, args: tuple[Any, ...]) -> Compiled:
        if len(args) == 2:
            target, key = self.all(args)

            def index(data: Any, functions: Functions) -> Any:
                return ops.item(target(data, functions), key(data, functions))

            return index
        if len(args) == 3:
            target, key, default = self.all(args)

            def index_or_default(data: Any, functions: Functions) -> Any:
                container = target(data, functions)
                found = key(data, functions)
                fallback = default(data, functions)
                if not isinstance(container, Mapping) or type(found) not in ops.SCALARS:
                    raise Fallback
                return container.get(found, fallback)

            return index_or_default
        raise _Unsupported

    def binary(self, node: Any) -> Compiled:
        name = node.name
        left_node, right_node = node.args
        if name in ("#operator_.", "#operator_?."):
            return self.dot(left_node, right_node, elvis=name == "#operator_?.")
        left, right = self.compile(left_node), self.compile(right_node)
        if name == "#operator_and":

            def both(data: Any, functions: Functions) -> Any:
                value = left(data, functions)
                return right(data, functions) if ops.truthy(value) else value

            return both
        if name == "#operator_or":

            def either(data: Any, functions: Functions) -> Any:
                value = left(data, functions)
                return value if ops.truthy(value) else right(data, functions)

            return either
        apply = ops.BINARY.get(name)
        if apply is None:
            raise _Unsupported

        def binary(data: Any, functions: Functions) -> Any:
            return apply(left(data, functions), right(data, functions))

        return binary

    def dot(self, receiver_node: Any, member: Any, *, elvis: bool) -> Compiled:
        receiver = self.compile(receiver_node)
        if type(member) is nodes.KeywordConstant:
            return _attribute(receiver, member.value, elvis=elvis)
        if type(member) is not nodes.Function:
            raise _Unsupported
        if member.name in ops.QUERIES:
            lambdas = _Compiler(in_lambda=True).all(member.args)
            if len(lambdas) != 1:
                raise _Unsupported
            return _query(receiver, ops.QUERIES[member.name], lambdas[0], elvis=elvis)
        if member.name in ops.METHODS:
            fewest, most, method = ops.METHODS[member.name]
            args = self.all(member.args)
            if not fewest <= len(args) <= most:
                raise _Unsupported
            return _method(receiver, method, args, elvis=elvis)
        raise _Unsupported

    def unary(self, node: Any) -> Compiled:
        (operand,) = self.all(node.args)
        if node.name == "#unary_operator_not":
            return lambda data, functions: not ops.truthy(operand(data, functions))
        if node.name in ("#unary_operator_-", "#unary_operator_+"):
            negate = node.name == "#unary_operator_-"

            def sign(data: Any, functions: Functions) -> Any:
                value = operand(data, functions)
                if type(value) not in ops.NUMBERS:
                    raise Fallback
                return -value if negate else +value

            return sign
        raise _Unsupported


def _attribute(receiver: Compiled, key: str, *, elvis: bool) -> Compiled:
    def attribute(data: Any, functions: Functions) -> Any:
        value = receiver(data, functions)
        if isinstance(value, Mapping):
            found = value.get(key, ops.MISSING)
            if found is not ops.MISSING:
                return found
        elif elvis and value is None:
            return None
        # Missing key (KeyError), or a list (yaql maps over it lazily), or no such
        # property: stock yaql decides.
        raise Fallback

    return attribute


def _query(
    receiver: Compiled,
    query: Callable[[Any, Callable[[Any], Any]], Any],
    body: Compiled,
    *,
    elvis: bool,
) -> Compiled:
    def call_query(data: Any, functions: Functions) -> Any:
        value = receiver(data, functions)
        if elvis and value is None:
            return None
        return query(value, lambda item: body(item, functions))

    return call_query


def _method(
    receiver: Compiled, method: Callable[..., Any], args: list[Compiled], *, elvis: bool
) -> Compiled:
    def call_method(data: Any, functions: Functions) -> Any:
        value = receiver(data, functions)
        if elvis and value is None:
            return None
        return method(value, *[arg(data, functions) for arg in args])

    return call_method


def _call(name: str, args: list[Compiled]) -> Compiled:
    pure = ops.PURE.get(name)
    if pure is not None:
        if len(args) != 1:
            raise _Unsupported
        (argument,) = args
        return lambda data, functions: pure(argument(data, functions))
    bounds = ops.HOST.get(name)
    if bounds is None or not bounds[0] <= len(args) <= bounds[1]:
        raise _Unsupported
    strings_only = name in ops.STRING_ARGUMENT

    def call_host(data: Any, functions: Functions) -> Any:
        values = [arg(data, functions) for arg in args]
        if strings_only and any(type(value) not in (str, type(None)) for value in values):
            raise Fallback
        if any(type(value) is ops.Lazy for value in values):
            raise Fallback  # yaql hands functions its iterators
        return functions.by_name(name)(*values)

    return call_host
