"""Errors about actions.

::

    MeltemiError
    └── ActionError
        ├── ActionNotFound      no action with that name
        └── ActionInputError    missing or unexpected parameters
"""

from __future__ import annotations

from meltemi.errors import MeltemiError


class ActionError(MeltemiError):
    pass


class ActionNotFound(ActionError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"Failed to find action [action_name={name}]")


class ActionInputError(ActionError):
    def __init__(
        self, name: str, *, missing: list[str], unexpected: list[str], signature: str
    ) -> None:
        self.missing = missing
        self.unexpected = unexpected
        parts = []
        if missing:
            parts.append("missing " + ", ".join(f"'{m}'" for m in missing))
        if unexpected:
            parts.append("unexpected " + ", ".join(f"'{u}'" for u in unexpected))
        super().__init__(
            f"Invalid input for action '{name}': {'; '.join(parts)}. "
            f"It accepts: {signature or 'no parameters'}"
        )
