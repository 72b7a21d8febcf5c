"""Actions: the contract, the std.* actions, and the registry that finds them."""

from meltemi.actions.base import Action, ActionContext, Outcome, normalise
from meltemi.actions.errors import ActionError, ActionInputError, ActionNotFound
from meltemi.actions.registry import ActionDescriptor, ActionRegistry

__all__ = [
    "Action",
    "ActionContext",
    "ActionDescriptor",
    "ActionError",
    "ActionInputError",
    "ActionNotFound",
    "ActionRegistry",
    "Outcome",
    "normalise",
]
