"""The typed, immutable specs of Mistral DSL v2 documents.

Specs are built by :mod:`meltemi.lang.loader` from validated YAML and are what the
engine reads. They hold the document as written (task-defaults are kept apart from
the tasks); :class:`WorkflowSpec` answers the questions the engine asks, with
task-defaults applied (``clause()``, ``policies()``, ``requires()``).

A value that may be an expression has the type ``Expr`` (a string that is one
whole ``<% %>`` or ``{{ }}`` expression); ``Data`` is JSON in which any string may
hold expressions, evaluated recursively.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal, NewType

from meltemi.lang._yaml import JsonValue

Expr = NewType("Expr", str)
"""A string that is one whole YAQL or Jinja expression."""

Data = JsonValue
"""JSON whose strings may hold expressions (evaluated recursively)."""

IntOrExpr = int | Expr
BoolOrExpr = bool | Expr


class WorkflowType(enum.StrEnum):
    DIRECT = "direct"
    REVERSE = "reverse"


class TaskType(enum.StrEnum):
    ACTION = "ACTION"
    WORKFLOW = "WORKFLOW"


class ClauseKind(enum.StrEnum):
    ON_SUCCESS = "on-success"
    ON_ERROR = "on-error"
    ON_COMPLETE = "on-complete"
    ON_SKIP = "on-skip"


class EngineCommand(enum.StrEnum):
    NOOP = "noop"
    FAIL = "fail"
    SUCCEED = "succeed"
    PAUSE = "pause"


ENGINE_COMMANDS: Final = frozenset(c.value for c in EngineCommand)
RESERVED_CONTEXT_KEYS: Final = frozenset({"__execution", "__env", "__task_execution", "openstack"})
DEFAULT_ACTION: Final = "std.noop"


@dataclass(frozen=True, slots=True, kw_only=True)
class Param:
    """A declared input parameter; ``required`` when it has no default."""

    name: str
    required: bool = True
    default: JsonValue = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """One target of an on-* clause: a task or an engine command, maybe with a condition."""

    target: str
    condition: Expr | None = None
    params: Mapping[str, Data] = field(default_factory=dict)
    line: int = 0
    column: int = 0

    @property
    def is_engine_command(self) -> bool:
        return self.target in ENGINE_COMMANDS


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishSpec:
    """What a task publishes: to its branch (downstream tasks), globally, or atomically."""

    branch: Mapping[str, Data] = field(default_factory=dict)
    global_: Mapping[str, Data] = field(default_factory=dict)
    atomic: Mapping[str, Data] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not (self.branch or self.global_ or self.atomic)

    def merged_over(self, base: PublishSpec | None) -> PublishSpec:
        """This publish spec with ``base``'s entries underneath (ours win on a clash)."""
        if base is None:
            return self
        return PublishSpec(
            branch={**base.branch, **self.branch},
            global_={**base.global_, **self.global_},
            atomic={**base.atomic, **self.atomic},
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OnClause:
    transitions: tuple[Transition, ...] = ()
    publish: PublishSpec | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RetrySpec:
    count: IntOrExpr
    delay: IntOrExpr
    break_on: Expr | None = None
    continue_on: Expr | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WithItemsSpec:
    """``var in <source>``; ``source`` is a literal list or an expression."""

    var: str
    source: list[JsonValue] | Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class Policies:
    """Task policies; a value of None means "not set here"."""

    retry: RetrySpec | None = None
    wait_before: IntOrExpr | None = None
    wait_after: IntOrExpr | None = None
    timeout: IntOrExpr | None = None
    pause_before: BoolOrExpr | None = None
    concurrency: IntOrExpr | None = None
    fail_on: BoolOrExpr | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskSpec:
    name: str
    type: TaskType = TaskType.ACTION
    description: str | None = None
    tags: tuple[str, ...] = ()
    action: str | None = None
    workflow: str | None = None
    input: Mapping[str, Data] | Expr = field(default_factory=dict)
    with_items: tuple[WithItemsSpec, ...] = ()
    publish: Mapping[str, Data] = field(default_factory=dict)
    publish_on_error: Mapping[str, Data] = field(default_factory=dict)
    publish_on_skip: Mapping[str, Data] = field(default_factory=dict)
    policies: Policies = field(default_factory=Policies)
    target: str | None = None
    keep_result: BoolOrExpr = True
    safe_rerun: BoolOrExpr | None = None
    join: Literal["all"] | int | None = None
    on_success: OnClause | None = None
    on_error: OnClause | None = None
    on_complete: OnClause | None = None
    on_skip: OnClause | None = None
    requires: tuple[str, ...] = ()
    line: int = 0

    def clause(self, kind: ClauseKind) -> OnClause | None:
        if kind is ClauseKind.ON_SUCCESS:
            return self.on_success
        if kind is ClauseKind.ON_ERROR:
            return self.on_error
        if kind is ClauseKind.ON_COMPLETE:
            return self.on_complete
        return self.on_skip


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskDefaults:
    policies: Policies = field(default_factory=Policies)
    safe_rerun: BoolOrExpr | None = None
    on_success: OnClause | None = None
    on_error: OnClause | None = None
    on_complete: OnClause | None = None
    on_skip: OnClause | None = None
    requires: tuple[str, ...] = ()

    def clause(self, kind: ClauseKind) -> OnClause | None:
        if kind is ClauseKind.ON_SUCCESS:
            return self.on_success
        if kind is ClauseKind.ON_ERROR:
            return self.on_error
        if kind is ClauseKind.ON_COMPLETE:
            return self.on_complete
        return self.on_skip


_POLICY_NAMES: Final = (
    "retry",
    "wait_before",
    "wait_after",
    "timeout",
    "pause_before",
    "concurrency",
    "fail_on",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowSpec:
    name: str
    type: WorkflowType = WorkflowType.DIRECT
    description: str | None = None
    tags: tuple[str, ...] = ()
    input: tuple[Param, ...] = ()
    output: Mapping[str, Data] = field(default_factory=dict)
    output_on_error: Mapping[str, Data] = field(default_factory=dict)
    vars: Mapping[str, Data] = field(default_factory=dict)
    task_defaults: TaskDefaults | None = None
    tasks: Mapping[str, TaskSpec] = field(default_factory=dict)
    line: int = 0
    # The workflow as Mistral keeps it, for execution().spec and task().spec.
    source: Mapping[str, object] = field(default_factory=dict, compare=False, repr=False)
    _outbound: dict[str, frozenset[str]] = field(
        init=False, default_factory=dict, compare=False, repr=False
    )
    _inbound: dict[str, tuple[str, ...]] = field(
        init=False, default_factory=dict, compare=False, repr=False
    )
    _policies: dict[str, Policies] = field(
        init=False, default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        inbound: dict[str, list[str]] = {}
        defaults = self.task_defaults
        with_defaults = defaults is not None and any(
            c is not None and c.transitions
            for c in (
                defaults.on_success,
                defaults.on_error,
                defaults.on_complete,
                defaults.on_skip,
            )
        )
        for name, task in self.tasks.items():
            if with_defaults:
                targets = frozenset(
                    t.target for kind in ClauseKind for t in self.transitions(task, kind)
                )
            else:  # the same, without the defaults' detour (big workflows have no defaults)
                targets = frozenset(
                    t.target
                    for c in (task.on_success, task.on_error, task.on_complete, task.on_skip)
                    if c is not None
                    for t in c.transitions
                )
            self._outbound[name] = targets
            for target in targets:
                inbound.setdefault(target, []).append(name)
        self._inbound.update((k, tuple(v)) for k, v in inbound.items())

    def task(self, name: str) -> TaskSpec:
        return self.tasks[name]

    def clause(self, task: TaskSpec, kind: ClauseKind) -> OnClause | None:
        """The on-* clause of a task with task-defaults applied, as Mistral applies them.

        A default clause is used only when the task's own clause has no transitions;
        the task itself is removed from the default's targets.
        """
        own = task.clause(kind)
        if own is not None and own.transitions:
            return own
        defaults = self.task_defaults.clause(kind) if self.task_defaults else None
        if defaults is None or not defaults.transitions:
            return own
        transitions = tuple(t for t in defaults.transitions if t.target != task.name)
        return OnClause(transitions=transitions, publish=own.publish if own else None)

    def transitions(self, task: TaskSpec, kind: ClauseKind) -> tuple[Transition, ...]:
        clause = self.clause(task, kind)
        return clause.transitions if clause else ()

    def policies(self, task: TaskSpec) -> Policies:
        """Task policies with task-defaults filling what the task does not switch on.

        As in Mistral, a task value that switches a policy off (0, false) does not
        override a default that switches it on.
        """
        cached = self._policies.get(task.name)
        if cached is not None:
            return cached
        defaults = self.task_defaults.policies if self.task_defaults else Policies()
        values = {}
        for name in _POLICY_NAMES:
            own = getattr(task.policies, name)
            chosen = own if _switched_on(own) else getattr(defaults, name)
            values[name] = own if chosen is None else chosen
        result = Policies(**values)
        self._policies[task.name] = result
        return result

    def safe_rerun(self, task: TaskSpec) -> BoolOrExpr:
        if task.safe_rerun is not None:
            return task.safe_rerun
        if self.task_defaults and self.task_defaults.safe_rerun is not None:
            return self.task_defaults.safe_rerun
        return False

    def requires(self, task: TaskSpec) -> tuple[str, ...]:
        """Reverse workflows: the tasks this task needs (with task-defaults' requires)."""
        names = list(task.requires)
        if self.task_defaults:
            names += [r for r in self.task_defaults.requires if r not in names]
        return tuple(n for n in names if n != task.name)

    def outbound(self, task_name: str) -> frozenset[str]:
        """Names of the tasks (and engine commands) any on-* clause of a task points to."""
        return self._outbound.get(task_name, frozenset())

    def inbound(self, task_name: str) -> tuple[str, ...]:
        """Names of the tasks with a transition to this task, in definition order."""
        return self._inbound.get(task_name, ())

    def start_tasks(self) -> tuple[str, ...]:
        """Direct workflows: the tasks no transition leads to, in definition order."""
        return tuple(name for name in self.tasks if not self.inbound(name))


def _switched_on(value: object) -> bool:
    if value is None or value is False:
        return False
    return not (isinstance(value, int) and not isinstance(value, bool) and value == 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionSpec:
    """An ad-hoc action: a base action with preset input and an output transformation."""

    name: str
    base: str
    base_input: Mapping[str, Data] = field(default_factory=dict)
    input: tuple[Param, ...] = ()
    output: Data = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    line: int = 0


class DocumentKind(enum.StrEnum):
    WORKFLOWS = "workflows"
    WORKBOOK = "workbook"
    ACTIONS = "actions"


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """A whole document: workflows, ad-hoc actions, and for a workbook its name.

    Workbook members keep their short names here; they are registered as
    ``<workbook>.<name>``.
    """

    kind: DocumentKind
    workflows: tuple[WorkflowSpec, ...] = ()
    actions: tuple[ActionSpec, ...] = ()
    name: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()

    def workflow(self, name: str) -> WorkflowSpec:
        for wf in self.workflows:
            if wf.name == name:
                return wf
        raise KeyError(name)
