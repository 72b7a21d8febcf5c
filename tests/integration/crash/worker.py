"""A process that runs the crash workflow to its end on a database (killed by tests).

``python -m tests.integration.crash.worker DB_URL EXECUTION_ID JOURNAL`` registers
the workflow if needed, starts the execution with that id (or finds it), waits for
it to end and prints its report as JSON.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from meltemi.actions import Action, ActionContext, ActionDescriptor, ActionRegistry
from meltemi.persistence.db import Database
from meltemi.services.errors import Duplicate
from meltemi.services.executions import Executions
from meltemi.services.queries import execution_report
from meltemi.services.runtime import Runtime

CHAIN_LENGTH = 150
FAN_WIDTH = 12


def workflow_text() -> str:
    chain = "".join(
        f"    chain_{i}:\n"
        f"      action: std.echo output=<% $.total + {i} %> delay=0.03\n"
        f"      publish: {{total: <% task().result %>}}\n"
        + (f"      on-success: chain_{i + 1}\n" if i + 1 < CHAIN_LENGTH else "")
        for i in range(CHAIN_LENGTH)
    )
    fan = "".join(
        f"    fan_{i}:\n      action: std.echo output={i} delay=0.02\n"
        f"      publish: {{fan_{i}: <% task().result %>}}\n      on-success: joined\n"
        for i in range(FAN_WIDTH)
    )
    targets = "[" + ", ".join(f"fan_{i}" for i in range(FAN_WIDTH)) + "]"
    text = (Path(__file__).parent / "workflow.yaml").read_text()
    return text.replace("CHAIN\n", chain).replace("FAN\n", fan).replace("FAN_TARGETS", targets)


def journal_action(path: Path) -> type[Action]:
    class Journal(Action):
        """Appends its run id to a file (not idempotent), returns its value."""

        def __init__(self, value: Any) -> None:
            self.value = value

        def run(self, context: ActionContext) -> Any:
            with path.open("a") as f:
                f.write(f"{context.action_execution_id}\n")
            context.sleep(0.02)
            return self.value

    return Journal


def main() -> None:
    url, execution_id, journal = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    registry = ActionRegistry()
    registry.register(ActionDescriptor("test.journal", journal_action(journal)))
    runtime = Runtime(Database(url), registry=registry)
    runtime.start()
    try:
        with contextlib.suppress(Duplicate):
            runtime.definitions.create_workflows(workflow_text())
        Executions(runtime).start("crash", execution_id=execution_id)
        runtime.wait(execution_id, timeout=600)
        report = execution_report(runtime.db, execution_id)
    finally:
        runtime.stop(grace=0)
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main()
