"""Placeholder: the YAQL fast path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from meltemi.expressions._functions import Functions

Compiled = Callable[[Any, Functions], Any]


class Fallback(Exception):  # a signal, not an error
    """The fast path cannot give stock yaql's answer for these values."""


def compile_statement(statement: Any) -> Compiled | None:
    return None
