"""What the dataset commands (volumes, estimate, network) check before any query."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from swarmlens.classifier.errors import InputError


def dataset_window(
    dataset: list[Path], start: str | None, end: str | None
) -> tuple[datetime | None, datetime | None]:
    """The window [start, end) as UTC times, once every dataset path exists.

    dataset: the scored datasets named on the command line. start / end: ISO 8601 text
    from ``--start`` / ``--end`` (naive means UTC), or None.
    Raises InputError (E001) naming the missing path or the unreadable time.
    """
    from swarmlens.classifier.posts.post import parse_time

    for path in dataset:
        if not path.exists():
            raise InputError(f"dataset {path} does not exist")
    try:
        return parse_time(start), parse_time(end)
    except ValueError as exc:
        raise InputError(f"--start/--end: {exc}") from None
