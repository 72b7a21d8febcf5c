"""Namespaces through a tree of sub-workflows, on the real runtime."""

from __future__ import annotations

import sqlalchemy as sa

from meltemi.engine import State
from meltemi.persistence.executions import WF
from meltemi.services.executions import Executions
from meltemi.services.runtime import Runtime

TOP = """
version: '2.0'
top:
  tasks:
    call:
      workflow: middle
"""
MIDDLE = """
version: '2.0'
middle:
  tasks:
    call:
      workflow: lowest
"""
LOWEST = """
version: '2.0'
lowest:
  tasks:
    where:
      action: std.echo output="{label}"
      publish: {{where: <% task().result %>}}
  output:
    where: <% $.where %>
"""


def test_the_root_namespace_is_handed_down_past_a_default_namespace_workflow(
    runtime: Runtime,
) -> None:
    # As in Mistral: 'top' runs in 'abc'; 'middle' exists only in the default namespace
    # and runs from there; 'lowest' is then looked up in 'abc' again, where the root
    # was started, not in the namespace where 'middle' was found.
    definitions = runtime.definitions
    definitions.create_workflows(LOWEST.format(label="default"))
    definitions.create_workflows(LOWEST.format(label="abc"), namespace="abc")
    definitions.create_workflows(MIDDLE)
    definitions.create_workflows(TOP, namespace="abc")
    execution = Executions(runtime).start("top", namespace="abc")
    final = runtime.wait(execution.id, timeout=30)
    assert final.state is State.SUCCESS
    with runtime.db.read() as conn:
        rows = conn.execute(
            sa.select(
                WF.c.workflow_name,
                WF.c.workflow_namespace,
                WF.c.params,
                WF.c.output,
                WF.c.description,
            ).where(sa.or_(WF.c.root_execution_id == execution.id, WF.c.id == execution.id))
        ).all()
    found = {r.workflow_name: r for r in rows}
    assert found["top"].workflow_namespace == "abc"
    assert found["middle"].workflow_namespace == ""
    assert found["lowest"].workflow_namespace == "abc"
    assert found["lowest"].output == {"where": "abc"}
    assert {name: r.params["namespace"] for name, r in found.items()} == {
        "top": "abc",
        "middle": "abc",
        "lowest": "abc",
    }
    # Mistral's description of a sub-workflow execution.
    assert {name: r.description for name, r in found.items()} == {
        "top": "",
        "middle": "sub-workflow execution",
        "lowest": "sub-workflow execution",
    }
