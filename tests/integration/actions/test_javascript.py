"""std.javascript / std.js on V8 (mini-racer), through the executor."""

from __future__ import annotations

import pytest

from meltemi.actions import ActionRegistry
from tests.integration.actions.conftest import RunAction


@pytest.mark.parametrize("name", ["std.javascript", "std.js"])
def test_return_value_is_the_result_and_dollar_the_context(
    run_action: RunAction, name: str
) -> None:
    outcome = run_action(
        name,
        {
            "script": "return {sum: $.numbers.reduce((a, b) => a + b, 0), who: $.who + '!'};",
            "context": {"numbers": [1, 2, 3.5], "who": "Ann"},
        },
    )
    assert not outcome.is_error, outcome.error
    assert outcome.data == {"sum": 6.5, "who": "Ann!"}


def test_plain_values_and_no_return(run_action: RunAction) -> None:
    assert run_action("std.js", {"script": "return 'é' + 1;"}).data == "é1"
    assert run_action("std.js", {"script": "return [1, null, true];"}).data == [1, None, True]
    assert run_action("std.js", {"script": "var x = 1;"}).data is None
    assert run_action("std.js", {"script": "return $;"}).data is None


def test_scripts_share_nothing(run_action: RunAction) -> None:
    run_action("std.js", {"script": "globalThis.leak = 1; return 1;"})
    assert run_action("std.js", {"script": "return typeof leak;"}).data == "undefined"


def test_thrown_error_says_where(run_action: RunAction) -> None:
    outcome = run_action("std.js", {"script": "var a = 1;\nthrow new Error('boom');"})
    assert outcome.error == "JavaScriptAction failed: line 2: Error: boom"


def test_syntax_error(run_action: RunAction) -> None:
    outcome = run_action("std.js", {"script": "return (;"})
    assert outcome.error.startswith("JavaScriptAction failed: line 1: SyntaxError")


def test_runaway_script_hits_the_time_limit(
    run_action: RunAction, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MELTEMI_JS_TIMEOUT", "0.3")
    outcome = run_action("std.js", {"script": "while (true) {}"})
    assert outcome.error == (
        "JavaScriptAction failed: the script ran for more than 0.3 s (MELTEMI_JS_TIMEOUT)"
    )


def test_memory_hog_hits_the_memory_limit(
    run_action: RunAction, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MELTEMI_JS_MAX_MEMORY", str(32 * 1024 * 1024))
    outcome = run_action(
        "std.js", {"script": "var a = []; while (true) { a.push(new Array(100000).fill(1)); }"}
    )
    assert outcome.error == (
        "JavaScriptAction failed: the script used more than 33554432 bytes of memory "
        "(MELTEMI_JS_MAX_MEMORY)"
    )


def test_task_timeout_stops_the_script(run_action: RunAction) -> None:
    outcome = run_action("std.js", {"script": "while (true) {}"}, timeout=0.5)
    assert outcome.error == "The action 'std.js' timed out after 0.5 s"
    # The engine is free again: the stopped script does not hold it.
    assert run_action("std.js", {"script": "return 2;"}, run_id="run-2").data == 2


def test_signature(registry: ActionRegistry) -> None:
    assert registry.get("std.javascript").input_text == "script, context=null"
    assert registry.get("std.js").input_text == "script, context=null"
