"""The plain progress line of a batch job (stderr not a terminal): no ``nan``, no ``inf``."""

from __future__ import annotations

import pytest

from swarmlens.classifier.batch import progress as progress_module
from swarmlens.classifier.batch.progress import Progress, progress_line


@pytest.mark.parametrize(
    ("posts", "read", "total", "elapsed"),
    [
        (0, 0, 1, 0.0),  # nothing yet
        (1134, 0, 5_000, 12.0),  # scored, but no byte counted read (the line)
        (500, 2_500, 5_000, 10.0),
        (900, 5_000, 5_000, 30.0),  # all read
        (900, 7_000, 5_000, 30.0),  # more read than the files' sizes said
        (10, 100, 0, 5.0),  # empty inputs
        (10, -1, 5_000, 5.0),
    ],
)
def test_progress_line_has_no_nan(posts: int, read: int, total: int, elapsed: float) -> None:
    line = progress_line(posts, read, total, elapsed)
    assert "nan" not in line.lower() and "inf" not in line.lower(), line
    assert line.startswith(f"scored {posts:,} posts, ")
    share = int(line.split(", ")[1].split("%")[0])
    assert 0 <= share <= 100


def test_progress_line_figures() -> None:
    assert progress_line(500, 2_500, 5_000, 10.0) == (
        "scored 500 posts, 50% of input read, 50 posts/s, ETA 10 s"
    )
    assert progress_line(1134, 0, 5_000, 12.0) == (
        "scored 1,134 posts, 0% of input read, 94 posts/s, ETA unknown"
    )
    assert progress_line(900, 5_000, 5_000, 30.0).endswith("input read, finishing")
    assert progress_line(0, 0, 1, 0.0) == "scored 0 posts, 0% of input read, ETA unknown"


def test_progress_logs_the_line(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([0.0, 11.0, 11.0, 11.0])
    monkeypatch.setattr(progress_module.time, "perf_counter", lambda: next(clock))
    logged: list[str] = []
    monkeypatch.setattr(progress_module.log, "info", logged.append)
    with Progress(5_000, tty=False) as progress:
        progress.advance_posts(1134)  # no byte read reported yet
    assert logged == ["scored 1,134 posts, 0% of input read, 103 posts/s, ETA unknown"]
