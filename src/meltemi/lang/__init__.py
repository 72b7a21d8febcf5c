"""The workflow language: Mistral DSL v2 text in, validated, typed, immutable specs out."""

from meltemi.lang._serialize import from_json as spec_from_json
from meltemi.lang._serialize import to_json as spec_to_json
from meltemi.lang.errors import DefinitionError, Diagnostic, Severity, render_diagnostics
from meltemi.lang.loader import ParseResult, load, parse
from meltemi.lang.specs import (
    ActionSpec,
    ClauseKind,
    Document,
    DocumentKind,
    EngineCommand,
    Expr,
    OnClause,
    Param,
    Policies,
    PublishSpec,
    RetrySpec,
    TaskDefaults,
    TaskSpec,
    TaskType,
    Transition,
    WithItemsSpec,
    WorkflowSpec,
    WorkflowType,
)

__all__ = [
    "ActionSpec",
    "ClauseKind",
    "DefinitionError",
    "Diagnostic",
    "Document",
    "DocumentKind",
    "EngineCommand",
    "Expr",
    "OnClause",
    "Param",
    "ParseResult",
    "Policies",
    "PublishSpec",
    "RetrySpec",
    "Severity",
    "TaskDefaults",
    "TaskSpec",
    "TaskType",
    "Transition",
    "WithItemsSpec",
    "WorkflowSpec",
    "WorkflowType",
    "load",
    "parse",
    "render_diagnostics",
    "spec_from_json",
    "spec_to_json",
]
