"""A deterministic generator of a SYNTHETIC, multilingual demo corpus (November 2015).

Everything this module produces is invented: every record carries
``"synthetic": True``, every author handle starts with ``demo_``, every URL
path, short-link token and news domain (``*.example``) is made up. It exists
so the default stance classifier, the README demo, the tests and the
benchmarks have labelled data without shipping real extremist content.

The corpus imitates the shape of what happened online after the attacks in
Paris on 2015-11-13 (about 21:00 UTC):

* ``supportive`` - supporters of the so-called Islamic State launch hashtags
  such as #ParisIsBurning, #باريس_تشتعل or #الدولة_الإسلامية_تضرب_فرنسا within
  hours; a burst that decays over the following days. Their text is limited
  to short slogans of the kind quoted in press reports ("Paris is burning",
  "remaining and expanding", praise and gloating). It contains no
  instructions, no calls to violence and no threats against anyone.
* ``opposing`` - from a few hours later, peaking the next day, opponents flood
  those same hashtags with condemnation, mockery, counter-speech, solidarity
  and unrelated content (cat pictures, jokes, recipes), so most of the later
  volume of the supporters' hashtags is opposing.
* ``neutral`` - news accounts post factual, casualty-free headlines over the
  whole period (and a little background news before it).

Languages: ar, en, fr, ru in large numbers plus de, tr, es, fa, id, it.
Platforms: Twitter (retweets, replies, mentions, t.co links, spelling variants
of the same hashtag) and Telegram (longer channel posts with t.me links).
Hashtag variants deliberately exercise canonicalisation: case, underscores,
Arabic tatweel, diacritics, alef forms, ى/ي, ة/ه, Persian ی/ک, Turkish ı.

Generation streams in time order: the number of posts per 10-minute bin is
fixed in advance from the intensity curves, and each bin's timestamps are
drawn and sorted on their own, so memory does not grow with ``n_posts``.

This module holds the public API (``generate_demo``, ``write_demo_jsonl`` and
the platform exports re-exported from ``exports``). The word banks are JSON
package data (``banks/``, loaded by ``wordbanks``); the scenario numbers are in
``scenario``, authors in ``accounts``, texts in ``texts`` and the stream in
``stream``.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Mapping
from json.encoder import encode_basestring as _json_string
from pathlib import Path
from typing import IO, Any

from swarmlens.classifier.demo.exports import (
    to_telegram_export,
    to_twitter_v1,
    to_twitter_v2_page,
)
from swarmlens.classifier.demo.stream import records

__all__ = [
    "DEMO_SEED",
    "DEMO_SIZE",
    "TRAIN_SEED",
    "TRAIN_SIZE",
    "generate_demo",
    "generate_training",
    "to_telegram_export",
    "to_twitter_v1",
    "to_twitter_v2_page",
    "write_demo_jsonl",
]

DEMO_SEED: int = 2015
DEMO_SIZE: int = 6000
TRAIN_SEED: int = 1113
"""Seed of the default model's training corpus (``generate_training``), not the demo's."""
TRAIN_SIZE: int = 6000


def generate_demo(n_posts: int = DEMO_SIZE, seed: int = DEMO_SEED) -> Iterator[dict[str, Any]]:
    """Yields n_posts records, sorted by created_at, deterministic for (n_posts, seed).

    n_posts: number of records to produce (>= 0); the timeline is the same for
        any size, so a larger corpus is denser, not longer.
    seed: seed of the private ``random.Random``; the same pair always yields
        the same records.
    Records are flat dicts: id, platform, author, group, text, lang, created_at
    (ISO 8601 UTC with 'Z'), label, retweet_of, reply_to, synthetic (always True).
    """
    if n_posts < 0:
        raise ValueError(f"n_posts must be >= 0, got {n_posts}")
    return records(n_posts, seed)


def generate_training(
    n_posts: int = TRAIN_SIZE, seed: int = TRAIN_SEED
) -> Iterator[dict[str, Any]]:
    """The default model's SYNTHETIC training corpus: records as ``generate_demo`` gives.

    Another run than the demo's (its own seed), by other accounts ('demo_tr_' handles,
    'demo-t' groups, 'demo-tr-' post ids), with clear-cut texts only: no counter-speech
    quoting a slogan, no news repeating one, less flooding of the supporters' tags. The
    demo corpus holds those confusable posts, so the default model meets them unseen and
    its classify-and-count on the demo is biased as it would be on real posts.
    """
    if n_posts < 0:
        raise ValueError(f"n_posts must be >= 0, got {n_posts}")
    return records(n_posts, seed, training=True)


def write_demo_jsonl(path: str | Path, n_posts: int = DEMO_SIZE, seed: int = DEMO_SEED) -> Path:
    """Write the demo corpus as JSON lines and return the path written.

    path: output file; a name ending in '.gz' is gzip-compressed. Parent
        directories are created.
    n_posts: number of records (see ``generate_demo``).
    seed: generation seed (see ``generate_demo``).
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with _open_text(out) as handle:
        batch: list[str] = []
        for record in generate_demo(n_posts, seed):
            batch.append(_jsonl_line(record))
            if len(batch) >= 4096:
                batch.append("")
                handle.write("\n".join(batch))
                batch = []
        if batch:
            batch.append("")
            handle.write("\n".join(batch))
    return out


def _open_text(path: Path) -> IO[str]:
    """Open ``path`` for writing UTF-8 text, gzip-compressed when it ends in '.gz'.

    path: the output file.
    """
    if path.suffix == ".gz":
        # Level 6 is several times faster than the default 9 for a few percent in size.
        return gzip.open(path, "wt", encoding="utf-8", compresslevel=6)
    return path.open("w", encoding="utf-8")


def _jsonl_line(record: Mapping[str, Any]) -> str:
    """One record as compact JSON, three times faster than ``json.dumps``.

    record: a record from ``generate_demo``. Only the text (and, defensively,
    the author) can hold characters that need escaping; the other fields are
    generated ASCII identifiers, codes and timestamps.
    """
    retweet_of = record["retweet_of"]
    reply_to = record["reply_to"]
    return (
        f'{{"id":"{record["id"]}","platform":"{record["platform"]}",'
        f'"author":{_json_string(record["author"])},"group":"{record["group"]}",'
        f'"text":{_json_string(record["text"])},"lang":"{record["lang"]}",'
        f'"created_at":"{record["created_at"]}","label":"{record["label"]}",'
        f'"retweet_of":{"null" if retweet_of is None else json.dumps(retweet_of)},'
        f'"reply_to":{"null" if reply_to is None else json.dumps(reply_to)},"synthetic":true}}'
    )
