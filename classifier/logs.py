"""Logging for swarmlens: modules log to ``logging.getLogger(__name__)``; commands show it.

Library code never prints: it logs (progress at INFO, problems at WARNING/ERROR), and
the CLI installs a rich console handler on stderr once (``configure``), so a command's
stdout holds only its answer (a table, or JSON with ``--json``). Background work
(retraining in the server) logs its failures the same way, so they reach the server's log.
"""

from __future__ import annotations

import logging

ROOT = "swarmlens"
_STYLES = {logging.WARNING: "yellow", logging.ERROR: "red", logging.CRITICAL: "red"}


class RichConsoleHandler(logging.Handler):
    """Prints each record as one unwrapped line on a rich stderr console.

    Unwrapped (``soft_wrap``) so that messages stay greppable in logs and CI output;
    warnings and errors are coloured when stderr is a terminal.
    """

    def __init__(self, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        from rich.console import Console

        self.console = Console(stderr=True, soft_wrap=True, highlight=False)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            style = _STYLES.get(record.levelno)
            if style:
                prefix = "warning: " if record.levelno == logging.WARNING else "error: "
                self.console.print(f"[{style}]{prefix}[/{style}]", end="")
            self.console.print(message, markup=False)
        except Exception:  # logging must never take the program down
            self.handleError(record)


def configure(level: int = logging.INFO) -> None:
    """Send swarmlens's log records to stderr through rich (idempotent)."""
    logger = logging.getLogger(ROOT)
    logger.setLevel(level)
    if any(isinstance(h, RichConsoleHandler) for h in logger.handlers):
        return
    handler = RichConsoleHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    # Records stop here: a host application's root handlers do not print them twice.
    logger.propagate = False
