"""``python -m sightline.cli``."""

from sightline.cli.main import run

run()
