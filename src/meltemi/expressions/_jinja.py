"""Jinja evaluation as Mistral does it: sandboxed, strict about undefined names.

A string that is exactly one ``{{ ... }}`` gives the expression's native value;
any other string is rendered as a template. The built-in functions are globals
(``task('t1')``) and filters (``_ | env``); ``_`` is the data root.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import jinja2
import jinja2.sandbox

from meltemi.expressions._functions import FUNCTIONS_KEY, NAMES, Functions, jinja_filter
from meltemi.expressions._syntax import JINJA_PATTERN, jinja_environment


class _Environment(jinja2.sandbox.SandboxedEnvironment):
    """The sandbox, with a shortcut for ``mapping.key``.

    Jinja first tries ``getattr(obj, "key")`` and, when that raises AttributeError,
    ``obj["key"]``; raising and catching costs more than the rest of a lookup. For a
    type whose instances have no ``__dict__`` and no custom attribute lookup, the
    attributes are known from the class, so a name that is not one of them goes
    straight to ``obj["key"]``, with the same outcome.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        names = _ATTRIBUTES.get(type(obj), _MISSING)
        if names is _MISSING:
            names = _ATTRIBUTES[type(obj)] = _fixed_attributes(obj)
        if names is not None and attribute not in names:
            try:
                return obj[attribute]
            except (TypeError, LookupError):
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


_MISSING: Final[Any] = object()
_ATTRIBUTES: dict[type, frozenset[str] | None] = {}
# Python's generic attribute lookup, as the builtin types expose it.
_GENERIC_LOOKUP: Final = frozenset(
    kind.__getattribute__ for kind in (object, dict, list, tuple, str, int, float)
)


def _fixed_attributes(obj: object) -> frozenset[str] | None:
    cls = type(obj)
    if (
        hasattr(obj, "__dict__")
        or hasattr(cls, "__getattr__")
        or cls.__getattribute__ not in _GENERIC_LOOKUP
    ):
        return None
    return frozenset(dir(cls))


def _evaluation_environment() -> jinja2.sandbox.SandboxedEnvironment:
    # The syntax checker's options (Mistral's: StrictUndefined, trim and lstrip
    # blocks), plus the functions as filters.
    checker = jinja_environment()
    environment = _Environment(
        undefined=checker.undefined,
        trim_blocks=checker.trim_blocks,
        lstrip_blocks=checker.lstrip_blocks,
    )
    for name in NAMES:
        environment.filters[name] = jinja_filter(name)
    return environment


_ENVIRONMENT: Final = _evaluation_environment()


class NoExpressionError(Exception):
    """A template of ``{% %}`` blocks without any ``{{ }}``: Mistral fails on these."""

    def __init__(self) -> None:
        super().__init__(
            "the string has Jinja blocks ({% %}) but no {{ }} expression; "
            "Mistral cannot evaluate such a string, add a {{ }} expression"
        )


Compiled = Callable[[dict[str, Any]], Any]


def compile_template(text: str) -> Compiled:
    """Compiles a string holding Jinja into a function of the render context.

    Raises jinja2's errors when the text is not valid Jinja.
    """
    match = JINJA_PATTERN.search(text)
    if match is None:

        def no_expression(context: dict[str, Any]) -> Any:
            raise NoExpressionError

        return no_expression
    if match.group(0) == text:
        expression = _ENVIRONMENT.compile_expression(match.group(1), undefined_to_none=False)
        # The template behind the expression ("{% set result = ... %}"). Running it
        # directly skips jinja copying the globals and the context for each call;
        # render_context() already holds the globals.
        template: Any = getattr(expression, "_template", None)
        if template is None:
            return lambda context: _native(expression(**context))
        _flatten_globals(template)

        def whole(context: dict[str, Any]) -> Any:
            run = template.new_context(context, shared=True)
            for _ in template.root_render_func(run):
                pass
            return _native(run.vars["result"])

        return whole
    template = _ENVIRONMENT.from_string(text)
    _flatten_globals(template)

    def render(context: dict[str, Any]) -> Any:
        return "".join(template.root_render_func(template.new_context(context, shared=True)))

    return render


def _flatten_globals(template: Any) -> None:
    # A template's globals are a ChainMap over the environment's; each run copies
    # their keys, which is slow on a ChainMap. Neither changes after compiling.
    template.globals = dict(template.globals)


def _native(result: Any) -> Any:
    """The value of a whole expression, as data the engine can store.

    A StrictUndefined fails only when used: Mistral calls str() on the result for
    that; this walks it instead, which also finds one nested in a list or dict.
    Generators and other lazy iterables (``select``) become lists, as Mistral's
    serialisation makes them; containers are copied.
    """
    if isinstance(result, str):
        return result
    if isinstance(result, jinja2.Undefined):
        str(result)  # raises UndefinedError naming what is undefined
    if isinstance(result, Mapping):
        # Copied, so the result never shares a container with the data.
        return {key: _native(value) for key, value in result.items()}
    if isinstance(result, Iterable):
        return [_native(item) for item in result]
    return result


def render_context(data: object, functions: Functions) -> dict[str, Any]:
    """What a Jinja expression sees: jinja's globals (``range``, ``dict``...), ``_``,
    Mistral's ``__env``-style names and the functions."""
    context: dict[str, Any] = dict(_GLOBALS)
    context["_"] = data
    context[FUNCTIONS_KEY] = functions
    if isinstance(data, Mapping):
        context["__env"] = data.get("__env")
        context["__execution"] = data.get("__execution")
        context["__task_execution"] = data.get("__task_execution")
    context.update(functions.jinja_globals())
    return context


_GLOBALS: Final = dict(_ENVIRONMENT.globals)
