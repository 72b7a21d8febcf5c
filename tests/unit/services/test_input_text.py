"""The text form of declared input, as Mistral writes it for workflows and actions."""

from __future__ import annotations

from meltemi.lang import load
from meltemi.services._members import input_text

DOC = """
version: '2.0'
name: book
workflows:
  wf:
    input:
      - a
      - b: 3
      - c: null
      - d: text
    tasks:
      t:
        action: std.noop
actions:
  act:
    base: std.echo
    base-input: {output: <% $.a %>}
    input:
      - a
      - b: 3
      - c: null
      - d: text
"""


def test_workflows_quote_python_text_actions_write_json() -> None:
    document = load(DOC)
    assert input_text(document.workflows[0]) == 'a, b="3", c="None", d="text"'
    assert input_text(document.actions[0]) == 'a, b=3, c=null, d="text"'
