"""``python -m sightline``: the command line."""

from sightline.cli.main import run

run()
