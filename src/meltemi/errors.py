"""The root of every error Meltemi raises on purpose.

Each layer has its own ``errors.py`` whose classes derive from :class:`MeltemiError`::

    MeltemiError
    ├── lang.DefinitionError            a workflow document is not valid
    ├── expressions.ExpressionError     an expression cannot be parsed or evaluated
    └── ... (engine, services, api, cli)
"""


class MeltemiError(Exception):
    """Base class of all errors raised by Meltemi itself."""
