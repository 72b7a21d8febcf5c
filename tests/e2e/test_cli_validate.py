"""``meltemi validate`` and ``meltemi graph`` as users run them: the installed command.

Exit codes, compiler-style text (``file:line:col: error: ...``, the source line and
a caret under the column), directories, ``--format json`` and ``--strict``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.paths import ROOT

VALID = """\
version: '2.0'
greet:
  tasks:
    hello:
      action: std.echo output="hi"
"""

INVALID = """\
version: '2.0'
deploy:
  tasks:
    build:
      action: std.noop
      wait-before: -5
      on-success: ship
    notify:
      action: std.echo output="done"
      on-error:
        - cleanup
        - shpi
    cleanup:
      action: std.noop
"""

ONLY_WARNINGS = """\
version: '2.0'
greet:
  tasks:
    hello:
      action: std.echo output=fast
"""


def command() -> list[str]:
    """The installed ``meltemi`` console script (as people run it)."""
    script = shutil.which("meltemi", path=str(Path(sys.executable).parent))
    script = script or shutil.which("meltemi")
    assert script, "the meltemi command is not installed: pip install -e ."
    return [script]


def meltemi(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [*command(), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
        check=False,
    )


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "valid.yaml").write_text(VALID)
    (tmp_path / "invalid.yaml").write_text(INVALID)
    (tmp_path / "warnings.yml").write_text(ONLY_WARNINGS)
    (tmp_path / "notes.txt").write_text("not a workflow: not read")
    nested = tmp_path / "more" / "deeper"
    nested.mkdir(parents=True)
    (nested / "also-valid.yaml").write_text(VALID)
    return tmp_path


def test_a_valid_file_exits_0(files: Path) -> None:
    result = meltemi("validate", str(files / "valid.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("1 file(s) checked: 1 valid")
    assert "error" not in result.stdout.replace("0 error(s)", "")


def test_an_invalid_file_exits_1_with_compiler_style_errors(files: Path) -> None:
    path = files / "invalid.yaml"
    result = meltemi("validate", str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    headlines = [line for line in lines if re.match(r"^\S+:\d+:\d+: (error|warning): ", line)]
    assert headlines == [
        f"{path}:6:20: error: deploy.tasks.build.wait-before: "
        "'wait-before' must be 0 or more, not -5",
        f"{path}:7:19: error: deploy.tasks.build.on-success: "
        "transition to unknown task 'ship' in workflow 'deploy'",
        f"{path}:12:11: error: deploy.tasks.notify.on-error[1]: "
        "transition to unknown task 'shpi' in workflow 'deploy'",
    ]
    # each headline is followed by the source line and a caret under the column
    at = lines.index(headlines[2])
    assert lines[at + 1] == "            - shpi"
    assert lines[at + 2] == "    " + " " * 10 + "^"
    assert lines[at + 2].index("^") == lines[at + 1].index("shpi")
    assert lines[at + 3].strip().startswith("hint: ")
    assert lines[-1] == "1 file(s) checked: 0 valid, 1 invalid (3 error(s), 0 warning(s))"


def test_a_directory_is_searched_for_yaml_files(files: Path) -> None:
    result = meltemi("validate", str(files))
    assert result.returncode == 1
    assert "notes.txt" not in result.stdout
    assert f"{files / 'invalid.yaml'}:6:20: error:" in result.stdout
    assert f"{files / 'warnings.yml'}:5:24: warning:" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "4 file(s) checked: 3 valid, 1 invalid (3 error(s), 1 warning(s))"
    )


def test_several_paths_exit_0_only_when_all_are_valid(files: Path) -> None:
    both_valid = meltemi("validate", str(files / "valid.yaml"), str(files / "more"))
    assert both_valid.returncode == 0
    one_invalid = meltemi("validate", str(files / "valid.yaml"), str(files / "invalid.yaml"))
    assert one_invalid.returncode == 1


def test_json_format(files: Path) -> None:
    result = meltemi("validate", "--format", "json", str(files))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    by_name = {Path(f["file"]).name: f for f in report["files"]}
    assert set(by_name) == {"valid.yaml", "invalid.yaml", "warnings.yml", "also-valid.yaml"}
    assert by_name["valid.yaml"] == {
        "file": str(files / "valid.yaml"),
        "valid": True,
        "diagnostics": [],
    }
    first = by_name["invalid.yaml"]["diagnostics"][0]
    assert first == {
        "severity": "error",
        "code": "negative",
        "file": str(files / "invalid.yaml"),
        "line": 6,
        "column": 20,
        "path": "deploy.tasks.build.wait-before",
        "message": "'wait-before' must be 0 or more, not -5",
        "hint": "use a whole number such as 5",
    }
    assert [d["line"] for d in by_name["invalid.yaml"]["diagnostics"]] == [6, 7, 12]
    [warning] = by_name["warnings.yml"]["diagnostics"]
    assert (warning["severity"], warning["code"], warning["line"], warning["column"]) == (
        "warning",
        "dropped-inline-param",
        5,
        24,
    )
    assert by_name["warnings.yml"]["valid"] is True


def test_strict_turns_warnings_into_failures(files: Path) -> None:
    path = str(files / "warnings.yml")
    relaxed = meltemi("validate", path)
    assert relaxed.returncode == 0
    assert f"{path}:5:24: warning: greet.tasks.hello.action: inline parameter" in relaxed.stdout
    strict = meltemi("validate", "--strict", path)
    assert strict.returncode == 1
    assert strict.stdout.splitlines()[-1].startswith("1 file(s) checked: 0 valid, 1 invalid")
    as_json = json.loads(meltemi("validate", "--strict", "--format", "json", path).stdout)
    assert as_json["valid"] is False
    assert as_json["files"][0]["valid"] is False


def test_unreadable_documents_are_errors_not_crashes(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "latin1.yaml").write_bytes("version: '2.0'\nwf: caf\xe9\n".encode("latin-1"))
    (tmp_path / "broken.yaml").write_text("version: '2.0'\nwf:\n  tasks: [\n")
    result = meltemi("validate", str(tmp_path))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert f"{tmp_path / 'empty.yaml'}:1:1: error: the document is empty" in result.stdout
    assert f"{tmp_path / 'latin1.yaml'}:2:8: error: the file is not UTF-8 text" in result.stdout
    assert f"{tmp_path / 'broken.yaml'}:4:1: error: YAML syntax error" in result.stdout


def test_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = meltemi("validate", str(tmp_path / "nowhere.yaml"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr


def test_graph_prints_mermaid_and_dot(files: Path) -> None:
    mermaid = meltemi("graph", str(files / "valid.yaml"))
    assert mermaid.returncode == 0
    assert mermaid.stdout == 'flowchart TD\n    n0["hello<br/><small>std.echo</small>"]\n'
    dot = meltemi("graph", "--format", "dot", str(files / "valid.yaml"))
    assert dot.returncode == 0
    assert dot.stdout.startswith('digraph "greet" {\n')
    invalid = meltemi("graph", str(files / "invalid.yaml"))
    assert invalid.returncode == 1
    assert "transition to unknown task 'ship'" in invalid.stderr
