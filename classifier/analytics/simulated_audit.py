"""A simulated audit of the demo corpus: the demo's own labels on a uniform sample.

The demo corpus is synthetic and knows every post's stance, so an "audit" of it costs
nothing: the same seeded uniform sample an annotation audit would draw, labelled from the
corpus. Every record says ``"simulated": true``; a real audit comes from annotators
(``swarmlens annotate push --strategy audit``).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import orjson

from swarmlens.classifier.analytics import datasets, queries
from swarmlens.classifier.analytics.estimate import sample_rows
from swarmlens.classifier.fsio import atomic_write_text


def demo_labels(archive: Path) -> dict[str, str]:
    """post id -> true label of the demo corpus (plain or gzip JSONL)."""
    with archive.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    labels: dict[str, str] = {}
    with opener(archive, "rb") as lines:
        for line in lines:
            if line.strip():
                record = orjson.loads(line)
                labels[str(record["id"])] = record["label"]
    return labels


def write_simulated_audit(
    archive: Path, scored: Path, hashtag: str, out: Path, n: int = 100, seed: int = 0
) -> dict[str, object]:
    """Sample ``n`` of the hashtag's scored posts and write their demo labels as an audit."""
    population = queries.hashtag_posts(datasets.parquet_source([scored]), hashtag)
    ids = population["post_id"]
    truth = demo_labels(archive)
    chosen = [ids[i] for i in sample_rows(len(ids), n, seed)]
    audit_id = f"simulated-demo-{population['hashtag']}-seed{seed}"
    atomic_write_text(
        out,
        "".join(
            json.dumps(
                {
                    "id": post_id,
                    "label": truth[post_id],
                    "audit": audit_id,
                    "hashtag": population["hashtag"],
                    "start": None,
                    "end": None,
                    "simulated": True,
                },
                ensure_ascii=False,
            )
            + "\n"
            for post_id in chosen
        ),
    )
    return {
        "audit": audit_id,
        "hashtag": population["hashtag"],
        "audited": len(chosen),
        "posts": len(ids),
        "path": str(out),
    }
