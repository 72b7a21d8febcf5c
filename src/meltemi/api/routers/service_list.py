"""``GET /v2/services``: the services this process runs (Mistral's old resource)."""

from __future__ import annotations

import os
import socket
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

router = APIRouter(prefix="/v2/services", tags=["services"])

# One `meltemi server` runs every role; each is a Mistral service group.
ROLES = ("api", "engine", "executor", "scheduler")


class Service(BaseModel):
    name: str
    type: str


class ServiceList(BaseModel):
    services: list[Service]


@router.get("", response_model=ServiceList)
def list_services() -> dict[str, Any]:
    name = f"{socket.gethostname()}_{os.getpid()}"
    return {"services": [{"name": name, "type": f"{role}_group"} for role in ROLES]}
