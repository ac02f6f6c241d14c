"""Posts: the ``Post`` model and reading posts from archives.

Reading flows one way: ``sources`` (files to raw records; files opened by ``opening``,
JSONL cut by ``blocks``, JSON documents streamed by ``documents`` with ``jsondoc``'s
bounded depth) -> ``shapes`` (which shape
each record has, decided once) -> ``columnar`` (flat JSON lines, validated column by
column) or the adapters ``twitter`` / ``telegram`` / ``vkontakte`` (raw record to flat
record) and ``post.post_from_record`` (its validation) -> ``Post`` rows of an Arrow
table; ``readers`` wires the per-record stages and ``rejects`` holds what could not
become a post. The names below are the package's public API.
"""

from swarmlens.classifier.posts.post import (
    MAX_TEXT_CHARS,
    Post,
    format_time,
    normalize_label,
    parse_time,
    post_from_record,
)
from swarmlens.classifier.posts.readers import (
    SUPPORTED_SUFFIXES,
    Payload,
    ReadPosition,
    ReadStats,
    Rejected,
    RejectsFile,
    TelegramMessage,
    decode,
    expand_inputs,
    format_of,
    iter_raw,
    iter_source,
    open_binary,
    read_posts,
    record_format,
    record_to_posts,
    telegram_record,
    telegram_text,
    twitter_v1_record,
    twitter_v2_record,
)

__all__ = [
    "MAX_TEXT_CHARS",
    "SUPPORTED_SUFFIXES",
    "Payload",
    "Post",
    "ReadPosition",
    "ReadStats",
    "Rejected",
    "RejectsFile",
    "TelegramMessage",
    "decode",
    "expand_inputs",
    "format_of",
    "format_time",
    "iter_raw",
    "iter_source",
    "normalize_label",
    "open_binary",
    "parse_time",
    "post_from_record",
    "read_posts",
    "record_format",
    "record_to_posts",
    "telegram_record",
    "telegram_text",
    "twitter_v1_record",
    "twitter_v2_record",
]
