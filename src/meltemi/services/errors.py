"""Errors of the use cases, each with the HTTP status the API gives it.

::

    MeltemiError
    └── ServiceError
        ├── NotFound        (404) no such workflow, execution, task, ...
        ├── Duplicate       (409) a definition with that name already exists
        ├── Conflict        (409) the request does not fit the current state
        ├── InvalidInput    (400) the request itself is wrong
        ├── NotAllowed      (403) not allowed while the execution is in this state
        └── Unavailable     (503) the service is stopping
"""

from __future__ import annotations

from meltemi.errors import MeltemiError


class ServiceError(MeltemiError):
    status = 500


class NotFound(ServiceError):
    status = 404


class Duplicate(ServiceError):
    status = 409


class Conflict(ServiceError):
    status = 409


class InvalidInput(ServiceError):
    status = 400


class Unavailable(ServiceError):
    status = 503


class NotAllowed(ServiceError):
    status = 403
