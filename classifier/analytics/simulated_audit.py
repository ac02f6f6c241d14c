"""A simulated audit of the demo corpus: the demo's own labels on a uniform sample.

The demo corpus is synthetic and knows every post's stance, so an "audit" of it costs
nothing: the same seeded uniform sample an annotation audit would draw, labelled from the
corpus. Every record says ``"simulated": true``; a real audit comes from annotators
(``swarmlens annotate push --strategy audit``).

Because the corpus knows every stance, the file also carries the TRUE shares of the whole
audited population (``truth``, itself marked ``"simulated": true``): what neither
classify-and-count nor an audit can know of real posts, and what shows which of the two is
nearer. ``demo_figures`` puts the three side by side for ``swarmlens demo``.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from swarmlens.classifier.analytics import datasets, queries
from swarmlens.classifier.analytics.estimate import (
    estimate_report,
    match_audit,
    read_audit,
    sample_rows,
)
from swarmlens.classifier.fsio import atomic_write_text
from swarmlens.classifier.vocab import FLOOD_PAIR, LABELS

AUDIT_SIZE = 100
"""Posts in the demo's simulated audit (what a first audit by people would label)."""


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


def true_shares(labels: list[str]) -> dict[str, Any]:
    """The true label shares of a population (synthetic labels) and its flood share.

    labels: the true label of every post of the population.
    """
    counts = Counter(labels)
    n = len(labels)
    counter, message = FLOOD_PAIR
    stance = counts[counter] + counts[message]
    return {
        "simulated": True,
        "note": "true shares of the synthetic demo corpus (unknowable for real posts)",
        "posts": n,
        "shares": {label: round(counts[label] / n, 4) if n else None for label in LABELS},
        "flood_share": round(counts[counter] / stance, 4) if stance else None,
    }


def write_simulated_audit(
    archive: Path, scored: Path, hashtag: str, out: Path, n: int = AUDIT_SIZE, seed: int = 0
) -> dict[str, Any]:
    """Sample ``n`` of the hashtag's scored posts and write their demo labels as an audit.

    Every line also carries ``truth``: the true shares of all the hashtag's posts (see
    ``true_shares``), so whoever reads the audit (the dashboard, through the server) can
    show them, marked simulated.
    """
    population = queries.hashtag_posts(datasets.parquet_source([scored]), hashtag)
    ids = population["post_id"]
    truth = demo_labels(archive)
    chosen = [ids[i] for i in sample_rows(len(ids), n, seed)]
    audit_id = f"simulated-demo-{population['hashtag']}-seed{seed}"
    shares = true_shares([truth[post_id] for post_id in ids])
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
                    "truth": shares,
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
        "truth": shares,
    }


def demo_figures(scored: Path, audit: dict[str, Any]) -> dict[str, Any]:
    """Classify-and-count, the audited estimate (95% interval) and the truth of the flood
    share of the audited hashtag: the demo's point, in one dict.

    scored: the scored demo dataset. audit: what ``write_simulated_audit`` returned.
    """
    population = queries.hashtag_posts(datasets.parquet_source([scored]), audit["hashtag"])
    key = population["hashtag"]
    rows = match_audit(population["post_id"], read_audit(Path(audit["path"])), key)
    report = estimate_report(
        key, None, None, population["scores"], population["label"], rows, None
    )
    flood = report["flood_share"]
    truth = audit["truth"]["flood_share"]
    return {
        "hashtag": key,
        "posts": report["posts"],
        "audited": report["audited"],
        "flood_share": {
            "classify_and_count": flood["count_based"],
            "audited_estimate": flood["estimate"],
            "low": flood["low"],
            "high": flood["high"],
            "truth": truth,
            "truth_is_simulated": True,
        },
        "labels": {
            label: {
                "classify_and_count": report["labels"][label]["share"],
                "audited_estimate": report["labels"][label]["estimate"],
                "low": report["labels"][label]["low"],
                "high": report["labels"][label]["high"],
                "truth": audit["truth"]["shares"][label],
            }
            for label in LABELS
        },
    }
