"""What happens to records that cannot become posts: ``Rejected``, counted and kept.

A malformed record never stops a run: the readers yield a ``Rejected`` in its
place, ``ReadStats`` counts it and ``RejectsFile`` keeps it for a person to fix.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from swarmlens.classifier.errors import OutputError
from swarmlens.classifier.fsio import check_regular_target
from swarmlens.classifier.text.normalize import without_lone_surrogates

MAX_RAW_CHARS = 10_000
"""Characters of a record kept in ``Rejected.raw``: enough to see what is wrong, while a
50 MB garbage line does not make a 50 MB rejects file. The rest is cut, with a note."""


@dataclass(slots=True)
class Rejected:
    """A record that could not become a post, with everything needed to fix it.

    source: the input file. line: the record's line (JSONL, CSV) or 1-based
    position (JSON documents, Parquet); 0 when the whole file is unreadable.
    reason: why, in words a person can act on. raw: the record as text ('' when
    there is no record, e.g. a truncated stream); over ``MAX_RAW_CHARS`` it is cut,
    ending with a note of the record's full length.
    """

    source: str
    line: int
    reason: str
    raw: str

    def __post_init__(self) -> None:
        # A lone surrogate (a record's broken "\ud800" escape, a file name of invalid
        # UTF-8) cannot be written as UTF-8: the reject itself must stay writable.
        self.source = without_lone_surrogates(self.source)
        self.reason = without_lone_surrogates(self.reason)
        self.raw = without_lone_surrogates(self.raw)
        if len(self.raw) > MAX_RAW_CHARS:
            self.raw = (
                self.raw[:MAX_RAW_CHARS]
                + f" [... cut: the record has {len(self.raw):,} characters]"
            )

    def to_dict(self) -> dict[str, Any]:
        """The reject as a JSON-friendly dict (source, line, reason, raw)."""
        return asdict(self)


def raw_text(record: object) -> str:
    """``record`` as the text stored in ``Rejected.raw``: JSON when possible, else repr.

    record: any decoded record (mapping, list, scalar) or part of one.
    """
    try:
        return json.dumps(record, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        # Circular structures or non-string keys: repr still shows what was there.
        try:
            return repr(record)
        except RecursionError:
            pass
    except RecursionError:
        pass
    # Nested too deep for either (the readers reject such records before they get here).
    return f"[{type(record).__name__} nested too deeply to show]"


@dataclass
class ReadStats:
    """Counts of records read / accepted / rejected, in total and per source file."""

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    by_source: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, source: str, accepted: bool) -> None:
        """Count one record.

        source: the input file it came from. accepted: True for a post, False for a reject.
        """
        per = self.by_source.setdefault(source, {"read": 0, "accepted": 0, "rejected": 0})
        self.read += 1
        per["read"] += 1
        key = "accepted" if accepted else "rejected"
        setattr(self, key, getattr(self, key) + 1)
        per[key] += 1

    def count_batch(self, source: str, accepted: int, rejected: int) -> None:
        """Count a batch of records of one source: ``accepted`` posts, ``rejected`` rejects."""
        per = self.by_source.setdefault(source, {"read": 0, "accepted": 0, "rejected": 0})
        for target in (per, None):
            if target is None:
                self.read += accepted + rejected
                self.accepted += accepted
                self.rejected += rejected
            else:
                target["read"] += accepted + rejected
                target["accepted"] += accepted
                target["rejected"] += rejected


class RejectsFile:
    """Appends rejected records as JSON lines to a file (created on the first reject).

    path: the JSONL file to append to; its parent directories are created as needed.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._handle: IO[str] | None = None
        self.count = 0

    def add(self, rejected: Rejected) -> None:
        """Append one reject.

        rejected: the reject to write, as one JSON line.
        """
        try:
            if self._handle is None:
                # Opened lazily so that a clean run leaves no empty rejects file behind.
                check_regular_target(self.path)  # appending to a FIFO would block
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._handle = self.path.open("a", encoding="utf-8")
            self._handle.write(json.dumps(rejected.to_dict(), ensure_ascii=False) + "\n")
        except OSError as exc:
            raise OutputError(f"cannot write rejects file {self.path}: {exc.strerror or exc}"
                              ) from None
        self.count += 1

    def close(self) -> None:
        """Close the file (a later ``add`` opens it again, appending)."""
        if self._handle is not None:
            handle, self._handle = self._handle, None
            try:
                handle.close()  # flushes: a full disk may only show here
            except OSError as exc:
                raise OutputError(
                    f"cannot write rejects file {self.path}: {exc.strerror or exc}"
                ) from None

    def __enter__(self) -> RejectsFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
