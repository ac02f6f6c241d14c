"""A post id counts once: the first copy in input order wins, in a table and across tables."""

from __future__ import annotations

import pyarrow as pa

from swarmlens.classifier.batch.dedup import FirstCopies, first_of_each_id


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
