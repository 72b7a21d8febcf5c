"""``meltemi workflow|workbook|action|env|cron ...`` against a ``meltemi server``.

The installed ``meltemi`` command runs in a subprocess with ``MELTEMI_URL`` pointing
at the module's server; the tests read its tables, its ``-o json|yaml`` output, its
error lines and exit codes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.fixtures.cli import Meltemi
from tests.fixtures.server import ServerProcess

WORKFLOWS = """\
version: '2.0'
greet:
  description: greets someone
  input:
    - name
  tasks:
    hello:
      action: std.echo output="Hello, <% $.name %>"
cli_defs_other:
  tasks:
    only:
      action: std.noop
"""

WORKBOOK = """\
version: '2.0'
name: cli_book
workflows:
  main:
    tasks:
      t:
        action: std.noop
"""

ACTIONS = """\
version: '2.0'
cli_shout:
  base: std.echo
  base-input:
    output: <% $.text %>!
  input:
    - text
"""


@pytest.fixture(scope="module")
def meltemi(module_server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Meltemi:
    return Meltemi(module_server.base_url, tmp_path_factory.mktemp("cli"))


def rows(text: str) -> list[list[str]]:
    """The rows of a table (cells split on runs of 2+ spaces), header first."""
    lines = [line for line in text.splitlines() if line.strip() and not set(line) <= {"─", " "}]
    return [[cell for cell in line.strip().split("  ") if cell.strip()] for line in lines]


def cells(text: str) -> list[list[str]]:
    return [[c.strip() for c in row] for row in rows(text)]


def test_workflow_verbs(meltemi: Meltemi) -> None:
    created = meltemi("workflow", "create", meltemi.file("wf.yaml", WORKFLOWS))
    assert "created workflow greet, cli_defs_other" in created.out

    table = cells(meltemi("workflow", "list").out)
    assert table[0][:4] == ["ID", "NAME", "NAMESPACE", "INPUT"]
    greet = next(row for row in table if row[1] == "greet")
    assert greet[3] == "name"
    assert greet[-1] in ("just now", *(f"{n} s ago" for n in range(5, 60)))

    listed = meltemi("workflow", "list", "-o", "json").json()
    by_name = {w["name"]: w for w in listed}
    assert by_name["greet"]["interface"] == {"input": ["name"], "output": []}
    as_yaml = yaml.safe_load(meltemi("workflow", "list", "-o", "yaml").out)
    assert [w["name"] for w in as_yaml] == [w["name"] for w in listed]

    # by name, by id, by a unique id prefix
    workflow_id = by_name["greet"]["id"]
    for given in ("greet", workflow_id, workflow_id[:6]):
        shown = meltemi("workflow", "get", given, "-o", "json").json()
        assert shown["id"] == workflow_id
    details = meltemi("workflow", "get", "greet").out
    assert "greets someone" in details
    assert workflow_id in details
    assert meltemi("workflow", "get", "greet", "--definition").out.startswith("version")
    as_yaml = yaml.safe_load(meltemi("workflow", "get", "greet", "-o", "yaml").out)
    assert as_yaml["name"] == "greet"

    changed = WORKFLOWS.replace("greets someone", "greets anyone")
    updated = meltemi("workflow", "update", meltemi.file("wf2.yaml", changed), "-o", "json")
    assert {w["name"] for w in updated.json()} == {"greet", "cli_defs_other"}
    assert "greets anyone" in meltemi("workflow", "get", "greet", "--definition").out

    assert "deleted workflow cli_defs_other" in meltemi("workflow", "delete", "cli_defs_other").out
    missing = meltemi("workflow", "get", "cli_defs_other", code=1)
    assert missing.err.startswith("error: no workflow 'cli_defs_other'")
    assert "hint: see the workflows with 'meltemi workflow list'" in missing.err


def test_workflow_validate(meltemi: Meltemi) -> None:
    good = meltemi("workflow", "validate", meltemi.file("good.yaml", WORKFLOWS))
    assert "valid workflow definition" in good.out
    bad_file = meltemi.file(
        "bad.yaml", WORKFLOWS.replace("std.noop", "std.noop\n      on-success: nowhere")
    )
    bad = meltemi("workflow", "validate", bad_file, code=1)
    assert f"{bad_file}:" in bad.err
    assert "nowhere" in bad.err
    assert meltemi("workflow", "validate", bad_file, "-o", "json", code=1).json()["valid"] is False


def test_workbook_verbs(meltemi: Meltemi) -> None:
    path = meltemi.file("book.yaml", WORKBOOK)
    assert "valid workbook definition" in meltemi("workbook", "validate", path).out
    assert "created workbook cli_book" in meltemi("workbook", "create", path).out
    assert cells(meltemi("workbook", "list").out)[1][:4] == ["cli_book", "-", "private", "-"]
    book = meltemi("workbook", "get", "cli_book", "-o", "json").json()
    assert book["name"] == "cli_book"
    by_prefix = yaml.safe_load(meltemi("workbook", "get", book["id"][:6], "-o", "yaml").out)
    assert by_prefix["id"] == book["id"]
    assert "cli_book.main" in {w["name"] for w in meltemi("workflow", "list", "-o", "json").json()}
    updated = meltemi.file("book2.yaml", WORKBOOK.replace("std.noop", "std.echo output=1"))
    assert "updated workbook cli_book" in meltemi("workbook", "update", updated).out
    assert "std.echo" in meltemi("workbook", "get", "cli_book", "-d").out
    deleted = meltemi("workbook", "delete", book["id"][:6]).out
    assert "deleted workbook cli_book" in deleted
    assert "stay registered as cli_book.*" in deleted
    assert meltemi("workbook", "list", "-o", "json").json() == []
    # As in Mistral, the workbook's workflows stay until deleted one by one.
    assert "cli_book.main" in meltemi("workflow", "list").out
    assert "deleted workflow cli_book.main" in meltemi("workflow", "delete", "cli_book.main").out
    assert "cli_book.main" not in meltemi("workflow", "list").out


def test_action_verbs_and_run(meltemi: Meltemi) -> None:
    path = meltemi.file("actions.yaml", ACTIONS)
    assert "valid action definition" in meltemi("action", "validate", path).out
    assert "created action cli_shout" in meltemi("action", "create", path).out
    listed = meltemi("action", "list", "--filter", "name=has:cli_shout", "-o", "json").json()
    assert [a["name"] for a in listed] == ["cli_shout"]
    table = cells(meltemi("action", "list", "--filter", "name=in:std.echo,std.noop").out)
    assert table[0] == ["NAME", "INPUT", "DESCRIPTION"]
    assert [row[:2] for row in table[1:]] == [["std.echo", "output, delay=0"], ["std.noop", "-"]]
    shout = meltemi("action", "get", "cli_shout", "-o", "json").json()
    assert shout["input"] == "text"
    shown = cells(meltemi("action", "get", shout["id"][:6]).out)
    assert ["name", "cli_shout"] in shown
    assert ["input", "text"] in shown

    ran = meltemi("action", "run", "cli_shout", "--input", '{"text": "hey"}')
    assert json.loads(ran.out) == "hey!"
    saved = meltemi("action", "run", "std.echo", "-i", '{"output": 5}', "-s", "-o", "json")
    assert saved.json()["state"] == "SUCCESS"
    assert saved.json()["output"] == {"result": 5}
    failed = meltemi("action", "run", "std.fail", "-i", '{"error_data": "nope"}', code=1)
    assert "std.fail ended in ERROR" in failed.err
    assert "nope" in failed.err

    updated = meltemi.file("actions2.yaml", ACTIONS.replace("!", "?"))
    assert "updated action cli_shout" in meltemi("action", "update", updated).out
    assert json.loads(meltemi("action", "run", "cli_shout", "-i", '{"text": "a"}').out) == "a?"
    assert "deleted action cli_shout" in meltemi("action", "delete", "cli_shout").out
    gone = meltemi("action", "run", "cli_shout", "-i", '{"text": "a"}', code=1)
    assert gone.err.startswith("error: ")
    assert "cli_shout" in gone.err.splitlines()[0]


def test_env_verbs(meltemi: Meltemi) -> None:
    env_file = meltemi.file("env.yaml", "name: cli_env\ndescription: test\nvariables: {a: 1}\n")
    created = meltemi("env", "create", env_file, "-o", "json").json()
    assert created["variables"] == {"a": 1}
    assert cells(meltemi("env", "list").out)[1][:3] == ["cli_env", "test", "a"]
    meltemi("env", "update", "--name", "cli_env", "--variables", '{"a": 2, "b": 3}')
    shown = meltemi("env", "get", "cli_env", "-o", "yaml").out
    assert yaml.safe_load(shown)["variables"] == {"a": 2, "b": 3}
    env_id = yaml.safe_load(shown)["id"]
    by_prefix = cells(meltemi("env", "get", env_id[:6]).out)
    assert ["name", "cli_env"] in by_prefix
    assert '"b": 3' in meltemi("env", "get", "cli_env").out
    bad = meltemi("env", "create", "--name", "x", "--variables", '{"a": }', code=2)
    assert "error: --variables is not valid JSON: Expecting value at line 1, column 7" in bad.err
    assert "deleted environment cli_env" in meltemi("env", "delete", env_id[:6]).out
    assert meltemi("env", "get", "cli_env", code=1).err.startswith("error: no environment")
    assert meltemi("env", "list").out.strip() == "no environments"


def test_cron_verbs(meltemi: Meltemi) -> None:
    meltemi(
        "workflow", "create", meltemi.file("cron_wf.yaml", WORKFLOWS.replace("greet", "cron_wf"))
    )
    created = meltemi(
        "cron",
        "create",
        "cli_nightly",
        "cron_wf",
        "--pattern",
        "0 3 * * *",
        "--input",
        '{"name": "night"}',
        "-o",
        "json",
    ).json()
    assert created["pattern"] == "0 3 * * *"
    assert created["workflow_input"] == {"name": "night"}
    table = cells(meltemi("cron", "list").out)
    assert table[0] == ["NAME", "WORKFLOW", "PATTERN", "NEXT", "REMAINING"]
    assert table[1][:3] == ["cli_nightly", "cron_wf", "0 3 * * *"]
    assert "in " in table[1][3]  # the next run is in the future
    assert meltemi("cron", "get", "cli_nightly", "-o", "json").json()["id"] == created["id"]
    shown = cells(meltemi("cron", "get", created["id"][:6]).out)
    assert ["pattern", "0 3 * * *"] in shown

    updated = meltemi("cron", "update", "cli_nightly", "--pattern", "30 4 * * *")
    assert updated.out.startswith("updated cron trigger cli_nightly; next run ")
    after = meltemi("cron", "get", "cli_nightly", "-o", "yaml").out
    assert yaml.safe_load(after)["pattern"] == "30 4 * * *"
    assert yaml.safe_load(after)["workflow_input"] == {"name": "night"}  # kept
    refused = meltemi("cron", "update", "cli_nightly", "-p", "not a pattern", code=1)
    assert refused.err.startswith("error: The specified pattern is not valid")
    kept = meltemi("cron", "get", "cli_nightly", "-o", "json").json()
    assert kept["pattern"] == "30 4 * * *"  # the old trigger was put back
    assert kept["workflow_input"] == {"name": "night"}

    assert "deleted cron trigger cli_nightly" in meltemi("cron", "delete", "cli_nightly").out
    assert meltemi("cron", "list", "-o", "json").json() == []


def test_completion_scripts(meltemi: Meltemi) -> None:
    assert "_MELTEMI_COMPLETE=bash_complete" in meltemi("completion", "bash").out
    assert "compdef" in meltemi("completion", "zsh").out
    assert "complete --no-files --command meltemi" in meltemi("completion", "fish").out
    env = {**os.environ, "_MELTEMI_COMPLETE": "bash_complete", "COMP_WORDS": "meltemi exec"}
    env["COMP_CWORD"] = "1"
    script = shutil.which("meltemi", path=str(Path(sys.executable).parent))
    assert script
    done = subprocess.run([script], env=env, capture_output=True, text=True, check=False)
    assert "plain,execution" in done.stdout.splitlines()
    env.update(COMP_WORDS="meltemi execution st", COMP_CWORD="2")
    done = subprocess.run([script], env=env, capture_output=True, text=True, check=False)
    assert done.stdout.splitlines() == ["plain,start"]
    env.update(COMP_WORDS="meltemi cron up", COMP_CWORD="2")
    done = subprocess.run([script], env=env, capture_output=True, text=True, check=False)
    assert done.stdout.splitlines() == ["plain,update"]
