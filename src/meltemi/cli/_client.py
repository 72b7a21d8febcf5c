"""The CLI's HTTP client of the REST API v2: one method per call, one error type.

Mistral's API writes some fields as JSON inside strings (an execution's ``input``, a
task's ``runtime_context``...); the methods here decode them, so callers get plain
JSON values. Every failure, from the server (its ``faultstring``) or on the way to
it, is an :class:`~meltemi.cli._errors.ApiError`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, Final

import httpx

from meltemi.cli._errors import ApiError
from meltemi.cli._session import DEFAULT_URL

TIMEOUT: Final = 60.0
_TEXT: Final = {"Content-Type": "text/plain"}

JsonObject = dict[str, Any]

#: Fields that Mistral's API writes as JSON text, by resource.
_JSON_FIELDS: Final = {
    "executions": ("input", "output", "params", "published_global"),
    "tasks": ("runtime_context", "published", "result", "published_global"),
    "action_executions": ("input", "output", "params"),
    "environments": ("variables",),
    "cron_triggers": ("workflow_input", "workflow_params"),
    "workflows": ("interface",),
}


def _decode(item: JsonObject, resource: str) -> JsonObject:
    for name in _JSON_FIELDS.get(resource, ()):
        value = item.get(name)
        if isinstance(value, str) and value:
            # The server may have written plain text there: then it stays as it is.
            with contextlib.suppress(json.JSONDecodeError):
                item[name] = json.loads(value)
    return item


def _query(
    filters: Mapping[str, Any] | None, *, limit: int | None, sort: str | None, desc: bool
) -> dict[str, str]:
    params = {k: str(v) for k, v in (filters or {}).items() if v is not None}
    if limit:
        params["limit"] = str(limit)
    if sort:
        params["sort_keys"] = sort
        params["sort_dirs"] = "desc" if desc else "asc"
    return params


class Client:
    """The REST API v2 of one Meltemi (or Mistral) server."""

    def __init__(self, url: str = DEFAULT_URL, *, timeout: float = TIMEOUT) -> None:
        self.url = url.rstrip("/")
        base = self.url if self.url.endswith("/v2") else f"{self.url}/v2"
        self._http = httpx.Client(base_url=base, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        text: str | None = None,
    ) -> Any:
        """Sends one request; the decoded JSON answer (None when it has no body)."""
        try:
            response = self._http.request(
                method,
                path,
                params=params,
                json=json_body,
                content=text.encode() if text is not None else None,
                headers=_TEXT if text is not None else None,
            )
        except httpx.TimeoutException as e:
            raise ApiError(
                f"the Meltemi server at {self.url} did not answer in time ({type(e).__name__})",
                hint="is it overloaded or stuck? check its log",
            ) from e
        except httpx.TransportError as e:
            raise ApiError(
                f"cannot reach the Meltemi server at {self.url} ({e})",
                hint="start one with 'meltemi server', or point --url or MELTEMI_URL at yours",
            ) from e
        if response.status_code >= 400:
            raise ApiError(_fault(response), status=response.status_code)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as e:
            raise ApiError(
                f"{self.url} answered {method} {path} with something that is not JSON",
                status=response.status_code,
                hint="is --url the address of a Meltemi server?",
            ) from e

    def _list(
        self,
        path: str,
        collection: str,
        filters: Mapping[str, Any] | None = None,
        *,
        limit: int | None = None,
        sort: str | None = None,
        desc: bool = False,
    ) -> list[JsonObject]:
        query = _query(filters, limit=limit, sort=sort, desc=desc)
        body = self.request("GET", path, params=query)
        return [_decode(item, collection) for item in body.get(collection, [])]

    def _one(self, path: str, resource: str, **params: str) -> JsonObject:
        return _decode(self.request("GET", path, params=params or None), resource)

    # -- workflows, workbooks, actions ------------------------------------------------

    def workflows(self, filters: Mapping[str, Any] | None = None, **kw: Any) -> list[JsonObject]:
        return self._list("/workflows", "workflows", filters, **kw)

    def workflow(self, identifier: str, namespace: str = "") -> JsonObject:
        params = {"namespace": namespace} if namespace else {}
        return self._one(f"/workflows/{identifier}", "workflows", **params)

    def create_workflows(
        self, text: str, *, namespace: str = "", public: bool = False, update: bool = False
    ) -> list[JsonObject]:
        params = _scope(namespace, public)
        body = self.request("PUT" if update else "POST", "/workflows", params=params, text=text)
        return [_decode(w, "workflows") for w in body["workflows"]]

    def delete_workflow(self, identifier: str, namespace: str = "") -> None:
        params = {"namespace": namespace} if namespace else None
        self.request("DELETE", f"/workflows/{identifier}", params=params)

    def validate(self, resource: str, text: str) -> JsonObject:
        """``POST /{resource}/validate``: ``{"valid": bool, "error": ...}``."""
        result: JsonObject = self.request("POST", f"/{resource}/validate", text=text)
        return result

    def workbooks(self, filters: Mapping[str, Any] | None = None, **kw: Any) -> list[JsonObject]:
        return self._list("/workbooks", "workbooks", filters, **kw)

    def workbook(self, name: str, namespace: str = "") -> JsonObject:
        params = {"namespace": namespace} if namespace else {}
        return self._one(f"/workbooks/{name}", "workbooks", **params)

    def create_workbook(
        self, text: str, *, namespace: str = "", public: bool = False, update: bool = False
    ) -> JsonObject:
        params = _scope(namespace, public)
        result: JsonObject = self.request(
            "PUT" if update else "POST", "/workbooks", params=params, text=text
        )
        return result

    def delete_workbook(self, name: str, namespace: str = "") -> None:
        params = {"namespace": namespace} if namespace else None
        self.request("DELETE", f"/workbooks/{name}", params=params)

    def actions(self, filters: Mapping[str, Any] | None = None, **kw: Any) -> list[JsonObject]:
        return self._list("/actions", "actions", filters, **kw)

    def action(self, name: str, namespace: str = "") -> JsonObject:
        params = {"namespace": namespace} if namespace else {}
        return self._one(f"/actions/{name}", "actions", **params)

    def create_actions(
        self, text: str, *, namespace: str = "", public: bool = False, update: bool = False
    ) -> list[JsonObject]:
        params = _scope(namespace, public)
        body = self.request("PUT" if update else "POST", "/actions", params=params, text=text)
        return list(body["actions"])

    def delete_action(self, name: str, namespace: str = "") -> None:
        params = {"namespace": namespace} if namespace else None
        self.request("DELETE", f"/actions/{name}", params=params)

    def run_action(
        self, name: str, action_input: Mapping[str, Any], *, save_result: bool, run_sync: bool
    ) -> JsonObject:
        body = {
            "name": name,
            "input": dict(action_input),
            "params": {"save_result": save_result, "run_sync": run_sync},
        }
        return _decode(
            self.request("POST", "/action_executions", json_body=body), "action_executions"
        )

    def action_execution(self, run_id: str) -> JsonObject:
        return self._one(f"/action_executions/{run_id}", "action_executions")

    # -- executions and tasks --------------------------------------------------------------

    def executions(self, filters: Mapping[str, Any] | None = None, **kw: Any) -> list[JsonObject]:
        return self._list("/executions", "executions", filters, **kw)

    def execution(self, execution_id: str) -> JsonObject:
        return self._one(f"/executions/{execution_id}", "executions")

    def start_execution(
        self,
        workflow: str,
        *,
        workflow_input: Mapping[str, Any],
        params: Mapping[str, Any],
        namespace: str = "",
        description: str = "",
    ) -> JsonObject:
        body = {
            "workflow_name": workflow,
            "workflow_namespace": namespace,
            "input": dict(workflow_input),
            "params": dict(params),
            "description": description,
        }
        return _decode(self.request("POST", "/executions", json_body=body), "executions")

    def set_execution_state(
        self, execution_id: str, state: str, info: str | None = None
    ) -> JsonObject:
        body: JsonObject = {"state": state}
        if info:
            body["state_info"] = info
        return _decode(
            self.request("PUT", f"/executions/{execution_id}", json_body=body), "executions"
        )

    def delete_execution(self, execution_id: str, *, force: bool = False) -> None:
        params = {"force": "true"} if force else None
        self.request("DELETE", f"/executions/{execution_id}", params=params)

    def execution_tasks(self, execution_id: str) -> list[JsonObject]:
        return self._list(f"/executions/{execution_id}/tasks", "tasks", sort="created_at")

    def report(self, execution_id: str) -> JsonObject:
        result: JsonObject = self.request("GET", f"/executions/{execution_id}/report")
        return result

    def explain(self, execution_id: str) -> JsonObject:
        """Meltemi's failure analysis (``GET /v2/executions/{id}/explain``)."""
        result: JsonObject = self.request("GET", f"/executions/{execution_id}/explain")
        return result

    def tasks(self, filters: Mapping[str, Any] | None = None, **kw: Any) -> list[JsonObject]:
        return self._list("/tasks", "tasks", filters, **kw)

    def tasks_of(self, execution_ids: Iterable[str]) -> list[JsonObject]:
        """The tasks of several workflow executions (a few requests, not one each)."""
        ids = list(execution_ids)
        found: list[JsonObject] = []
        for start in range(0, len(ids), 40):
            chunk = ",".join(ids[start : start + 40])
            found += self.tasks({"workflow_execution_id": f"in:{chunk}"})
        return found

    def task(self, task_id: str) -> JsonObject:
        return self._one(f"/tasks/{task_id}", "tasks")

    def rerun_task(
        self, task_id: str, *, reset: bool, env: Mapping[str, Any] | None = None
    ) -> JsonObject:
        body: JsonObject = {"state": "RUNNING", "reset": reset}
        if env:
            body["env"] = dict(env)
        return _decode(self.request("PUT", f"/tasks/{task_id}", json_body=body), "tasks")

    # -- environments and cron triggers -------------------------------------------------

    def environments(self, filters: Mapping[str, Any] | None = None, **kw: Any) -> list[JsonObject]:
        return self._list("/environments", "environments", filters, **kw)

    def environment(self, name: str) -> JsonObject:
        return self._one(f"/environments/{name}", "environments")

    def save_environment(self, body: Mapping[str, Any], *, update: bool = False) -> JsonObject:
        answer = self.request("PUT" if update else "POST", "/environments", json_body=dict(body))
        return _decode(answer, "environments")

    def delete_environment(self, name: str) -> None:
        self.request("DELETE", f"/environments/{name}")

    def cron_triggers(
        self, filters: Mapping[str, Any] | None = None, **kw: Any
    ) -> list[JsonObject]:
        return self._list("/cron_triggers", "cron_triggers", filters, **kw)

    def cron_trigger(self, identifier: str) -> JsonObject:
        return self._one(f"/cron_triggers/{identifier}", "cron_triggers")

    def create_cron_trigger(self, body: Mapping[str, Any]) -> JsonObject:
        return _decode(
            self.request("POST", "/cron_triggers", json_body=dict(body)), "cron_triggers"
        )

    def delete_cron_trigger(self, identifier: str) -> None:
        self.request("DELETE", f"/cron_triggers/{identifier}")


def _scope(namespace: str, public: bool) -> dict[str, str]:
    params = {"scope": "public" if public else "private"}
    if namespace:
        params["namespace"] = namespace
    return params


def _fault(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("faultstring"):
        return str(body["faultstring"])
    header = response.headers.get("Server-Error-Message")
    if header:
        return str(header)
    text = response.text.strip()
    return text[:500] if text else f"HTTP {response.status_code} {response.reason_phrase}"
