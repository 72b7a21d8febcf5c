"""Actions in flight when the process stops: sent again on restart, built as before."""

from __future__ import annotations

import threading
import time
from typing import Any

from meltemi.actions import Action, ActionContext, ActionDescriptor, ActionRegistry
from meltemi.engine import State
from meltemi.services.executions import Executions
from tests.fixtures.runtime import RuntimeFactory

ACTIONS = """
version: '2.0'
tagged:
  base: test.holding
  base-input:
    text: <% $.word %> from <% env().site %> by <% $.who %>
  input: [word]
"""

WORKFLOW = """
version: '2.0'
held:
  vars: {who: robots}
  tasks:
    hold:
      action: tagged word='hello'
      safe-rerun: true
      publish: {said: <% task().result %>}
  output:
    said: <% $.said %>
"""


def _holding_action() -> type[Action]:
    class Holding(Action):
        """Returns its text once released; counts its calls."""

        release = threading.Event()
        calls = 0

        def __init__(self, text: str) -> None:
            self.text = text

        def run(self, context: ActionContext) -> Any:
            type(self).calls += 1
            type(self).release.wait(30)
            return self.text

    return Holding


def test_an_ad_hoc_action_in_a_namespace_is_sent_again_with_its_task_data(
    db_url: str, runtime_factory: RuntimeFactory
) -> None:
    holding: Any = _holding_action()
    registry = ActionRegistry()
    registry.register(ActionDescriptor("test.holding", holding))
    first = runtime_factory(db_url, registry=registry)
    first.definitions.create_actions(ACTIONS, namespace="ns")
    first.definitions.create_workflows(WORKFLOW, namespace="ns")
    execution = Executions(first).start("held", namespace="ns", params={"env": {"site": "lab"}})
    deadline = time.monotonic() + 10
    while holding.calls == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert holding.calls == 1
    first.stop(grace=0)

    holding.release.set()
    second = runtime_factory(db_url, registry=registry)
    final = second.wait(execution.id, timeout=30)
    assert final.state is State.SUCCESS, final.state_info
    # The base-input was evaluated again over the env and the workflow's vars, and the
    # ad-hoc action was found in its namespace.
    assert final.output == {"said": "hello from lab by robots"}
    assert holding.calls == 2
