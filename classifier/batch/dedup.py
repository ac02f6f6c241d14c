"""Which copy of a post id counts: the first in input order, whatever path brought it in.

Every writer of scored posts asks this module, so the rule lives once:

- ``first_of_each_id``: within one table of posts (a batch, a chunk);
- ``FirstCopies``: across the batches a single process writes in order (``score`` to a
  ``.jsonl`` or ``.parquet`` file), holding the ids it has let through;
- ``drop_later_copies``: across the chunks of an archive job on disk, once every chunk is
  done (chunks are scored in parallel, so only then is "first" known: the chunk that
  comes first in input order keeps the row).

The server's store applies the same rule in SQL (``serve/store.py``: the copy stored first
wins), since its copies arrive by request and by attached dataset.
"""

from __future__ import annotations

from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from swarmlens.classifier.fsio import atomic_parquet


def first_of_each_id(posts: pa.Table) -> tuple[pa.Table, int]:
    """(``posts`` keeping the first row of each post_id, rows dropped)."""
    if posts.num_rows == 0:
        return posts, 0
    codes = pc.dictionary_encode(posts.column("post_id").combine_chunks()).indices
    _, first = np.unique(codes.to_numpy(zero_copy_only=False), return_index=True)
    if len(first) == posts.num_rows:
        return posts, 0
    first.sort()
    return posts.take(pa.array(first)), posts.num_rows - len(first)


class FirstCopies:
    """The first copy of each post id over a stream of tables, in the order given.

    Attributes: seen_ (the ids let through so far), dropped_ (rows dropped so far).
    """

    def __init__(self) -> None:
        self.seen_: set[str] = set()
        self.dropped_ = 0

    def keep(self, posts: pa.Table) -> pa.Table:
        """``posts`` without the rows whose id came before, here or in an earlier table."""
        posts, dropped = first_of_each_id(posts)
        ids = posts.column("post_id").to_pylist()
        fresh = [post_id not in self.seen_ for post_id in ids]
        if not all(fresh):
            posts = posts.filter(pa.array(fresh))
            dropped += len(fresh) - posts.num_rows
        self.seen_.update(ids)
        self.dropped_ += dropped
        return posts


def drop_later_copies(
    root: Path, workers: int = 2, targets: Collection[str] | None = None
) -> int:
    """Drop the rows of an archive job's output whose post_id an earlier chunk holds;
    returns the rows dropped.

    root: the job's output directory (``day=*/part-<chunk>.parquet``). Idempotent and
    deterministic: the earliest chunk (by name, i.e. input order) keeps the row, so an
    interrupted pass finishes identically when re-run. workers: files rewritten at once.
    targets: the chunks whose rows may be dropped (None: all). A chunk's rows depend on
    the chunks before it only, so the complete chunks at the head of a job can be passed
    over while its last chunks are still being scored: only the files of chunks up to
    the last target are read.
    """
    parts = sorted(root.glob("day=*/part-*.parquet"))
    if targets is not None:
        last = max(targets, default="")
        parts = [part for part in parts if chunk_of(part) <= last]
    if not parts:
        return 0
    import duckdb

    # Bounded memory: DuckDB spills to disk rather than grow with the archive.
    con = duckdb.connect(
        config={
            "memory_limit": "128MB",
            "threads": 2,
            "preserve_insertion_order": False,
            "temp_directory": str(root / "_tmp"),
        }
    )
    listing = ", ".join("'" + str(p).replace("'", "''") + "'" for p in parts)
    rows = con.execute(
        f"""
        WITH ids AS (
            SELECT post_id, filename,
                   regexp_extract(filename, 'part-([0-9-]+)\\.parquet$', 1) AS chunk
            FROM read_parquet([{listing}], filename = true, hive_partitioning = false)
        ), firsts AS (SELECT post_id, min(chunk) AS keep FROM ids GROUP BY post_id
                      HAVING count(*) > 1)
        SELECT ids.filename, list(ids.post_id)
        FROM ids JOIN firsts USING (post_id)
        WHERE ids.chunk <> firsts.keep
        GROUP BY ids.filename
        """
    ).fetchall()
    if targets is not None:
        rows = [(name, ids) for name, ids in rows if chunk_of(Path(name)) in targets]
    # Each file is read, filtered and written again by its own task: Parquet reading,
    # compression and fsync release the GIL, so the rewrites overlap (about half the
    # pass on 2 cores, where the pass runs while every scoring thread is idle).
    with ThreadPoolExecutor(max(1, workers)) as pool:
        return sum(pool.map(lambda row: _rewrite_without(Path(row[0]), row[1]), rows))


def chunk_of(part: Path) -> str:
    """The chunk that wrote ``part`` (``day=.../part-<chunk>.parquet``)."""
    return part.name[len("part-"):-len(".parquet")]


def _rewrite_without(path: Path, ids: list[str]) -> int:
    """Rewrite the Parquet file ``path`` without the rows whose post_id is in ``ids``
    (the file goes when no row is left); returns the rows dropped."""
    # ParquetFile reads the one file directly (read_table goes through the datasets
    # layer: four times slower on these files).
    table = pq.ParquetFile(path).read()
    keep = pc.invert(pc.is_in(table.column("post_id"), value_set=pa.array(ids, pa.string())))
    kept = table.filter(keep)
    if kept.num_rows:
        atomic_parquet(path, kept)
    else:
        path.unlink()
    return table.num_rows - kept.num_rows
