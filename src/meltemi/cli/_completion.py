"""``meltemi completion bash|zsh|fish``: the shell completion script (click's own).

Load it once per shell, e.g. in ~/.bashrc::

    eval "$(_MELTEMI_COMPLETE=bash_source meltemi)"   # or: eval "$(meltemi completion bash)"
"""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

SHELLS = ("bash", "zsh", "fish")


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def completion_command(shell: str) -> None:
    """Print the completion script of SHELL.

    \b
    bash:  eval "$(meltemi completion bash)"        (in ~/.bashrc)
    zsh:   eval "$(meltemi completion zsh)"         (in ~/.zshrc)
    fish:  meltemi completion fish > ~/.config/fish/completions/meltemi.fish
    """
    root = click.get_current_context().find_root().command
    completion = get_completion_class(shell)
    if completion is None:  # click knows the three shells offered
        raise click.BadParameter(f"no completion for {shell}")
    script = completion(root, {}, "meltemi", "_MELTEMI_COMPLETE").source()
    click.echo(script)
