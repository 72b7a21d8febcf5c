"""Values given on the command line: JSON objects inline or from files, YAML files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import yaml

from meltemi.cli._errors import BadInput


def read_file(path: str, what: str = "file") -> str:
    """The text of a file, or ``-`` for standard input."""
    if path == "-":
        return click.get_text_stream("stdin").read()
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except OSError as e:
        raise BadInput(f"cannot read {what} {path}: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise BadInput(f"{what} {path} is not UTF-8 text (byte {e.start})") from e


def json_object(value: str | None, what: str) -> dict[str, Any]:
    """A JSON object given inline (``'{"a": 1}'``) or as ``@file`` (JSON or YAML).

    Raises:
        BadInput: not JSON (the message gives the line and column), or not an object.
    """
    if not value:
        return {}
    text = value
    is_yaml = False
    if value.startswith("@"):
        text = read_file(value[1:], f"{what} file")
        is_yaml = value.endswith((".yaml", ".yml"))
    if is_yaml:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise BadInput(f"{what} file {value[1:]} is not valid YAML: {e}") from e
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise BadInput(
                f"{what} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}",
                hint=f"""quote it for the shell: {what} '{{"key": "value"}}', """
                "or give @file.json",
            ) from e
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadInput(f"{what} must be a JSON object, not {type(data).__name__}")
    return data
