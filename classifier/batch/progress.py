"""Progress of a batch job: a rich progress bar on a terminal, periodic log lines otherwise."""

from __future__ import annotations

import logging
import math
import sys
import time
from typing import Any

log = logging.getLogger(__name__)


def progress_line(posts: int, bytes_read: int, total_bytes: int, elapsed: float) -> str:
    """One plain progress line: posts scored, share of the input read, rate and ETA.

    Every figure is a number a person can read: the share is clamped to 0-100%, the rate
    is left out before any time has passed, and the ETA is given only once some input has
    been read and some is left ("ETA unknown" before, "input read" after), never ``nan``
    or ``inf``.
    """
    share = min(max(bytes_read / total_bytes, 0.0), 1.0) if total_bytes > 0 else 0.0
    parts = [f"scored {posts:,} posts", f"{share:.0%} of input read"]
    if elapsed > 0 and math.isfinite(elapsed):
        parts.append(f"{posts / elapsed:,.0f} posts/s")
    if share >= 1.0:
        parts.append("input read, finishing")
    elif share > 0 and elapsed > 0 and math.isfinite(elapsed):
        parts.append(f"ETA {elapsed / share - elapsed:,.0f} s")
    else:
        parts.append("ETA unknown")
    return ", ".join(parts)


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
            log.info(progress_line(self.posts, self.bytes, self.total, elapsed))

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=self.total)
            self._bar.stop()
