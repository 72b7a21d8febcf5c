"""``python -m meltemi`` runs the command line."""

from meltemi.cli import main

main()
