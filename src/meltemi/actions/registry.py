"""Finding actions by name, describing their input, and binding input to them."""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from meltemi.actions.base import Action, ActionContext, Outcome
from meltemi.actions.errors import ActionInputError, ActionNotFound
from meltemi.actions.plugins import _is_mistral_lib, load_plugins, mistral_lib_context
from meltemi.actions.std.basic import (
    AsyncNoOpAction,
    EchoAction,
    FailAction,
    NoOpAction,
    SleepAction,
    TestDictAction,
)
from meltemi.actions.std.http import HttpAction, MistralHttpAction
from meltemi.actions.std.javascript import JavaScriptAction
from meltemi.actions.std.mail import EmailAction
from meltemi.actions.std.ssh import SshAction, SshProxiedAction


@functools.cache
def _signature(cls: type) -> tuple[list[inspect.Parameter], bool]:
    """The input parameters of an action class, and whether it takes any keyword."""
    signature = inspect.signature(cls)
    params = [
        p
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    return params, any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())


@dataclass(frozen=True, slots=True)
class ActionDescriptor:
    """An action class known by a name, with its input signature."""

    name: str
    cls: type
    description: str = ""

    @property
    def parameters(self) -> list[inspect.Parameter]:
        return _signature(self.cls)[0]

    @property
    def accepts_any(self) -> bool:
        return _signature(self.cls)[1]

    @property
    def input_text(self) -> str:
        """Mistral's text form of the input: ``url, method="GET", params=null``.

        As mistral-lib writes it: defaults in JSON (strings double-quoted, None as
        ``null``), and ``**kwargs`` last when the action takes any keyword.
        """
        parts = []
        for p in self.parameters:
            if p.default is inspect.Parameter.empty:
                parts.append(p.name)
            else:
                parts.append(f"{p.name}={json.dumps(p.default, default=str)}")
        if self.accepts_any:
            keywords = inspect.signature(self.cls).parameters.values()
            parts += [f"**{k.name}" for k in keywords if k.kind is k.VAR_KEYWORD]
        return ", ".join(parts)

    def bind(self, given: Mapping[str, Any]) -> Action:
        """An instance for this input; raises ActionInputError naming what is wrong."""
        self.check(given)
        instance: Action = self.cls(**given)
        return instance

    def bind_in(self, given: Mapping[str, Any], context: Mapping[str, Any] | None) -> Action:
        """An instance for this input, run for a task whose data is ``context`` (only
        ad-hoc actions look at it, to evaluate their base-input)."""
        return self.bind(given)

    @property
    def is_adhoc(self) -> bool:
        return False

    def transform_result(self, data: Any) -> Outcome:
        """What a result sent in from outside becomes (ad-hoc actions transform it)."""
        return Outcome(data=data)

    def check(self, given: Mapping[str, Any]) -> None:
        """Raises ActionInputError when the input does not fit the action."""
        params = self.parameters
        names = {p.name for p in params}
        missing = [
            p.name for p in params if p.default is inspect.Parameter.empty and p.name not in given
        ]
        unexpected = [] if self.accepts_any else [k for k in given if k not in names]
        if missing or unexpected:
            raise ActionInputError(
                self.name, missing=missing, unexpected=unexpected, signature=self.input_text
            )

    @staticmethod
    def is_instant(instance: Any) -> bool:
        check = getattr(instance, "runs_instantly", None)
        return bool(check()) if callable(check) else False

    @property
    def is_sync(self) -> bool:
        """Whether the class runs to its result (mistral-lib classes decide per instance,
        in ``is_sync()``; they count as synchronous until bound)."""
        return not getattr(self.cls, "asynchronous", False)

    @staticmethod
    def instance_is_sync(instance: Any) -> bool:
        value = getattr(instance, "is_sync", True)
        return bool(value() if callable(value) else value)

    def context_for(self, instance: Any, context: ActionContext) -> Any:
        """The context object ``run()`` expects: ours, or mistral-lib's."""
        if _is_mistral_lib(instance):
            return mistral_lib_context(context)
        return context

    @property
    def idempotent(self) -> bool:
        return bool(getattr(self.cls, "idempotent", False))


_STD: dict[str, tuple[type, str]] = {
    "std.echo": (EchoAction, "Returns its output, after an optional delay."),
    "std.noop": (NoOpAction, "Does nothing."),
    "std.fail": (FailAction, "Always fails (with error_data when given)."),
    "std.sleep": (SleepAction, "Sleeps for a number of seconds."),
    "std.async_noop": (AsyncNoOpAction, "Waits until its result is sent through the API."),
    "std.test_dict": (TestDictAction, "Returns a dictionary of a given size."),
    "std.http": (HttpAction, "Sends an HTTP request and returns the response."),
    "std.mistral_http": (
        MistralHttpAction,
        "Sends an HTTP request with the execution's headers; the result comes back "
        "through PUT /v2/action_executions/{id}.",
    ),
    "std.ssh": (SshAction, "Runs a command on one or more hosts over SSH."),
    "std.ssh_proxied": (SshProxiedAction, "Runs a command over SSH through a gateway host."),
    "std.email": (EmailAction, "Sends an email message through an SMTP server."),
    "std.javascript": (JavaScriptAction, "Evaluates JavaScript; $ is the context."),
    "std.js": (JavaScriptAction, "Evaluates JavaScript; $ is the context."),
}


Resolver = Callable[[str, str], "ActionDescriptor | None"]


class ActionRegistry:
    """All actions known by name: std.*, plug-ins, and (through a resolver) ad-hoc
    actions stored by the service."""

    def __init__(self, *, plugins: bool = True) -> None:
        self._actions: dict[str, ActionDescriptor] = {}
        self._resolver: Resolver | None = None
        if plugins:
            for descriptor in load_plugins():
                self.register(descriptor)
        for name, (cls, description) in _STD.items():
            self.register(ActionDescriptor(name, cls, description))

    def set_resolver(self, resolver: Resolver) -> None:
        """Where to look for actions this registry does not hold (ad-hoc actions)."""
        self._resolver = resolver

    def register(self, descriptor: ActionDescriptor) -> None:
        self._actions[descriptor.name] = descriptor

    def get(self, name: str, namespace: str = "") -> ActionDescriptor:
        found = self.find(name, namespace)
        if found is None:
            raise ActionNotFound(name)
        return found

    def find(self, name: str, namespace: str = "") -> ActionDescriptor | None:
        found = self._actions.get(name)
        if found is None and self._resolver is not None:
            found = self._resolver(name, namespace)
        return found

    def builtin_named(self, name: str) -> ActionDescriptor | None:
        """An action held here (not ad-hoc), by name."""
        return self._actions.get(name)

    def builtin(self) -> list[ActionDescriptor]:
        """The actions held here (std.* and plug-ins), by name."""
        return sorted(self._actions.values(), key=lambda d: d.name)

    def __iter__(self) -> Iterator[ActionDescriptor]:
        return iter(sorted(self._actions.values(), key=lambda d: d.name))
