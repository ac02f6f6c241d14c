"""The ``swarmlens`` command line: one module per command group, assembled in ``main``."""

from swarmlens.classifier.cli.main import app, main, run

__all__ = ["app", "main", "run"]
