"""``meltemi validate`` and ``meltemi graph``: check workflow documents, draw their tasks."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from meltemi.lang import ParseResult, Severity, parse, render_diagnostics
from meltemi.lang.graph import to_dot, to_mermaid

_SUFFIXES = (".yaml", ".yml")


def _files(paths: tuple[Path, ...]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in _SUFFIXES and p.is_file())
        else:
            yield path


def _colour(text: str, severity: Severity, enabled: bool) -> str:
    if not enabled:
        return text
    first, _, rest = text.partition("\n")
    colour = "red" if severity is Severity.ERROR else "yellow"
    return click.style(first, fg=colour, bold=True) + ("\n" + rest if rest else "")


@click.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output format."
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def validate_command(paths: tuple[Path, ...], fmt: str, strict: bool) -> None:
    """Check workflow documents (files or directories of .yaml files).

    Exits 0 when every document is valid, 1 otherwise.
    """
    results: list[tuple[Path, ParseResult]] = []
    for path in _files(paths):
        try:
            data = path.read_bytes()
        except OSError as e:
            raise click.ClickException(f"cannot read {path}: {e.strerror}") from e
        results.append((path, parse(data, str(path))))
    invalid = [p for p, r in results if not r.is_valid(strict=strict)]
    if fmt == "json":
        report = {
            "valid": not invalid,
            "files": [
                {
                    "file": str(p),
                    "valid": r.is_valid(strict=strict),
                    "diagnostics": [d.to_json() for d in r.diagnostics],
                }
                for p, r in results
            ],
        }
        click.echo(json.dumps(report, indent=2))
    else:
        colour = sys.stdout.isatty()
        for _path, result in results:
            for d in result.diagnostics:
                click.echo(_colour(render_diagnostics([d], result.source), d.severity, colour))
        errors = sum(len(r.errors) for _p, r in results)
        warnings = sum(len(r.warnings) for _p, r in results)
        click.echo(
            f"{len(results)} file(s) checked: {len(results) - len(invalid)} valid, "
            f"{len(invalid)} invalid ({errors} error(s), {warnings} warning(s))"
        )
    if invalid:
        sys.exit(1)


@click.command("graph")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--workflow", "-w", help="Workflow to draw (default: the first).")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid")
def graph_command(path: Path, workflow: str | None, fmt: str) -> None:
    """Print the task graph of a workflow as Mermaid or DOT text."""
    result = parse(path.read_bytes(), str(path))
    if result.document is None or result.errors:
        click.echo(render_diagnostics(result.errors, result.source), err=True)
        sys.exit(1)
    workflows = result.document.workflows
    chosen = [w for w in workflows if workflow in (None, w.name)]
    if not chosen:
        names = ", ".join(w.name for w in workflows) or "none"
        raise click.ClickException(f"no workflow '{workflow}' in {path}; it has: {names}")
    click.echo(to_mermaid(chosen[0]) if fmt == "mermaid" else to_dot(chosen[0]), nl=False)
