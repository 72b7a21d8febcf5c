"""Errors of the persistence layer.

::

    MeltemiError
    └── DatabaseError        the database cannot be reached, prepared or written
"""

from meltemi.errors import MeltemiError


class DatabaseError(MeltemiError):
    pass
