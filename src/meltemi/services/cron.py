"""Cron triggers: workflows started on a schedule, durably.

A trigger stores its ``next_execution_time``. :class:`CronScheduler` looks for due
triggers about once a second and fires each in one transaction of the runtime's
worker: the trigger is advanced (next time, remaining count; deleted after its last
firing) and the execution is created together, so a crash never loses or doubles a
firing. A trigger whose time passed while Meltemi was down fires once after the
restart, and its next time is computed from now (missed slots are not replayed), as
Mistral does.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from croniter import croniter
from sqlalchemy.engine import Connection

from meltemi import engine
from meltemi.engine import StartRequest, WorkflowExecution
from meltemi.lang import WorkflowType
from meltemi.persistence.models import CronTriggerRow, EnvironmentRow, table
from meltemi.services._transaction import Transaction
from meltemi.services.errors import Duplicate, InvalidInput, NotFound, ServiceError
from meltemi.services.listing import Listing, ListQuery
from meltemi.services.runtime import Runtime

log = logging.getLogger(__name__)

CRON_TRIGGERS = table(CronTriggerRow)
ENVIRONMENTS = table(EnvironmentRow)
LISTING = Listing(CRON_TRIGGERS, {c.name: c for c in CRON_TRIGGERS.columns})
TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")


def next_time(pattern: str, after: datetime) -> datetime:
    """The first time the cron pattern matches strictly after ``after`` (UTC)."""
    found: datetime = croniter(pattern, after.astimezone(UTC)).get_next(datetime)
    return found.astimezone(UTC)


def check_pattern(pattern: str) -> None:
    try:
        valid = isinstance(pattern, str) and bool(croniter.is_valid(pattern))
    except (TypeError, ValueError, AttributeError):
        valid = False
    if not valid:
        raise InvalidInput(
            f"The specified pattern is not valid: {pattern!r}; a cron pattern has five "
            "fields: minute hour day-of-month month day-of-week, e.g. '*/5 * * * *'"
        )


def parse_time(value: Any) -> datetime:
    """``YYYY-MM-DD HH:MM`` (Mistral's form, UTC); seconds are accepted too."""
    if not isinstance(value, str):
        raise InvalidInput(
            f"first_execution_time must be text 'YYYY-MM-DD HH:MM' (UTC), not {value!r}"
        )
    for form in TIME_FORMATS:
        try:
            return datetime.strptime(value.strip(), form).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise InvalidInput(f"first_execution_time {value!r} is not a time 'YYYY-MM-DD HH:MM' (UTC)")


def description_of(trigger_id: str) -> str:
    """The description of an execution started by a cron trigger (Mistral's JSON)."""
    return json.dumps(
        {
            "description": f"Workflow execution created by cron trigger '({trigger_id})'.",
            "triggered_by": {"type": "cron_trigger", "id": trigger_id},
        }
    )


class CronTriggers:
    """Creating, finding and deleting cron triggers."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.db = runtime.db

    def create(
        self,
        name: str,
        *,
        workflow: str,
        namespace: str = "",
        pattern: str | None = None,
        first_time: str | None = None,
        count: int | None = None,
        workflow_input: Mapping[str, Any] | None = None,
        workflow_params: Mapping[str, Any] | None = None,
        scope: str = "private",
    ) -> dict[str, Any]:
        """Registers a trigger; raises InvalidInput, NotFound or Duplicate."""
        if not name:
            raise InvalidInput("a cron trigger needs a 'name'")
        if len(name) > 200 or len(pattern or "") > 100:
            raise InvalidInput("a cron trigger's name is at most 200 characters, its pattern 100")
        if not workflow:
            raise InvalidInput("a cron trigger needs 'workflow_id' or 'workflow_name'")
        now = self.runtime.clock().astimezone(UTC)
        first = self._check_schedule(pattern, first_time, count, now)
        if first is not None:
            upcoming = first
            if not pattern and count is None:
                count = 1
        else:
            try:
                upcoming = next_time(str(pattern), now)  # _check_schedule saw a pattern
            except ValueError as e:  # croniter's CroniterBadDateError
                raise InvalidInput(f"The pattern {pattern!r} never matches a time: {e}") from e
        definitions = self.runtime.definitions
        try:
            with self.db.write() as conn:
                definition = definitions.get_workflow(workflow, namespace, conn=conn)
                spec = definitions.spec(definition.spec_id, conn)
                engine.prepare_input(spec, dict(workflow_input or {}))
                target = (workflow_params or {}).get("task_name")
                if spec.type is WorkflowType.REVERSE and target not in spec.tasks:
                    raise InvalidInput(
                        f"reverse workflow '{definition.name}' needs a target task: give "
                        f"workflow_params.task_name, one of: {', '.join(spec.tasks)}"
                    )
                taken = conn.execute(
                    sa.select(CRON_TRIGGERS.c.id).where(CRON_TRIGGERS.c.name == name)
                ).scalar()
                if taken is not None:
                    raise Duplicate(
                        f"Duplicate entry for cron trigger: a trigger named '{name}' exists; "
                        "delete it first or choose another name"
                    )
                _refuse_twin(
                    conn,
                    definition.name,
                    pattern or None,
                    first,
                    count,
                    dict(workflow_input or {}),
                    dict(workflow_params or {}),
                )
                trigger_id = str(uuid.uuid4())
                conn.execute(
                    CRON_TRIGGERS.insert().values(
                        id=trigger_id,
                        name=name,
                        pattern=pattern or None,
                        first_execution_time=first,
                        next_execution_time=upcoming,
                        remaining_executions=count,
                        workflow_name=definition.name,
                        workflow_id=definition.id,
                        workflow_namespace=definition.namespace,
                        workflow_input=dict(workflow_input or {}),
                        workflow_params=dict(workflow_params or {}),
                        scope=scope,
                        created_at=now.replace(microsecond=0),
                    )
                )
        except sa.exc.IntegrityError as e:  # a twin created at the same moment
            raise Duplicate(f"Duplicate entry for cron trigger: '{name}' exists") from e
        log.info("cron_trigger.created", extra={"trigger_id": trigger_id, "trigger": name})
        return self.get(trigger_id)

    @staticmethod
    def _check_schedule(
        pattern: str | None, first_time: str | None, count: int | None, now: datetime
    ) -> datetime | None:
        if not pattern and not first_time:
            raise InvalidInput(
                "Pattern or first_execution_time must be specified (a cron pattern such as "
                "'0 * * * *', and/or a first time 'YYYY-MM-DD HH:MM' in UTC)."
            )
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
            raise InvalidInput(f"remaining_executions must be an integer, not {count!r}")
        if count is not None and not 1 <= count < 2**31:
            raise InvalidInput(
                f"remaining_executions must be at least 1 (and below 2^31), not {count}"
            )
        if pattern:
            check_pattern(pattern)
        first = parse_time(first_time) if first_time else None
        if first is not None:
            if first < now.replace(second=0, microsecond=0) or (first.second and first < now):
                raise InvalidInput(
                    f"first_execution_time {first:%Y-%m-%d %H:%M:%S} is in the past; "
                    f"it is {now:%Y-%m-%d %H:%M:%S} now (UTC)"
                )
            if not pattern and count is not None and count > 1:
                raise InvalidInput("Pattern must be provided if count is superior to 1.")
        return first

    def get(self, identifier: str) -> dict[str, Any]:
        """A trigger by name or id."""
        with self.db.read() as conn:
            row = _find(conn, identifier)
        if row is None:
            raise NotFound(f"Cron trigger not found [identifier={identifier}]")
        return row

    def list(self, query: ListQuery, max_limit: int = 1000) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return LISTING.fetch(conn, query, max_limit=max_limit)

    def delete(self, identifier: str) -> None:
        with self.db.write() as conn:
            row = _find(conn, identifier)
            if row is None:
                raise NotFound(f"Cron trigger not found [identifier={identifier}]")
            conn.execute(CRON_TRIGGERS.delete().where(CRON_TRIGGERS.c.id == row["id"]))
        log.info("cron_trigger.deleted", extra={"trigger_id": row["id"]})


def _find(conn: Connection, identifier: str) -> dict[str, Any] | None:
    row = (
        conn.execute(
            sa.select(CRON_TRIGGERS).where(
                sa.or_(CRON_TRIGGERS.c.id == identifier, CRON_TRIGGERS.c.name == identifier)
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


class CronScheduler:
    """Fires due cron triggers through the runtime, until stopped."""

    def __init__(self, runtime: Runtime, *, interval: float = 1.0) -> None:
        self.runtime = runtime
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="meltemi-cron", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except ServiceError as e:  # e.g. the runtime is stopping
                log.info("cron.tick_skipped", extra={"reason": str(e)})
            except Exception:  # the next tick tries again
                log.exception("cron.tick_failed")
            self._stop.wait(self.interval)

    def due(self, now: datetime | None = None) -> list[tuple[str, datetime]]:
        """The triggers due at ``now``: (id, next_execution_time), soonest first."""
        now = now or self.runtime.clock()
        with self.runtime.db.read() as conn:
            rows = conn.execute(
                sa.select(CRON_TRIGGERS.c.id, CRON_TRIGGERS.c.next_execution_time)
                .where(CRON_TRIGGERS.c.next_execution_time <= now)
                .order_by(CRON_TRIGGERS.c.next_execution_time)
                .limit(100)
            ).all()
        return [(row[0], row[1]) for row in rows]

    def tick(self) -> int:
        """Fires every due trigger once; returns how many executions were started."""
        started = 0
        for trigger_id, due_at in self.due():
            if self._stop.is_set():
                break
            if self.runtime.call(self._firing(trigger_id, due_at)) is not None:
                started += 1
        return started

    def _firing(
        self, trigger_id: str, due_at: datetime
    ) -> Callable[[Transaction], WorkflowExecution | None]:
        def fire(tx: Transaction) -> WorkflowExecution | None:
            row = (
                tx.conn.execute(
                    sa.select(CRON_TRIGGERS)
                    .where(
                        CRON_TRIGGERS.c.id == trigger_id,
                        CRON_TRIGGERS.c.next_execution_time == due_at,
                    )
                    .with_for_update()  # PostgreSQL: one scheduler fires it, the others skip
                )
                .mappings()
                .first()
            )
            if row is None:  # deleted, or fired by another scheduler meanwhile
                return None
            _advance(tx, dict(row))
            return _start(tx, dict(row))

        return fire


def _advance(tx: Transaction, row: dict[str, Any]) -> None:
    remaining = row["remaining_executions"]
    if remaining is not None:
        remaining -= 1
    if (remaining is not None and remaining <= 0) or not row["pattern"]:
        tx.conn.execute(CRON_TRIGGERS.delete().where(CRON_TRIGGERS.c.id == row["id"]))
        return
    try:
        upcoming = next_time(row["pattern"], max(tx.now, row["next_execution_time"]))
    except ValueError:  # the pattern matches no later time
        log.warning("cron_trigger.exhausted", extra={"trigger_id": row["id"]})
        tx.conn.execute(CRON_TRIGGERS.delete().where(CRON_TRIGGERS.c.id == row["id"]))
        return
    tx.conn.execute(
        CRON_TRIGGERS.update()
        .where(CRON_TRIGGERS.c.id == row["id"])
        .values(
            next_execution_time=upcoming,
            remaining_executions=remaining,
            updated_at=tx.now.replace(microsecond=0),
        )
    )


def _start(tx: Transaction, row: dict[str, Any]) -> WorkflowExecution | None:
    """Starts the trigger's workflow in this transaction; a failure is logged (the
    firing is spent, as in Mistral, so a broken trigger does not fire every second)."""
    runtime = tx.runtime
    fields = {"trigger_id": row["id"], "workflow_id": row["workflow_id"]}
    try:
        definition = runtime.definitions.get_workflow(
            row["workflow_id"], row["workflow_namespace"], conn=tx.conn
        )
        spec = runtime.definitions.spec(definition.spec_id, tx.conn)
        params = dict(row["workflow_params"] or {})
        params.pop("namespace", None)
        if isinstance(params.get("env"), str):
            params["env"] = _environment(tx.conn, params["env"])
        request = StartRequest(
            id=runtime.new_id(),
            workflow_name=definition.name,
            spec_id=definition.spec_id,
            workflow_id=definition.id,
            namespace=definition.namespace,
            input=dict(row["workflow_input"] or {}),
            params=params,
            description=description_of(row["id"]),
        )
        state, decision = engine.start_workflow(spec, request, tx.ctx())
    except (engine.EngineError, ServiceError) as e:
        log.warning("cron_trigger.start_failed", extra={**fields, "error": str(e)})
        return None
    tx.started(state, decision)
    tx.after_commit.append(
        lambda: log.info("cron_trigger.fired", extra={**fields, "execution_id": request.id})
    )
    return state.workflow


def _environment(conn: Connection, name: str) -> dict[str, Any]:
    variables = conn.execute(
        sa.select(ENVIRONMENTS.c.variables).where(ENVIRONMENTS.c.name == name)
    ).first()
    if variables is None:
        raise InvalidInput(f"Environment not found [name={name}]")
    return dict(variables[0] or {})


def _refuse_twin(
    conn: Connection,
    workflow_name: str,
    pattern: str | None,
    first: datetime | None,
    count: int | None,
    workflow_input: dict[str, Any],
    workflow_params: dict[str, Any],
) -> None:
    """As in Mistral, two triggers may not start the same workflow with the same input
    and params on the same schedule (pattern, first time and count), whatever their
    names: the second would only start every execution twice."""
    c = CRON_TRIGGERS.c
    same_pattern = c.pattern.is_(None) if pattern is None else c.pattern == pattern
    rows = conn.execute(
        sa.select(
            c.name,
            c.first_execution_time,
            c.remaining_executions,
            c.workflow_input,
            c.workflow_params,
        ).where(c.workflow_name == workflow_name, same_pattern)
    ).all()
    for row in rows:
        if (
            row.first_execution_time == first
            and row.remaining_executions == count
            and (row.workflow_input or {}) == workflow_input
            and (row.workflow_params or {}) == workflow_params
        ):
            raise Duplicate(
                f"Duplicate entry for cron trigger: '{row.name}' already starts "
                f"'{workflow_name}' with the same input, params and schedule"
            )
