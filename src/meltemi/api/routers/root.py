"""``GET /`` (API versions) and ``GET /v2``."""

from __future__ import annotations

from fastapi import APIRouter, Request

from meltemi.api.models import Uri, Versions

router = APIRouter(tags=["root"])


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("/", response_model=Versions)
def versions(request: Request) -> dict[str, object]:
    return {
        "versions": [
            {
                "id": "v2.0",
                "status": "CURRENT",
                "links": [{"href": f"{_base(request)}/v2", "target": "v2", "rel": "self"}],
            }
        ]
    }


@router.get("/v2", response_model=Uri)
@router.get("/v2/", response_model=Uri, include_in_schema=False)
def v2(request: Request) -> dict[str, str]:
    return {"uri": f"{_base(request)}/v2"}
