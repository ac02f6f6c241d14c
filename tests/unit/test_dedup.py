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


def test_a_pass_over_the_head_chunks_then_the_rest_drops_what_one_pass_drops(
    tmp_path: Path,
) -> None:
    # The job passes over its complete head chunks while the last are scored, then over
    # the rest: a chunk's rows depend on the chunks before it only.
    chunks = {"00000-0000000": ["a", "b"], "00000-0000001": ["b", "c"],
              "00000-0000002": ["c", "a", "d"], "00000-0000003": ["d", "e", "b"]}
    for root in (tmp_path / "one", tmp_path / "two"):
        for chunk, ids in chunks.items():
            (root / "day=2015-11-14").mkdir(parents=True, exist_ok=True)
            pq.write_table(_posts(ids), root / "day=2015-11-14" / f"part-{chunk}.parquet")
    # a chunk still being scored (its file not yet there) is not read by the head pass
    head = {"00000-0000000", "00000-0000001"}
    late = tmp_path / "two" / "day=2015-11-14" / "part-00000-0000003.parquet"
    late.rename(late.with_suffix(".later"))
    assert drop_later_copies(tmp_path / "two", 2, head) == 1
    late.with_suffix(".later").rename(late)
    assert drop_later_copies(tmp_path / "two", 2, set(chunks) - head) == 4
    assert drop_later_copies(tmp_path / "one") == 5

    def left(root: Path) -> dict[str, list[str]]:
        return {p.name: pq.read_table(p).column("post_id").to_pylist()
                for p in sorted(root.glob("day=*/*.parquet"))}

    assert left(tmp_path / "two") == left(tmp_path / "one") == {
        "part-00000-0000000.parquet": ["a", "b"], "part-00000-0000001.parquet": ["c"],
        "part-00000-0000002.parquet": ["d"], "part-00000-0000003.parquet": ["e"]}
