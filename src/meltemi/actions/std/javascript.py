"""std.javascript (also std.js): evaluates JavaScript with V8, through mini-racer.

As in Mistral, ``script`` is the body of a function: its ``return`` value is the
result, and ``$`` is ``context`` (any JSON value). The result goes through
``JSON.stringify``, so it is plain JSON (``undefined`` becomes ``None``, a ``Date`` a
string); an exception or a syntax error in the script is the error ``JavaScriptAction
failed: line N: <message>``.

Why mini-racer: it is the maintained successor of PyMiniRacer, one of the engines
Mistral itself supports (``js_implementation = py_mini_racer``), so scripts see the
same JavaScript (modern V8, full ES2023) as there. It installs as a self-contained
manylinux wheel (V8 inside, no compiler, no node), and it can stop a script from
outside: evaluation runs on V8's own thread and ``eval_cancelable`` terminates it,
which gives both a time limit and cancellation (a task timeout) without killing a
process; and V8's hard heap limit bounds memory. The alternatives were weaker here:
``quickjs`` (also limitable) has had no release since 2023 and is another dialect than
Mistral's V8; ``dukpy`` (ES5 only) cannot be interrupted; ``PyV8``/``v8eval`` no longer
install. Each run gets a fresh V8 isolate (about 15 ms), so scripts share nothing.
V8 is started without memory protection keys (see ``_start_engine``): with them, an
isolate made on a thread older than V8's start crashes the process.

Limits (environment): ``MELTEMI_JS_TIMEOUT`` seconds (default 60) and
``MELTEMI_JS_MAX_MEMORY`` bytes of V8 heap (default 128 MiB).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from typing import Any, Final

from meltemi.actions.base import Action, ActionContext, Outcome

DEFAULT_TIMEOUT: Final = 60.0
DEFAULT_MAX_MEMORY: Final = 128 * 1024 * 1024
_POLL: Final = 0.05
_WHERE = re.compile(r"^<anonymous>:(\d+): ")
_START = threading.Lock()
_started = False


class _Stopped(Exception):
    def __init__(self, why: str) -> None:
        self.why = why


class JavaScriptAction(Action):
    """Evaluates JavaScript: the script is a function body, ``$`` is the context."""

    def __init__(self, script: str, context: Any = None) -> None:
        self.script = script
        self.js_context = context

    def source(self) -> str:
        """The program V8 runs: the context, then the script wrapped in a function.

        The first line holds everything before the script, so a line number in an
        error is the script's line number plus one.
        """
        data = json.dumps(self.js_context, default=str)
        return f"var $ = {data}; JSON.stringify((function () {{\n{self.script}\n}})());"

    def run(self, context: ActionContext) -> Any:
        from py_mini_racer import JSEvalException, JSOOMException

        limit = _setting("MELTEMI_JS_TIMEOUT", DEFAULT_TIMEOUT)
        memory = int(_setting("MELTEMI_JS_MAX_MEMORY", DEFAULT_MAX_MEMORY))
        try:
            text = asyncio.run(_evaluate(self.source(), context, limit, memory))
        except _Stopped as e:
            if e.why == "cancelled":
                return Outcome(cancelled=True, error="Action was cancelled")
            return Outcome(
                error=f"JavaScriptAction failed: the script ran for more than {limit:g} s "
                "(MELTEMI_JS_TIMEOUT)"
            )
        except JSOOMException:
            return Outcome(
                error=f"JavaScriptAction failed: the script used more than {memory} bytes "
                "of memory (MELTEMI_JS_MAX_MEMORY)"
            )
        except JSEvalException as e:
            return Outcome(error=f"JavaScriptAction failed: {_describe(str(e))}")
        if not isinstance(text, str):
            return None
        return json.loads(text)


async def _evaluate(code: str, context: ActionContext, limit: float, memory: int) -> Any:
    from py_mini_racer import mini_racer

    _start_engine()
    deadline = time.monotonic() + limit if limit > 0 else None
    with mini_racer() as racer:
        if memory > 0:
            racer.set_hard_memory_limit(memory)
        task = asyncio.ensure_future(racer.eval_cancelable(code))
        while not task.done():
            why = None
            if context.cancelled.is_set():
                why = "cancelled"
            elif deadline is not None and time.monotonic() > deadline:
                why = "timeout"
            if why is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                raise _Stopped(why)
            await asyncio.wait({task}, timeout=_POLL)
        return task.result()


def _start_engine() -> None:
    """Starts V8 once, in a way that lets any thread of the pool use it.

    V8 write-protects its code and dispatch tables with memory protection keys, whose
    rights belong to a thread and pass only to threads it creates later. V8 starts on
    whichever pool thread runs the first script, so the other pool threads (most made
    before that) would crash the process when they create an isolate. Switching the
    keys off keeps every other protection; mini-racer's default flags are kept.
    """
    global _started
    if _started:
        return
    from py_mini_racer import DEFAULT_V8_FLAGS, init_mini_racer

    with _START:
        if not _started:
            flags = (*DEFAULT_V8_FLAGS, "--no-memory-protection-keys")
            init_mini_racer(flags=flags, ignore_duplicate_init=True)
            _started = True


def _describe(message: str) -> str:
    """``line N: <error>`` from V8's message (whose first line says where)."""
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    match = _WHERE.match(first)
    if match is None:
        return first
    line = max(int(match.group(1)) - 1, 1)
    return f"line {line}: {first[match.end() :]}"


def _setting(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default
