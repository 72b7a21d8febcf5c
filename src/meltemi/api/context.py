"""What the routers use: the services, reached through the request's app."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from meltemi.services.definitions import Definitions
from meltemi.services.environments import Environments
from meltemi.services.executions import Executions
from meltemi.services.runtime import Runtime


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiSettings:
    max_limit: int = 1000
    max_body_bytes: int = 16 * 1024 * 1024


@dataclass(slots=True)
class Services:
    runtime: Runtime
    settings: ApiSettings = field(default_factory=ApiSettings)

    @property
    def definitions(self) -> Definitions:
        return self.runtime.definitions

    @property
    def executions(self) -> Executions:
        return Executions(self.runtime)

    @property
    def environments(self) -> Environments:
        return Environments(self.runtime.db)


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]
