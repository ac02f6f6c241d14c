"""A post id counts once: the first copy in input order wins, in a table and across tables."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from swarmlens.classifier.batch.dedup import FirstCopies, drop_later_copies, first_of_each_id


def _posts(ids: list[str]) -> pa.Table:
    return pa.table({"post_id": ids, "rank": list(range(len(ids)))})


def test_first_row_of_each_id_in_order() -> None:
    kept, dropped = first_of_each_id(_posts(["b", "a", "b", "c", "a"]))
    assert kept.column("post_id").to_pylist() == ["b", "a", "c"]
    assert kept.column("rank").to_pylist() == [0, 1, 3] and dropped == 2


def test_first_copies_across_tables() -> None:
    copies = FirstCopies()
    assert copies.keep(_posts(["a", "b", "a"])).column("post_id").to_pylist() == ["a", "b"]
    assert copies.keep(_posts(["b", "c", "c"])).column("post_id").to_pylist() == ["c"]
    assert copies.keep(_posts([])).num_rows == 0
    assert copies.dropped_ == 3 and copies.seen_ == {"a", "b", "c"}


@pytest.mark.parametrize("workers", [1, 3])
def test_later_chunks_lose_their_copies_on_disk(tmp_path: Path, workers: int) -> None:
    # Four chunk files over two days: the earliest chunk by name keeps each id; a file
    # left with no row goes; a second pass finds nothing (it is re-run after a crash).
    files = {
        "day=2015-11-14/part-00000-0000000.parquet": ["a", "b"],
        "day=2015-11-15/part-00000-0000000.parquet": ["c"],
        "day=2015-11-14/part-00000-0000001.parquet": ["b", "d", "c"],
        "day=2015-11-15/part-00001-0000000.parquet": ["a", "c"],
    }
    for relative, ids in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(_posts(ids), tmp_path / relative)
    assert drop_later_copies(tmp_path, workers) == 4
    left = {str(p.relative_to(tmp_path)): pq.read_table(p).column("post_id").to_pylist()
            for p in sorted(tmp_path.glob("day=*/*.parquet"))}
    assert left == {
        "day=2015-11-14/part-00000-0000000.parquet": ["a", "b"],
        "day=2015-11-14/part-00000-0000001.parquet": ["d"],
        "day=2015-11-15/part-00000-0000000.parquet": ["c"],
    }
    assert drop_later_copies(tmp_path, workers) == 0
