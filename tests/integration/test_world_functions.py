"""tasks() and executions() on the real runtime: they see every execution, also the
one being run, before anything of it is written."""

from __future__ import annotations

from meltemi.engine import State
from meltemi.services.executions import Executions
from meltemi.services.runtime import Runtime

SELF_AWARE = """
version: '2.0'
self_aware:
  tasks:
    first:
      action: std.noop
      on-success: second
    second:
      action: std.noop
      publish:
        mine: <% tasks().where($.workflow_execution_id = execution().id).select($.name) %>
        running: <% executions(state => RUNNING).select($.id) %>
"""


def test_an_execution_that_runs_in_line_sees_itself(runtime: Runtime) -> None:
    # Its echo tasks run in the transaction that starts it, so none of it is stored
    # when 'second' publishes; as in Mistral, where it is, both functions find it.
    runtime.definitions.create_workflows(SELF_AWARE)
    execution = Executions(runtime).start("self_aware")
    final = runtime.wait(execution.id, timeout=30)
    assert final.state is State.SUCCESS
    assert final.output == {"mine": ["first", "second"], "running": [execution.id]}
