"""Evaluating task policy values (numbers and flags that may be expressions)."""

from __future__ import annotations

from collections.abc import Mapping

from meltemi.engine import dataflow
from meltemi.engine._step import Step
from meltemi.engine.records import JsonValue, TaskExecution
from meltemi.expressions import EvaluationError


class PolicyValueError(Exception):
    """A policy expression failed or gave a value of the wrong kind."""


def _value(
    step: Step, task: TaskExecution, raw: object, scope: Mapping[str, JsonValue]
) -> JsonValue:
    if not isinstance(raw, str):
        return raw
    try:
        return dataflow.evaluate(step.state, raw, scope, task)
    except EvaluationError as e:
        raise PolicyValueError(str(e)) from e


def count(
    step: Step,
    task: TaskExecution,
    raw: object,
    scope: Mapping[str, JsonValue],
    what: str,
) -> int:
    """A whole number >= 0 (seconds, counts); 0 when the policy is not set."""
    if raw is None:
        return 0
    value = _value(step, task, raw, scope)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PolicyValueError(
            f"task '{task.name}': '{what}' must be a whole number >= 0, "
            f"but its expression gave {value!r}"
        )
    return value


def flag(
    step: Step,
    task: TaskExecution,
    raw: object,
    scope: Mapping[str, JsonValue],
) -> bool:
    """A boolean policy value; false when the policy is not set."""
    if raw is None:
        return False
    return bool(_value(step, task, raw, scope))
