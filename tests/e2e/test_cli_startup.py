"""``meltemi --help`` and ``meltemi validate`` start without what they do not need.

Each command's module is imported only when that command runs; ``--help`` lists them
from :data:`meltemi.cli._main.COMMANDS`, whose one-line summaries must match the
commands' own help.
"""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from meltemi.cli._main import COMMANDS, cli, load_command
from tests.fixtures.paths import ROOT

#: What only the commands that talk to a server, draw, or run workflows need.
HEAVY = ("httpx", "rich", "sqlalchemy", "fastapi", "meltemi.engine", "meltemi.services")

PROBE = """\
import sys
from meltemi.cli import cli
try:
    cli({args!r}, prog_name="meltemi")
except SystemExit as e:
    code = e.code
print("\\n".join(sorted(sys.modules)), file=sys.stderr)
sys.exit(code)
"""


def imported_by(*args: str) -> tuple[str, set[str]]:
    """Runs ``meltemi ARGS`` in a fresh interpreter: its output, the modules it loaded."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=list(args))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, set(done.stderr.split())


def loaded(modules: set[str], package: str) -> bool:
    return any(m == package or m.startswith(package + ".") for m in modules)


def test_help_loads_no_command() -> None:
    shown, modules = imported_by("--help")
    for name, where in COMMANDS.items():
        assert f"  {name} " in shown
        assert where.module not in modules
    assert [p for p in HEAVY if loaded(modules, p)] == []
    assert not loaded(modules, "yaml")


def test_validate_loads_no_http_client_or_database() -> None:
    shown, modules = imported_by("validate", str(ROOT / "examples" / "hello.yaml"))
    assert "1 valid" in shown
    assert [p for p in HEAVY if loaded(modules, p)] == []


def test_a_group_help_loads_only_its_module() -> None:
    shown, modules = imported_by("cron", "--help")
    assert "update" in shown
    assert "meltemi.cli._cron" in modules
    assert "meltemi.cli._run" not in modules
    assert not loaded(modules, "sqlalchemy")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_summary_matches_the_command(name: str) -> None:
    command = load_command(name)
    assert COMMANDS[name].summary == command.get_short_help_str(limit=200)
    with click.Context(cli) as ctx:
        assert cli.get_command(ctx, name) is command
