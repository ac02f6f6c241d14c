"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by the schemathesis test).

The schema alone makes schemathesis try ordinary dates and short texts. These hooks add
what issue 11 found breaking servers: times at the ends of the calendar (with offsets that
push them past year 1 or 9999) and texts far over the length cap, with many distinct words.
"""

from __future__ import annotations

import copy
from typing import Any

import schemathesis
from hypothesis import strategies as st

EXTREME_TIMES = [
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00",
    "9999-12-31T23:00:00-14:00",
    "9999-12-31T23:59:59Z",
    "1969-12-31T23:59:59Z",
    "2100-01-01T00:00:00Z",
    "2015-11-13T21:00:00+05:30",
]
schemathesis.openapi.format(
    "date-time",
    st.one_of(
        st.sampled_from(EXTREME_TIMES),
        st.datetimes().map(lambda moment: moment.isoformat() + "Z"),
    ),
)

# 150,000 characters of distinct words in two scripts: over the 100,000-character cap.
HUGE_TEXT = " ".join(f"w{i} باريس{i}" for i in range(12_000))[:150_000]


def _grow(value: Any) -> Any:
    """``value`` with every 'text' string and every item of a 'texts' list made huge."""
    if isinstance(value, dict):
        return {
            key: HUGE_TEXT if key == "text" and isinstance(item, str)
            else [HUGE_TEXT if isinstance(t, str) else t for t in item]
            if key == "texts" and isinstance(item, list)
            else _grow(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_grow(item) for item in value]
    return value


@schemathesis.hook
def flatmap_body(ctx: Any, body: Any) -> Any:
    return st.booleans().map(lambda huge: _grow(copy.deepcopy(body)) if huge else body)
