"""Cron triggers on a real database, with a clock the test moves: firing, counting
down, missed slots after downtime, and what is refused."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from meltemi.persistence.executions import WF
from meltemi.services.cron import CronScheduler, CronTriggers
from meltemi.services.errors import InvalidInput, NotFound
from meltemi.services.runtime import Runtime
from tests.fixtures.runtime import RuntimeFactory

WORKFLOW = """
version: '2.0'
wf:
  input: [x]
  tasks:
    t:
      action: std.echo output=<% $.x %>
"""
START = datetime(2026, 3, 1, 10, 0, 30, tzinfo=UTC)


class Clock:
    """A clock that stands still until the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def move(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def runtime(db_url: str, runtime_factory: RuntimeFactory, clock: Clock) -> Runtime:
    runtime = runtime_factory(db_url, clock=clock)
    runtime.definitions.create_workflows(WORKFLOW)
    return runtime


def descriptions(runtime: Runtime) -> list[str]:
    with runtime.db.read() as conn:
        return list(conn.execute(sa.select(WF.c.description).order_by(WF.c.created_at)).scalars())


def test_a_trigger_fires_at_its_times_and_counts_down(runtime: Runtime, clock: Clock) -> None:
    triggers = CronTriggers(runtime)
    created = triggers.create(
        "five", workflow="wf", pattern="*/5 * * * *", count=2, workflow_input={"x": 1}
    )
    assert created["next_execution_time"] == datetime(2026, 3, 1, 10, 5, tzinfo=UTC)
    scheduler = CronScheduler(runtime)
    assert scheduler.tick() == 0

    clock.move(timedelta(minutes=4, seconds=30))
    assert scheduler.tick() == 1
    after = triggers.get("five")
    assert after["remaining_executions"] == 1
    assert after["next_execution_time"] == datetime(2026, 3, 1, 10, 10, tzinfo=UTC)
    assert scheduler.tick() == 0

    clock.move(timedelta(minutes=5))
    assert scheduler.tick() == 1
    with pytest.raises(NotFound):
        triggers.get("five")
    assert scheduler.tick() == 0
    fired = descriptions(runtime)
    assert len(fired) == 2
    assert json.loads(fired[0])["triggered_by"] == {"type": "cron_trigger", "id": created["id"]}


def test_missed_times_fire_once_after_downtime(runtime: Runtime, clock: Clock) -> None:
    CronTriggers(runtime).create(
        "hourly", workflow="wf", pattern="0 * * * *", workflow_input={"x": 1}
    )
    clock.move(timedelta(hours=5, minutes=10))  # five slots passed while "down"
    scheduler = CronScheduler(runtime)
    assert scheduler.tick() == 1
    assert scheduler.tick() == 0
    after = CronTriggers(runtime).get("hourly")
    assert after["next_execution_time"] == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    assert after["remaining_executions"] is None


def test_a_first_time_alone_fires_once(runtime: Runtime, clock: Clock) -> None:
    created = CronTriggers(runtime).create(
        "once", workflow="wf", first_time="2026-03-01 10:02", workflow_input={"x": 2}
    )
    assert created["remaining_executions"] == 1
    assert created["first_execution_time"] == datetime(2026, 3, 1, 10, 2, tzinfo=UTC)
    scheduler = CronScheduler(runtime)
    clock.move(timedelta(minutes=2))
    assert scheduler.tick() == 1
    with pytest.raises(NotFound):
        CronTriggers(runtime).get("once")


def test_a_firing_that_cannot_start_is_spent_and_logged(
    runtime: Runtime, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    CronTriggers(runtime).create(
        "broken", workflow="wf", pattern="* * * * *", workflow_input={"x": 1}
    )
    runtime.definitions.update_workflows(WORKFLOW.replace("input: [x]", "input: [x, y]"))
    clock.move(timedelta(minutes=1))
    with caplog.at_level(logging.WARNING, logger="meltemi.services.cron"):
        assert CronScheduler(runtime).tick() == 0
    assert [r.getMessage() for r in caplog.records] == ["cron_trigger.start_failed"]
    assert descriptions(runtime) == []
    after = CronTriggers(runtime).get("broken")
    assert after["next_execution_time"] == datetime(2026, 3, 1, 10, 2, tzinfo=UTC)


def test_triggers_keep_their_workflow(runtime: Runtime) -> None:
    CronTriggers(runtime).create(
        "keep", workflow="wf", pattern="* * * * *", workflow_input={"x": 1}
    )
    with pytest.raises(InvalidInput, match="Can't delete workflow that has cron triggers"):
        runtime.definitions.delete_workflow("wf")
    CronTriggers(runtime).delete("keep")
    runtime.definitions.delete_workflow("wf")


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({}, "Pattern or first_execution_time"),
        ({"pattern": "* * *"}, "not valid"),
        ({"first_time": "2026-03-01 09:59"}, "in the past"),
        ({"first_time": "2026-03-01 10:00:29"}, "in the past"),
        ({"first_time": "10:00"}, "YYYY-MM-DD HH:MM"),
        ({"first_time": "2026-03-02 10:00", "count": 2}, "Pattern must be provided"),
        ({"pattern": "* * * * *", "count": 0}, "at least 1"),
    ],
)
def test_bad_schedules_are_refused(
    runtime: Runtime, options: dict[str, object], words: str
) -> None:
    with pytest.raises(InvalidInput, match=words):
        CronTriggers(runtime).create(
            "bad",
            workflow="wf",
            workflow_input={"x": 1},
            **options,  # type: ignore[arg-type]  # the parametrized options
        )


def test_the_current_minute_is_not_the_past(runtime: Runtime) -> None:
    """With minute precision (Mistral's form) the current minute is accepted and fires
    at once; with seconds, the time must not be before now."""
    triggers = CronTriggers(runtime)
    minute = triggers.create(
        "m", workflow="wf", first_time="2026-03-01 10:00", workflow_input={"x": 1}
    )
    assert minute["next_execution_time"] == START.replace(second=0)
    now = triggers.create(
        "s", workflow="wf", first_time="2026-03-01 10:00:30", workflow_input={"x": 1}
    )
    assert now["next_execution_time"] == START


def test_a_reverse_workflow_needs_its_target(runtime: Runtime) -> None:
    runtime.definitions.create_workflows(
        "version: '2.0'\nrev:\n  type: reverse\n  tasks:\n    a:\n      action: std.noop\n"
    )
    with pytest.raises(InvalidInput, match=r"workflow_params\.task_name, one of: a"):
        CronTriggers(runtime).create("rev", workflow="rev", pattern="* * * * *")
    created = CronTriggers(runtime).create(
        "rev", workflow="rev", pattern="* * * * *", workflow_params={"task_name": "a"}
    )
    assert created["workflow_params"] == {"task_name": "a"}
