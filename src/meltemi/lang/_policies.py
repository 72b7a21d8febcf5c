"""Task policies: retry (a mapping or one line), waits, timeout, pause, concurrency, fail-on."""

from __future__ import annotations

from typing import Final

from meltemi.expressions import is_whole_expression
from meltemi.lang._inline import parse_inline
from meltemi.lang._reader import Reader, join_path
from meltemi.lang._yaml import Node
from meltemi.lang.specs import Expr, Policies, RetrySpec

POLICY_KEYS: Final = (
    "retry",
    "wait-before",
    "wait-after",
    "timeout",
    "pause-before",
    "concurrency",
    "fail-on",
)


_NO_POLICIES: Final = Policies()
_POLICY_KEY_SET: Final = frozenset(POLICY_KEYS)


def policies(reader: Reader, node: Node, path: str) -> Policies:
    values: dict[str, object] = {}
    for key, _k, value in node.unique_entries():
        if key not in _POLICY_KEY_SET:
            continue
        key_path = join_path(path, key)
        field_name = key.replace("-", "_")
        if key == "retry":
            values["retry"] = _retry(reader, value, key_path)
        elif key in ("wait-before", "wait-after", "timeout", "concurrency"):
            values[field_name] = reader.count_or_expression(value, key_path, f"'{key}'")
        else:
            values[field_name] = reader.bool_or_expression(value, key_path, f"'{key}'")
    if not values:
        return _NO_POLICIES  # frozen, so one instance serves every task without policies
    return Policies(**values)  # type: ignore[arg-type]  # keys are Policies fields


_RETRY_KEYS: Final = frozenset({"count", "delay", "break-on", "continue-on"})


def _retry(reader: Reader, node: Node, path: str) -> RetrySpec | None:
    if node.is_str and node.scalar:
        return _retry_inline(reader, node, path)
    if not node.is_map:
        reader.error(
            node,
            path,
            "wrong-type",
            f"'retry' must be a mapping (count, delay, break-on, continue-on) or "
            f"'count=N delay=N', not {node.describe()}",
        )
        return None
    reader.check_keys(node, path, _RETRY_KEYS, "'retry'")
    count = delay = None
    break_on = continue_on = None
    for key, _k, value in node.unique_entries():
        key_path = join_path(path, key)
        if key == "count":
            count = reader.count_or_expression(value, key_path, "retry 'count'")
        elif key == "delay":
            delay = reader.count_or_expression(value, key_path, "retry 'delay'")
        elif key == "break-on":
            break_on = reader.expression(value, key_path, "'break-on'")
        elif key == "continue-on":
            continue_on = reader.expression(value, key_path, "'continue-on'")
    for required in ("count", "delay"):
        if node.get(required) is None:
            reader.error(
                node,
                path,
                "missing-attribute",
                f"'retry' needs '{required}'",
                "e.g. retry: {count: 3, delay: 10}",
            )
    if count is None or delay is None:
        return None
    return RetrySpec(count=count, delay=delay, break_on=break_on, continue_on=continue_on)


def _retry_inline(reader: Reader, node: Node, path: str) -> RetrySpec | None:
    text = str(node.scalar)
    parsed = parse_inline(text)
    params = parsed.params
    # Mistral reads no parameters at all from a one-word string ("count=3"); say
    # what is missing in terms of what the user wrote.
    as_written = parse_inline(f"retry {text}")
    written = params or as_written.params
    problems = []
    for required in ("count", "delay"):
        if required not in written:
            pieces = as_written.dropped
            unread = next((p.text for p in pieces if p.text.startswith(f"{required}=")), "")
            problems.append(
                f"'{required}' ('{unread}' cannot be read)" if unread else f"'{required}'"
            )
    if not problems and not params:
        problems.append("a space between its parameters")
    unknown = sorted(set(written) - _RETRY_KEYS)
    if problems or unknown:
        message = (
            f"retry '{text}' needs {' and '.join(problems)}"
            if problems
            else (f"retry '{text}' has unknown parameters: {', '.join(unknown)}")
        )
        hint = (
            "count and delay are whole numbers of 0 or more, or expressions: "
            "retry: count=3 delay=10"
        )
        reader.error(node, path, "bad-retry", message, hint)
        return None

    def number(key: str) -> int | Expr | None:
        value = params[key]
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if isinstance(value, str) and is_whole_expression(value):
            reader.check_expressions(node, path, value)
            return Expr(value)
        reader.error(
            node,
            path,
            "bad-retry",
            f"retry '{key}' must be a whole number >= 0 or an expression",
            "write e.g. retry: count=3 delay=10",
        )
        return None

    def expr(key: str) -> Expr | None:
        value = params.get(key)
        if value is None:
            return None
        if isinstance(value, str) and is_whole_expression(value):
            reader.check_expressions(node, path, value)
            return Expr(value)
        reader.error(node, path, "not-an-expression", f"retry '{key}' must be an expression")
        return None

    count, delay = number("count"), number("delay")
    if count is None or delay is None:
        return None
    return RetrySpec(
        count=count, delay=delay, break_on=expr("break-on"), continue_on=expr("continue-on")
    )
