"""Progress of a batch job: a rich progress bar on a terminal, periodic log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

log = logging.getLogger(__name__)


class Progress:
    """A rich progress bar on a terminal; plain periodic log lines otherwise."""

    def __init__(self, total_bytes: int, tty: bool | None) -> None:
        self.total = max(total_bytes, 1)
        self.tty = sys.stderr.isatty() if tty is None else tty
        self.posts = 0
        self.bytes = 0
        self.started = time.perf_counter()
        self.last_log = self.started
        self._bar: Any = None

    def __enter__(self) -> Progress:
        if self.tty:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("scoring"),
                BarColumn(),
                DownloadColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(),
                transient=False,
                # stderr: stdout holds the answer (the JSON summary with --json).
                console=Console(stderr=True),
            )
            self._bar.start()
            self._task = self._bar.add_task("score", total=self.total, rate="")
        return self

    def read(self, bytes_read: int) -> None:
        self.bytes = bytes_read

    def advance_posts(self, count: int) -> None:
        self.posts += count
        elapsed = time.perf_counter() - self.started
        rate = self.posts / elapsed if elapsed else 0.0
        if self._bar is not None:
            self._bar.update(self._task, completed=self.bytes, rate=f"{rate:,.0f} posts/s")
        elif time.perf_counter() - self.last_log >= 10:
            self.last_log = time.perf_counter()
            share = self.bytes / self.total
            eta = elapsed / share - elapsed if share > 0 else float("nan")
            log.info(
                f"scored {self.posts:,} posts, {share:.0%} of input read, {rate:,.0f} posts/s, "
                f"ETA {eta:,.0f} s"
            )

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=self.total)
            self._bar.stop()
