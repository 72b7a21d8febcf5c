"""Jinja expressions run sandboxed: no way out to Python internals."""

from __future__ import annotations

from typing import Any

import pytest

from meltemi.expressions import EvaluationError, evaluate_string
from tests.unit.expressions.fakes import FakeHost

DATA: dict[str, Any] = {"x": 1, "s": "text", "items": [1, 2]}


@pytest.mark.parametrize(
    "text",
    [
        "{{ _.__class__ }}",
        "{{ _.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ _.s.__class__ }}",
        "{{ env.__globals__ }}",
        "{{ task.__self__ }}",
        "{{ task.__func__ }}",
        "{{ env().__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ (_ | attr('__class__')) }}",
        "{{ range(100000000) | list | length }}",
        "{{ self.__init__.__globals__ }}",
    ],
)
def test_unsafe_access_fails(text: str) -> None:
    with pytest.raises(EvaluationError):
        evaluate_string(text, DATA, FakeHost())


def test_the_functions_object_is_out_of_reach() -> None:
    with pytest.raises(EvaluationError):
        evaluate_string("{{ task.__self__.host }}", DATA, FakeHost())


def test_undefined_names_fail_even_inside_containers() -> None:
    with pytest.raises(EvaluationError):
        evaluate_string("{{ [_.missing] }}", DATA)
    with pytest.raises(EvaluationError):
        evaluate_string("{{ {'a': nothing} }}", DATA)
