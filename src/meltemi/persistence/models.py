"""The database tables, as typed SQLAlchemy ORM models.

The API reads through the ORM; the engine's hot path writes with Core statements on
the same tables (``Model.__table__``). JSON is stored as text written by orjson
(:class:`JsonText`), and times as timezone-aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import orjson
from sqlalchemy import (
    Boolean,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class JsonText(TypeDecorator[Any]):
    """Any JSON value, stored as text (orjson both ways)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=_fallback).decode()

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return orjson.loads(value)


def _fallback(value: Any) -> Any:
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime (SQLite keeps no zone; it is added back on read)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


_ID = String(36)


class WorkflowDefinitionRow(Base):
    __tablename__ = "workflow_definitions"
    __table_args__ = (UniqueConstraint("name", "namespace", name="uq_workflow_name_namespace"),)

    id: Mapped[str] = mapped_column(_ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    namespace: Mapped[str] = mapped_column(String(255), default="")
    definition: Mapped[str] = mapped_column(Text)
    spec_id: Mapped[str] = mapped_column(String(64))
    checksum: Mapped[str] = mapped_column(String(32))
    input: Mapped[str] = mapped_column(Text, default="")
    interface: Mapped[Any] = mapped_column(JsonText, nullable=True)
    tags: Mapped[Any] = mapped_column(JsonText, nullable=True)
    scope: Mapped[str] = mapped_column(String(16), default="private")
    project_id: Mapped[str] = mapped_column(String(80), default="<default-project>")
    workbook_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class SpecRow(Base):
    """A parsed workflow spec, stored once per distinct content (id = content hash)."""

    __tablename__ = "workflow_specs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    spec: Mapped[Any] = mapped_column(JsonText)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WorkbookRow(Base):
    __tablename__ = "workbooks"
    __table_args__ = (UniqueConstraint("name", "namespace", name="uq_workbook_name_namespace"),)

    id: Mapped[str] = mapped_column(_ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    namespace: Mapped[str] = mapped_column(String(255), default="")
    definition: Mapped[str] = mapped_column(Text)
    tags: Mapped[Any] = mapped_column(JsonText, nullable=True)
    scope: Mapped[str] = mapped_column(String(16), default="private")
    project_id: Mapped[str] = mapped_column(String(80), default="<default-project>")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ActionDefinitionRow(Base):
    """An ad-hoc action registered from a document."""

    __tablename__ = "action_definitions"
    __table_args__ = (UniqueConstraint("name", "namespace", name="uq_action_name_namespace"),)

    id: Mapped[str] = mapped_column(_ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    namespace: Mapped[str] = mapped_column(String(255), default="")
    definition: Mapped[str] = mapped_column(Text)
    spec: Mapped[Any] = mapped_column(JsonText)
    input: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    tags: Mapped[Any] = mapped_column(JsonText, nullable=True)
    scope: Mapped[str] = mapped_column(String(16), default="private")
    project_id: Mapped[str] = mapped_column(String(80), default="<default-project>")
    workbook_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class WorkflowExecutionRow(Base):
    __tablename__ = "workflow_executions"
    __table_args__ = (
        Index("ix_wf_ex_root", "root_execution_id"),
        Index("ix_wf_ex_parent", "parent_id"),
        Index("ix_wf_ex_state_created", "state", "created_at"),
        Index("ix_wf_ex_created", "created_at"),
    )

    id: Mapped[str] = mapped_column(_ID, primary_key=True)
    workflow_name: Mapped[str] = mapped_column(String(255), index=True)
    workflow_id: Mapped[str | None] = mapped_column(_ID, nullable=True)
    workflow_namespace: Mapped[str] = mapped_column(String(255), default="")
    spec_id: Mapped[str] = mapped_column(String(64))
    root_execution_id: Mapped[str | None] = mapped_column(_ID, nullable=True)
    parent_id: Mapped[str | None] = mapped_column(_ID, nullable=True)
    task_execution_id: Mapped[str | None] = mapped_column(_ID, nullable=True)
    run_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    state: Mapped[str] = mapped_column(String(20))
    state_info: Mapped[str | None] = mapped_column(Text, nullable=True)
    input: Mapped[Any] = mapped_column(JsonText, nullable=True)
    params: Mapped[Any] = mapped_column(JsonText, nullable=True)
    context: Mapped[Any] = mapped_column(JsonText, nullable=True)
    output: Mapped[Any] = mapped_column(JsonText, nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[Any] = mapped_column(JsonText, nullable=True)
    source_execution_id: Mapped[str | None] = mapped_column(_ID, nullable=True)
    project_id: Mapped[str] = mapped_column(String(80), default="<default-project>")
    task_seq: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class TaskExecutionRow(Base):
    __tablename__ = "task_executions"
    __table_args__ = (
        Index("ix_task_ex_wf", "workflow_execution_id", "seq"),
        Index("ix_task_ex_created", "created_at"),
    )

    id: Mapped[str] = mapped_column(_ID, primary_key=True)
    workflow_execution_id: Mapped[str] = mapped_column(_ID)
    root_execution_id: Mapped[str] = mapped_column(_ID, index=True)
    workflow_name: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(10))
    seq: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20))
    state_info: Mapped[str | None] = mapped_column(Text, nullable=True)
    triggered_by: Mapped[Any] = mapped_column(JsonText, nullable=True)
    published: Mapped[Any] = mapped_column(JsonText, nullable=True)
    result: Mapped[Any] = mapped_column(JsonText, nullable=True)
    processed: Mapped[bool] = mapped_column(Boolean, default=False)
    error_handled: Mapped[bool] = mapped_column(Boolean, default=False)
    next_tasks: Mapped[Any] = mapped_column(JsonText, nullable=True)
    retry_no: Mapped[int] = mapped_column(Integer, default=0)
    runtime: Mapped[Any] = mapped_column(JsonText, nullable=True)
    items: Mapped[Any] = mapped_column(JsonText, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class TaskItemsRow(Base):
    """The evaluated with-items lists of a task, written once when the task starts."""

    __tablename__ = "task_items"

    task_execution_id: Mapped[str] = mapped_column(_ID, primary_key=True)
    root_execution_id: Mapped[str] = mapped_column(_ID, index=True)
    values_: Mapped[Any] = mapped_column("values", JsonText)


class RunRow(Base):
    """An action execution, or the parent's view of a sub-workflow execution."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_task", "task_execution_id"),
        Index("ix_runs_wf", "workflow_execution_id"),
        Index("ix_runs_kind_state", "kind", "state"),
    )

    id: Mapped[str] = mapped_column(_ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    task_execution_id: Mapped[str | None] = mapped_column(_ID, nullable=True)
    workflow_execution_id: Mapped[str | None] = mapped_column(_ID, nullable=True)
    root_execution_id: Mapped[str | None] = mapped_column(_ID, index=True, nullable=True)
    workflow_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    task_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    name: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(20))
    state_info: Mapped[str | None] = mapped_column(Text, nullable=True)
    input: Mapped[Any] = mapped_column(JsonText, nullable=True)
    output: Mapped[Any] = mapped_column(JsonText, nullable=True)
    accepted: Mapped[bool] = mapped_column(Boolean, default=True)
    run_index: Mapped[int] = mapped_column(Integer, default=0)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    safe_rerun: Mapped[bool] = mapped_column(Boolean, default=False)
    timeout: Mapped[float | None] = mapped_column(Float, nullable=True)
    target: Mapped[str | None] = mapped_column(String(255), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    project_id: Mapped[str] = mapped_column(String(80), default="<default-project>")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class TimerRow(Base):
    """A durable timer: fires an event for a task at ``fire_at``, also after restarts."""

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_fire_at", "fire_at"),)

    id: Mapped[str] = mapped_column(_ID, primary_key=True)
    root_execution_id: Mapped[str] = mapped_column(_ID, index=True)
    workflow_execution_id: Mapped[str] = mapped_column(_ID)
    task_execution_id: Mapped[str] = mapped_column(_ID)
    kind: Mapped[str] = mapped_column(String(20))
    fire_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EnvironmentRow(Base):
    """A named set of variables that executions can use as their env."""

    __tablename__ = "environments"
    __table_args__ = (UniqueConstraint("name", name="uq_environment_name"),)

    id: Mapped[str] = mapped_column(_ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    variables: Mapped[Any] = mapped_column(JsonText, nullable=True)
    scope: Mapped[str] = mapped_column(String(16), default="private")
    project_id: Mapped[str] = mapped_column(String(80), default="<default-project>")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class CronTriggerRow(Base):
    """A cron trigger: starts a workflow on a schedule; ``next_execution_time`` is the
    next firing, advanced in the transaction that starts the execution."""

    __tablename__ = "cron_triggers"
    __table_args__ = (
        UniqueConstraint("name", "project_id", name="uq_cron_trigger_name"),
        Index("ix_cron_triggers_next", "next_execution_time"),
        Index("ix_cron_triggers_workflow", "workflow_id"),
    )

    id: Mapped[str] = mapped_column(_ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    pattern: Mapped[str | None] = mapped_column(String(100), nullable=True)
    first_execution_time: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    next_execution_time: Mapped[datetime] = mapped_column(UtcDateTime)
    remaining_executions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    workflow_name: Mapped[str] = mapped_column(String(255))
    workflow_id: Mapped[str] = mapped_column(_ID)
    workflow_namespace: Mapped[str] = mapped_column(String(255), default="")
    workflow_input: Mapped[Any] = mapped_column(JsonText, nullable=True)
    workflow_params: Mapped[Any] = mapped_column(JsonText, nullable=True)
    scope: Mapped[str] = mapped_column(String(16), default="private")
    project_id: Mapped[str] = mapped_column(String(80), default="<default-project>")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class EventTriggerRow(Base):
    """An event trigger: starts a workflow when a notification (exchange, topic,
    event) arrives. Stored and listed; nothing delivers events to them yet."""

    __tablename__ = "event_triggers"
    __table_args__ = (
        UniqueConstraint(
            "exchange", "topic", "event", "workflow_id", "project_id", name="uq_event_trigger"
        ),
        Index("ix_event_triggers_workflow", "workflow_id"),
    )

    id: Mapped[str] = mapped_column(_ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    workflow_id: Mapped[str] = mapped_column(_ID)
    workflow_input: Mapped[Any] = mapped_column(JsonText, nullable=True)
    workflow_params: Mapped[Any] = mapped_column(JsonText, nullable=True)
    exchange: Mapped[str] = mapped_column(String(80))
    topic: Mapped[str] = mapped_column(String(80))
    event: Mapped[str] = mapped_column(String(80))
    scope: Mapped[str] = mapped_column(String(16), default="private")
    project_id: Mapped[str] = mapped_column(String(80), default="<default-project>")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


def table(model: type[Base]) -> Table:
    """The Core table of a model, for the hot path's statements."""
    return cast(Table, model.__table__)
