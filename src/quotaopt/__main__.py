"""``python -m quotaopt`` runs the command line."""

from quotaopt.cli import main

main(prog_name="quotaopt")
