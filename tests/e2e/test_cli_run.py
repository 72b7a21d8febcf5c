"""``meltemi run`` as users run it: a subprocess, exit codes, output, --json.

The three-level failure: a parent whose with-items runs a sub-workflow whose task
fails in item 7 after 2 retries; ``meltemi run`` prints the same explanation as
``meltemi execution explain``, with the file and line of each task.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.paths import ROOT

WORKFLOWS = """
version: '2.0'
greet:
  input:
    - name: world
  tasks:
    hello:
      action: std.echo output="Hello, <% $.name %>"
      publish: {greeting: <% task().result %>}
  output:
    greeting: <% $.greeting %>
broken:
  tasks:
    first:
      action: std.echo output="fine"
      on-success: second
    second:
      action: std.fail error_data="the disk is full"
"""

WORKBOOK = """
version: '2.0'
name: book
workflows:
  main:
    tasks:
      call:
        workflow: helper
        publish: {got: <% task().result.value %>}
    output:
      got: <% $.got %>
  helper:
    tasks:
      t:
        action: std.echo output=42
        publish: {value: <% task().result %>}
    output:
      value: <% $.value %>
"""

FLEET = """\
version: '2.0'
name: fleet
actions:
  install_package:
    base: std.fail
    base-input:
      error_data: <% "disk full on host " + str($.host) %>
    input:
      - host
      - password
workflows:
  deploy_all:
    tasks:
      deploy_hosts:
        with-items: host in <% range(10) %>
        concurrency: 4
        workflow: deploy_one
        input:
          host: <% $.host %>
  deploy_one:
    input: [host]
    tasks:
      prepare:
        action: std.noop
        on-success:
          - install: <% $.host = 7 %>
      install:
        action: install_package
        input:
          host: <% $.host %>
          password: hunter2
        retry:
          count: 2
          delay: 0
"""


def meltemi(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meltemi", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=dict(os.environ),
        check=False,
    )


@pytest.fixture
def workflows(tmp_path: Path) -> Path:
    path = tmp_path / "wf.yaml"
    path.write_text(WORKFLOWS)
    return path


def test_success_prints_output_and_exits_0(workflows: Path) -> None:
    result = meltemi("run", str(workflows), "--input", '{"name": "Ann"}')
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"greeting": "Hello, Ann"}


def test_json_report_lists_tasks_in_start_order(workflows: Path) -> None:
    result = meltemi("run", str(workflows), "--workflow", "broken", "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert set(report) == {
        "id",
        "workflow_name",
        "state",
        "state_info",
        "output",
        "tasks",
        "explanation",
    }
    assert report["state"] == "ERROR"
    assert report["explanation"]["summary"] == "broken.second (std.fail): the disk is full"
    [level] = report["explanation"]["chain"]
    assert level["location"] == {"file": str(workflows), "line": 17}
    assert [(t["name"], t["state"]) for t in report["tasks"]] == [
        ("first", "SUCCESS"),
        ("second", "ERROR"),
    ]
    assert "the disk is full" in report["state_info"]


def test_error_exits_1_and_says_why(workflows: Path) -> None:
    result = meltemi("run", str(workflows), "-w", "broken")
    assert result.returncode == 1
    assert "ended in ERROR" in result.stderr
    assert "broken.second (std.fail): the disk is full" in result.stderr
    assert "no on-error handler; no retry" in result.stderr
    assert "Traceback" not in result.stderr


def test_workbook_member_by_short_or_full_name(tmp_path: Path) -> None:
    path = tmp_path / "book.yaml"
    path.write_text(WORKBOOK)
    for name in ("main", "book.main"):
        result = meltemi("run", str(path), "--workflow", name)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {"got": 42}


def test_input_from_file_and_kept_database(workflows: Path, tmp_path: Path) -> None:
    (tmp_path / "in.json").write_text('{"name": "file"}')
    db = f"sqlite:///{tmp_path / 'kept.db'}"
    for _ in range(2):
        result = meltemi("run", str(workflows), "-i", f"@{tmp_path / 'in.json'}", "--db", db)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {"greeting": "Hello, file"}
    assert (tmp_path / "kept.db").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "{not json"], "--input is not valid JSON"),
        (["--input", "[1]"], "must be a JSON object"),
        (["--input", '{"nope": 1}'], "unexpected 'nope'"),
        (["--workflow", "missing"], "no workflow 'missing'"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(
    workflows: Path, args: list[str], message: str
) -> None:
    result = meltemi("run", str(workflows), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("example", "code", "shown"),
    [
        ("hello.yaml", 0, '"message": "Hello, world! Goodbye."'),
        ("deploy.yaml", 0, '"summary": "released image:1.2.3 to 3 hosts"'),
        ("fleet.yaml", 1, "item 7 of 10 failed first (1 failed: 7; 9 succeeded)"),
    ],
)
def test_the_examples_run_as_the_readme_says(example: str, code: int, shown: str) -> None:
    result = meltemi("run", str(ROOT / "examples" / example))
    assert result.returncode == code, result.stderr
    assert shown in (result.stdout if code == 0 else result.stderr)


def test_invalid_document_exits_2_with_position(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("version: '2.0'\nwf:\n  tasks:\n    t1:\n      on-success: nowhere\n")
    result = meltemi("run", str(path))
    assert result.returncode == 2
    assert f"{path}:5:19: error:" in result.stderr


def test_three_level_failure_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET)
    result = meltemi("run", str(path), "--workflow", "deploy_all")
    assert result.returncode == 1
    assert result.stdout == ""
    text = result.stderr
    assert "Traceback" not in text
    assert "fleet.deploy_all " in text.splitlines()[0]
    assert text.splitlines()[0].endswith(" ended in ERROR")
    assert (
        "fleet.deploy_all.deploy_hosts[7] > fleet.deploy_one.install (fleet.install_package): "
        "disk full on host 7"
    ) in text
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert "1. workflow fleet.deploy_all execution " in "\n".join(lines)
    assert f"task deploy_hosts ERROR at {path}:14" in lines
    assert "item item 7 of 10 failed first (1 failed: 7; 9 succeeded)" in lines
    assert 'sub-workflow deploy_one input {"host": 7}' in lines
    assert f"task install ERROR at {path}:27" in lines
    assert 'action fleet.install_package input {"host": 7, "password": "***"}' in lines
    assert "attempts 3" in lines
    assert "error disk full on host 7" in lines
    assert "handlers no on-error handler; retry: 2 of 2 retries used (delay 0s)" in lines
    assert "hunter2" not in text

    report = json.loads(meltemi("run", str(path), "-w", "deploy_all", "--json").stdout)
    parent, child = report["explanation"]["chain"]
    assert parent["task"]["name"] == "deploy_hosts"
    assert parent["location"] == {"file": str(path), "line": 14}
    assert parent["item"]["index"] == 7
    assert child["task"]["name"] == "install"
    assert child["run"] == {**child["run"], "name": "fleet.install_package", "attempts": 3}
    assert child["run"]["input"] == {"host": 7, "password": "***"}
    assert child["error"] == "disk full on host 7"
    assert child["handlers"]["retry"] == {**child["handlers"]["retry"], "used": 2, "count": 2}
