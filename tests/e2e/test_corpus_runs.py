"""The runnable workflows of the shared corpus, run on a real ``meltemi server`` and
checked against how the real Mistral 23.0.0 ended them.

The cases and what Mistral did with each live in ``corpus_runs.yaml`` (its header says
how they were recorded). Each case registers its corpus documents in a namespace of its
own, starts one workflow through REST, waits for the end, then compares the final
state, the output, every task's state (sub-workflows' included) and, for std.http
workflows, the requests a local stub server received.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.fixtures.http import TEXT, eventually
from tests.fixtures.paths import require_corpus
from tests.fixtures.server import servers

DATA = Path(__file__).with_name("corpus_runs.yaml")
CASES: list[dict[str, Any]] = yaml.safe_load(DATA.read_text(encoding="utf-8"))["cases"]
FINISHED = {"SUCCESS", "ERROR", "CANCELLED"}


class StubServer(ThreadingHTTPServer):
    """Stands in for the services the corpus's std.http workflows call."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _StubHandler)
        self.received: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def take(self) -> list[tuple[str, str, str]]:
        with self.lock:
            taken, self.received = self.received, []
        return taken


class _StubHandler(BaseHTTPRequestHandler):
    server: StubServer

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        with self.server.lock:
            self.server.received.append((self.command, self.path, body))
        if self.path.endswith("/status/418"):
            self._send(418, b"I'm a teapot", "text/plain")
        elif "api_jsonrpc.php" in self.path:
            ids = {"groupids": ["11"], "hostids": ["12"], "itemids": ["13"]}
            answer = {"jsonrpc": "2.0", "result": ids, "id": 1}
            self._send(200, json.dumps(answer).encode(), "application/json")
        elif self.path == "/rest/conf" and self.command == "POST":
            # lowercase on purpose: the vyatta workbook reads $.headers.location
            self._send(201, b"", "text/plain", ("location", "rest/conf/42"))
        else:
            self._send(200, b'{"status": "ok"}', "application/json")

    def _send(self, code: int, body: bytes, kind: str, *extra: tuple[str, str]) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads ``received`` instead."""


@pytest.fixture(scope="module")
def stub() -> Iterator[StubServer]:
    server = StubServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """An httpx client for ``/v2`` of a server that may call the loopback stub."""
    require_corpus()
    with servers(tmp_path_factory.mktemp("corpus")) as make:
        server = make(env={"MELTEMI_HTTP_DENIED_CIDRS": ""})
        with httpx.Client(base_url=f"{server.base_url}/v2", timeout=60) as client:
            yield client


def _fill(value: Any, stub: StubServer) -> Any:
    """The case's value with {stub} and {stub_host} replaced."""
    if isinstance(value, str):
        return value.replace("{stub_host}", stub.host).replace("{stub}", f"http://{stub.host}")
    if isinstance(value, dict):
        return {k: _fill(v, stub) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, stub) for v in value]
    return value


def _register(api: httpx.Client, corpus: Path, relative: str, namespace: str) -> None:
    text = (corpus / relative).read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    kind = "workbooks" if "workflows" in document or "actions" in document else "workflows"
    response = api.post(f"/{kind}", params={"namespace": namespace}, content=text, headers=TEXT)
    assert response.status_code == 201, f"{relative}: {response.text}"


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _tasks(api: httpx.Client, execution_id: str, prefix: str = "") -> list[tuple[str, str]]:
    """(path, state) of the execution's tasks and, under "<task>/", its children's."""
    found = []
    for task in api.get(f"/executions/{execution_id}/tasks").json()["tasks"]:
        found.append((prefix + task["name"], task["state"]))
        if task["type"] == "WORKFLOW":
            children = api.get("/executions", params={"task_execution_id": task["id"]})
            for child in children.json()["executions"]:
                found += _tasks(api, child["id"], f"{prefix}{task['name']}/")
    return found


def _by_state(tasks: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for path, state in sorted(tasks):
        grouped.setdefault(state, []).append(path)
    return grouped


def _requests(received: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """The requests as the data file lists them: sorted, repeats counted, bodies parsed."""
    counts: dict[tuple[str, str, str], int] = {}
    for request in received:
        counts[request] = counts.get(request, 0) + 1
    listed = []
    for (method, path, body), times in sorted(counts.items()):
        item: dict[str, Any] = {"method": method, "path": path, "body": _loads(body or "null")}
        if times > 1:
            item["times"] = times
        listed.append(item)
    return listed


def _namespace(case_id: str) -> str:
    return "corpus-" + re.sub(r"[^\w-]", "-", case_id)


def test_every_runnable_corpus_document_has_a_case(corpus: Path) -> None:
    rows = [line.split("\t") for line in (corpus / "INDEX.tsv").read_text().splitlines()[1:]]
    runnable = {row[0] for row in rows if row and row[-1] == "yes"}
    covered = {path for case in CASES for path in case["documents"]}
    assert runnable <= covered, sorted(runnable - covered)
    assert all(case["expected_from"] for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_corpus_workflow_ends_as_on_mistral(
    case: dict[str, Any], corpus: Path, api: httpx.Client, stub: StubServer
) -> None:
    namespace = _namespace(case["id"])
    for relative in case["documents"]:
        _register(api, corpus, relative, namespace)
    stub.take()
    started = api.post(
        "/executions",
        json={
            "workflow_name": case["workflow"],
            "workflow_namespace": namespace,
            "input": json.dumps(_fill(case.get("input", {}), stub)),
            "params": json.dumps(_fill(case.get("params", {}), stub)),
        },
    )
    assert started.status_code == 201, started.text
    execution_id = started.json()["id"]

    def finished() -> dict[str, Any] | None:
        execution: dict[str, Any] = api.get(f"/executions/{execution_id}").json()
        return execution if execution["state"] in FINISHED else None

    execution = eventually(finished, timeout=case.get("timeout", 60))
    state_info = execution["state_info"]
    output = _loads(execution["output"])

    assert execution["state"] == case["state"], state_info
    if case["state"] == "SUCCESS":
        assert state_info is None
    else:
        # Mistral puts the state_info in the output's `result`; its wording is Meltemi's.
        assert output.pop("result") == state_info
        for fragment in case.get("state_info_contains", ()):
            assert fragment in state_info
        assert "Traceback" not in state_info
    assert output == case["output"]
    assert _by_state(_tasks(api, execution_id)) == case["tasks"]
    assert _requests(stub.take()) == case.get("http_requests", [])
