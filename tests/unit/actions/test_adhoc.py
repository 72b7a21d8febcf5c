"""Ad-hoc actions: base-input and output evaluated as in Mistral."""

from __future__ import annotations

from meltemi.actions.adhoc import adhoc_descriptor
from meltemi.actions.base import ActionContext, normalise
from meltemi.actions.registry import ActionRegistry
from meltemi.lang import load

DOC = """
version: '2.0'
name: wb
actions:
  two:
    base: std.echo
    base-input: {output: <% 1 + 1 %>}
    output: <% $ * 10 %>
workflows:
  wf:
    tasks:
      t:
        action: two
"""


def test_the_base_input_of_an_action_without_input_is_evaluated() -> None:
    spec = load(DOC).actions[0]
    descriptor = adhoc_descriptor("wb.two", spec, ActionRegistry(plugins=False).get("std.echo"))
    instance = descriptor.bind({})
    outcome = normalise(instance.run(ActionContext()))
    assert (outcome.data, outcome.error) == (20, None)
