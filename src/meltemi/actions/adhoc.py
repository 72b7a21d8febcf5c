"""Ad-hoc actions: a base action with preset input and an output transformation.

``base-input`` is evaluated against the ad-hoc action's own input (declared defaults
applied) as ``$``, over the data of the task that runs it (its inbound context, the
workflow's context and env, so ``env()`` works, as in Mistral); ``output`` is
evaluated against the base action's result as ``$``.
An ad-hoc action may be built on another ad-hoc action: the chain is walked down to
a real action and the outputs are transformed on the way back up. An error of the
base action is the ad-hoc action's error, untransformed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from meltemi import expressions
from meltemi.actions.base import Action, ActionContext, Outcome, normalise
from meltemi.actions.errors import ActionError, ActionInputError
from meltemi.lang import ActionSpec

if TYPE_CHECKING:
    from meltemi.actions.registry import ActionDescriptor


class AdHocError(ActionError):
    pass


class AdHocAction(Action):
    """One bound ad-hoc action, ready to run."""

    def __init__(
        self,
        spec: ActionSpec,
        base: ActionDescriptor,
        given: Mapping[str, Any],
        context: Mapping[str, Any] | None = None,
    ):
        self.spec = spec
        self.base = base
        values = {p.name: p.default for p in spec.input if not p.required}
        values.update(given)
        data = {**context, **values} if context else values
        try:
            # Mistral's data here is never empty (it holds the workflow's context), so
            # the base-input is evaluated also for an action without input.
            base_input = expressions.evaluate(dict(spec.base_input), data, even_if_empty=True)
        except expressions.ExpressionError as e:
            raise AdHocError(
                f"ad-hoc action '{spec.name}': cannot evaluate its base-input: {e}"
            ) from e
        if not isinstance(base_input, dict):
            raise AdHocError(f"ad-hoc action '{spec.name}': base-input must give a mapping")
        try:
            self.instance = base.bind_in(base_input, context)
        except ActionInputError as e:
            # The base's input comes from base-input: the ad-hoc action's own fault, a
            # task error in Mistral (not a task that cannot start).
            raise AdHocError(f"ad-hoc action '{spec.name}': {e}") from e

    def runs_instantly(self) -> bool:
        return self.base.is_instant(self.instance) and not self.spec.output

    def is_sync(self) -> bool:
        return self.base.instance_is_sync(self.instance)

    def run(self, context: ActionContext) -> Any:
        outcome = normalise(self.instance.run(self.base.context_for(self.instance, context)))
        if outcome.is_error:
            return outcome
        return _transform(self.spec, outcome.data)


def _transform(spec: ActionSpec, data: Any) -> Outcome:
    """The ad-hoc action's output made of its base's result."""
    if spec.output is None:
        return Outcome(data=data)
    try:
        return Outcome(data=expressions.evaluate(spec.output, data))
    except expressions.ExpressionError as e:
        return Outcome(error=f"ad-hoc action '{spec.name}': cannot evaluate its output: {e}")


def adhoc_descriptor(name: str, spec: ActionSpec, base: ActionDescriptor) -> ActionDescriptor:
    """A descriptor that binds the ad-hoc action ``spec`` built on ``base``."""
    from meltemi.actions.registry import ActionDescriptor

    class AdHocDescriptor(ActionDescriptor):
        @property
        def input_text(self) -> str:
            return ", ".join(
                p.name if p.required else f"{p.name}={_text(p.default)}" for p in spec.input
            )

        def bind(self, given: Mapping[str, Any]) -> Action:
            return self.bind_in(given, None)

        def bind_in(self, given: Mapping[str, Any], context: Mapping[str, Any] | None) -> Action:
            self.check(given)
            return AdHocAction(spec, base, given, context)

        @property
        def is_adhoc(self) -> bool:
            return True

        def transform_result(self, data: Any) -> Outcome:
            # A result sent in for an async base action: every ad-hoc action of the
            # chain transforms it, innermost first, as Mistral does on its arrival.
            inner = base.transform_result(data)
            return inner if inner.is_error else _transform(spec, inner.data)

        def check(self, given: Mapping[str, Any]) -> None:
            declared = {p.name for p in spec.input}
            missing = [p.name for p in spec.input if p.required and p.name not in given]
            unexpected = [k for k in given if k not in declared]
            if missing or unexpected:
                raise ActionInputError(
                    name, missing=missing, unexpected=unexpected, signature=self.input_text
                )

        @property
        def is_sync(self) -> bool:
            return base.is_sync

        @property
        def idempotent(self) -> bool:
            return base.idempotent

        def context_for(self, instance: Any, context: ActionContext) -> Any:
            return context

    return AdHocDescriptor(name, AdHocAction, spec.description or "")


def _text(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)
