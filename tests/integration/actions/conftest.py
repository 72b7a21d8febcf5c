"""Fixtures for the std actions' tests: the servers of servers.py, and a way to run an
action through the executor and wait for its outcome."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from meltemi.actions import ActionRegistry, Outcome
from meltemi.executor import ActionRequest, Executor
from tests.integration.actions import servers

RunAction = Callable[..., Outcome]


@pytest.fixture
def http() -> Iterator[servers.HttpServer]:
    with servers.http_server() as server:
        yield server


@pytest.fixture(scope="session")
def ssh_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    problem = servers.sshd_problem()
    if problem is not None:
        servers.unavailable(problem)
    path = tmp_path_factory.mktemp("ssh-client") / "id_ed25519"
    servers.make_key(path)
    return path


@pytest.fixture(scope="session")
def ssh_user(ssh_key: Path) -> Iterator[tuple[str, str]]:
    """A user and password sshd accepts (root only: the account is created)."""
    if os.geteuid() != 0:
        servers.unavailable("password authentication needs an account with a known password")
    with servers.password_user() as user:
        yield user


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory, ssh_key: Path) -> Iterator[servers.Sshd]:
    folder = tmp_path_factory.mktemp("sshd-gateway")
    with servers.sshd(folder, ssh_key, password_auth=os.geteuid() == 0) as server:
        yield server


@pytest.fixture(scope="session")
def inner_sshd(
    tmp_path_factory: pytest.TempPathFactory, ssh_key: Path, sshd: servers.Sshd
) -> Iterator[servers.Sshd]:
    """A second sshd, reached through the first one as a gateway."""
    folder = tmp_path_factory.mktemp("sshd-inner")
    with servers.sshd(folder, ssh_key, password_auth=os.geteuid() == 0) as server:
        yield server


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[servers.SmtpServer]:
    with servers.smtp_server(tmp_path) as server:
        yield server


@pytest.fixture
def smtp_tls(tmp_path: Path) -> Iterator[servers.SmtpServer]:
    with servers.smtp_server(tmp_path, tls=True) as server:
        yield server


@pytest.fixture(scope="session")
def registry() -> ActionRegistry:
    return ActionRegistry(plugins=False)


@pytest.fixture
def run_action(registry: ActionRegistry) -> Iterator[RunAction]:
    """Runs an action on a real executor (thread pool) and returns its outcome.

    ``timeout`` is the task timeout the executor enforces; ``cancel_when`` is called
    repeatedly, and the action is cancelled once it returns true.
    """
    executor = Executor(registry, lambda request, outcome: None, workers=8)

    def run(
        name: str,
        input: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        cancel_when: Callable[[], bool] | None = None,
        wait: float = 120.0,
        **context: Any,
    ) -> Outcome:
        done = threading.Event()
        box: list[Outcome] = []

        def report(_request: ActionRequest, outcome: Outcome) -> None:
            box.append(outcome)
            done.set()

        request = ActionRequest(
            run_id=context.pop("run_id", "run-1"),
            action=name,
            input=dict(input or {}),
            timeout=timeout,
            **context,
        )
        executor.submit(request, report=report)
        if cancel_when is not None:
            servers.wait_until(cancel_when, timeout=wait, what="the moment to cancel")
            executor.cancel(request.run_id)
        assert done.wait(wait), f"{name} reported nothing within {wait} s"
        return box[0]

    yield run
    executor.shutdown(wait=False)
