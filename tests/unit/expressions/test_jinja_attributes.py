"""The Jinja attribute shortcut gives what jinja's own sandbox gives."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import jinja2
import jinja2.sandbox
import pytest

from meltemi.expressions import _jinja
from meltemi.expressions._functions import Functions

PLAIN = jinja2.sandbox.SandboxedEnvironment(
    undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
)


class SlotsView(Mapping[str, Any]):
    """Like the engine's layered context view: a Mapping with slots only."""

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class Dynamic(dict[str, Any]):
    """Custom attribute lookup: the shortcut must not apply."""

    def __getattr__(self, name: str) -> Any:
        return f"attr:{name}"


INNER = {"a": 1, "items": [1, 2], "get": "key", "keys": "k", "_data": "secret-ish", "n": None}
ROOTS = [INNER, SlotsView(INNER), Dynamic(INNER), [1, 2], "text", 5, None]


def outcome(environment: jinja2.Environment, text: str, root: Any) -> tuple[str, Any]:
    try:
        value = environment.from_string(text).render(_=root, ctx=root)
    except Exception as e:  # noqa: BLE001  # the kind of failure is what is compared
        return ("error", type(e).__name__)
    return ("value", value)


@pytest.mark.parametrize("root", ROOTS, ids=lambda r: type(r).__name__)
@pytest.mark.parametrize(
    "text",
    [
        "{{ _.a }}",
        "{{ _.missing }}",
        "{{ _.items }}",
        "{{ _.get }}",
        "{{ _.keys }}",
        "{{ _._data }}",
        "{{ _.n }}",
        "{{ _.__class__ }}",
        "{{ _.upper }}",
        "{{ _.real }}",
        "{{ _.items is callable }}",
        "{{ _.a is defined }}",
        "{{ _.missing is defined }}",
        "{{ _.format }}",
    ],
)
def test_attribute_lookup_matches_jinja(text: str, root: Any) -> None:
    ours = _jinja._ENVIRONMENT
    expected, got = outcome(PLAIN, text, root), outcome(ours, text, root)
    if expected[0] == "value" and "object at 0x" in str(expected[1]):
        assert got[0] == "value"  # bound methods print their address
    else:
        assert got == expected


def test_engine_views_work_as_the_data_root() -> None:
    context = _jinja.render_context(SlotsView(INNER), Functions(None, {}))
    assert _jinja.compile_template("{{ _.a + 1 }}")(context) == 2
    assert _jinja.compile_template("{{ _.get is callable }}")(context) is True  # as for a dict
