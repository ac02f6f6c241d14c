"""Shape recognition: the per-record decision and the columnar lane's row routing agree."""

from __future__ import annotations

import io
import json

import pyarrow.json as pa_json
from hypothesis import given, settings
from hypothesis import strategies as st

from swarmlens.classifier.posts.shapes import (
    MARKER_KEYS,
    PER_RECORD_KEYS,
    flat_rows,
    record_format,
)

KEYS = sorted({*PER_RECORD_KEYS, "id", "post_id", "text", "from_id", "date", "entities"})
VALUES = st.one_of(
    st.none(), st.integers(-5, 5), st.text(max_size=3),
    st.lists(st.integers(0, 3), max_size=2),
    st.fixed_dictionaries({"items": st.lists(st.integers(0, 3), max_size=2)}),
)
RECORDS = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=6)


@settings(max_examples=300, deadline=None)
@given(RECORDS)
def test_every_api_shape_holds_one_of_its_markers(record: dict) -> None:
    kind = record_format(record)
    if kind != "flat":
        assert any(record.get(key) is not None for key in MARKER_KEYS[kind]), (kind, record)


@settings(max_examples=200, deadline=None)
@given(st.lists(RECORDS, min_size=1, max_size=8))
def test_columnar_lane_only_takes_flat_records(records: list[dict]) -> None:
    # Values typed per key, so that Arrow parses the lines as one table.
    typed = [{key: (None if value is None else json.dumps(value)) for key, value in r.items()}
             for r in records]
    data = "".join(json.dumps(r) + "\n" for r in typed).encode()
    table = pa_json.read_json(io.BytesIO(data))
    for record, is_flat in zip(typed, flat_rows(table), strict=True):
        if is_flat:
            assert record_format(record) == "flat"
            assert all(record.get(key) is None for key in PER_RECORD_KEYS)


def test_vk_item_and_its_flat_lookalike() -> None:
    item = {"id": 1164, "owner_id": 1563369, "from_id": 1563369, "date": 1447452000, "text": ""}
    assert record_format(item) == "vkontakte"
    assert record_format({**item, "post_id": "x"}) == "flat"
    assert record_format({**item, "owner_id": None}) == "flat"  # null counts as absent
    assert record_format({"data": {"id": "1", "text": "t"}}) == "twitter_v2_page"  # stream line
