"""``python -m swarmlens.classifier.cli``: the same as the ``swarmlens`` console script."""

from swarmlens.classifier.cli.main import run

run()
