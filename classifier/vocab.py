"""The project's vocabulary, declared once: stance labels, platforms, the scored-post schema.

Everything else derives from here: pydantic models (``Label`` is a ``StrEnum``), the
Arrow schema every writer uses, the DuckDB table the server stores posts in
(``duckdb_columns``), the CLI tables and the dashboard (which reads labels and
colours from ``GET /info``).
"""

from __future__ import annotations

from enum import StrEnum

import pyarrow as pa


class Label(StrEnum):
    """A stance label. Order matters: it is the column order of every score vector."""

    SUPPORTIVE = "supportive"
    OPPOSING = "opposing"
    NEUTRAL = "neutral"

    @property
    def colour(self) -> str:
        """Display colour (CSS hex) used by the dashboard and the CLI tables."""
        return LABEL_COLOURS[self]

    @property
    def description(self) -> str:
        """What annotators and readers should understand by this label."""
        return LABEL_DESCRIPTIONS[self]


LABELS: tuple[str, ...] = tuple(label.value for label in Label)
"""The labels as plain strings, in score-vector order."""

LABEL_COLOURS: dict[Label, str] = {
    Label.SUPPORTIVE: "#c0392b",
    Label.OPPOSING: "#2471a3",
    Label.NEUTRAL: "#7f8c8d",
}
LABEL_DESCRIPTIONS: dict[Label, str] = {
    Label.SUPPORTIVE: "endorses or spreads the group's message",
    Label.OPPOSING: "condemns, mocks, counters or floods the hashtag",
    Label.NEUTRAL: "news, questions, or anything taking no stance",
}

FLOOD_PAIR: tuple[Label, Label] = (Label.OPPOSING, Label.SUPPORTIVE)
"""flood_share = opposing / (supportive + opposing)."""

PLATFORMS: tuple[str, ...] = ("twitter", "telegram", "vkontakte", "other")

SCORES_TYPE = pa.struct([(label, pa.float32()) for label in LABELS])
OUTPUT_SCHEMA = pa.schema(
    [
        ("post_id", pa.string()),
        ("label", pa.string()),
        ("scores", SCORES_TYPE),
        ("model_version", pa.string()),
        ("lang", pa.string()),
        ("hashtags", pa.list_(pa.string())),
        ("domains", pa.list_(pa.string())),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("platform", pa.string()),
        ("author", pa.string()),
        ("retweet_of", pa.string()),
        # The network's data (``swarmlens network``): who retweeted whom, who replied,
        # which links (normalised) and handles a post carries.
        ("retweet_of_author", pa.string()),
        ("reply_to", pa.string()),
        ("urls", pa.list_(pa.string())),
        ("mentions", pa.list_(pa.string())),
        # Each of ``hashtags`` as first written in the post (no '#', case and letters kept),
        # what readers see; the key stays the identity. Older datasets lack it (NULL).
        ("hashtag_forms", pa.list_(pa.string())),
    ]
)
"""One scored post, as every output (JSONL, Parquet, the server's store) holds it."""


def _duckdb_type(kind: pa.DataType) -> str:
    if pa.types.is_string(kind):
        return "VARCHAR"
    if pa.types.is_float32(kind):
        return "FLOAT"
    if pa.types.is_float64(kind):
        return "DOUBLE"
    if pa.types.is_int64(kind):
        return "BIGINT"
    if pa.types.is_boolean(kind):
        return "BOOLEAN"
    if pa.types.is_timestamp(kind):
        return "TIMESTAMPTZ" if kind.tz else "TIMESTAMP"
    if pa.types.is_list(kind):
        return _duckdb_type(kind.value_type) + "[]"
    if pa.types.is_struct(kind):
        fields = ", ".join(f"{f.name} {_duckdb_type(f.type)}" for f in kind)
        return f"STRUCT({fields})"
    raise TypeError(f"no DuckDB type for Arrow type {kind}")


def duckdb_columns(schema: pa.Schema = OUTPUT_SCHEMA, primary_key: str | None = None) -> str:
    """The column list of a DuckDB ``CREATE TABLE`` for ``schema``."""
    columns = []
    for column in schema:
        extra = " PRIMARY KEY" if column.name == primary_key else ""
        columns.append(f"{column.name} {_duckdb_type(column.type)}{extra}")
    return ", ".join(columns)
