"""Audit samples: a uniform random sample of one hashtag's posts, labelled without hints.

An audit measures the model's error on the hashtag itself, which is what corrects its
volumes (``swarmlens estimate``). Three things keep it valid:

- the sample is uniform over exactly the population the estimate covers: the posts of
  the scored dataset using the hashtag in [start, end), selected by the same SQL
  (``queries.hashtag_posts``), drawn with a recorded seed;
- annotators see no pre-annotation (they would be anchored on the model being audited),
  and the ML backend and ``retrain`` skip audit tasks too;
- audit posts stay out of training by default (a model trained on them would bias its
  own audit).

Audit tasks carry ``audit`` (the audit id) and the frame (``audit_hashtag``,
``audit_start``, ``audit_end``, ``audit_seed``, ``audit_population``) in their data. The
audit id is derived from the frame, the seed and the sample, so re-running the same push
imports nothing twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from swarmlens.annotation.tasks import (
    AUDIT_KEY,
    PUSH_BATCH,
    call,
    import_missing,
    project_id,
    task_data,
)
from swarmlens.classifier.analytics import datasets, queries
from swarmlens.classifier.analytics.estimate import sample_rows
from swarmlens.classifier.errors import AuditError
from swarmlens.classifier.posts.post import Post, format_time
from swarmlens.classifier.posts.readers import read_posts

"""Task data key marking an audit task (its value is the audit id)."""


def is_audit(data: dict[str, Any] | None) -> bool:
    return bool((data or {}).get(AUDIT_KEY))


@dataclass
class AuditSample:
    audit_id: str
    hashtag: str
    start: str | None
    end: str | None
    seed: int
    population: int
    post_ids: list[str]

    def frame(self) -> dict[str, Any]:
        """What task data records about the audit."""
        return {
            AUDIT_KEY: self.audit_id,
            "audit_hashtag": self.hashtag,
            "audit_start": self.start,
            "audit_end": self.end,
            "audit_seed": self.seed,
            "audit_population": self.population,
        }


def draw(
    dataset: Sequence[Path],
    hashtag: str,
    start: datetime | None,
    end: datetime | None,
    n: int,
    seed: int,
) -> AuditSample:
    """A seeded uniform sample (without replacement) of the hashtag's posts in the window."""
    for path in dataset:
        if not Path(path).exists():
            raise AuditError(f"dataset {path} does not exist")
    population = queries.hashtag_posts(datasets.parquet_source(dataset), hashtag, start, end)
    ids: list[str] = population["post_id"]
    key = population["hashtag"]
    if not ids:
        raise AuditError(f"no post with #{key or hashtag} in this window of {dataset[0]}")
    rows = sample_rows(len(ids), n, seed)
    chosen = [ids[i] for i in rows]
    frame = [key, format_time(start) or "", format_time(end) or "", str(seed), str(len(ids))]
    digest = hashlib.sha256("\x1f".join([*frame, *chosen]).encode()).hexdigest()
    return AuditSample(
        audit_id=f"audit-{key}-{digest[:10]}",
        hashtag=key,
        start=format_time(start),
        end=format_time(end),
        seed=seed,
        population=len(ids),
        post_ids=chosen,
    )


def dataset_inputs(dataset: Sequence[Path]) -> list[str]:
    """The inputs a scored dataset was made from (its ``_summary.json``), for the texts."""
    found: list[str] = []
    for path in dataset:
        summary = Path(path) / "_summary.json"
        if summary.is_file():
            found += [item["path"] for item in json.loads(summary.read_text()).get("inputs", [])]
    return found


def sample_posts(sample: AuditSample, inputs: Sequence[str | Path]) -> list[Post]:
    """The sampled posts with their texts (a scored dataset holds no text), in sample order."""
    if not inputs:
        raise AuditError(
            "no input to read the posts' texts from: pass the archive that was scored "
            "(swarmlens annotate push ARCHIVE --strategy audit --dataset DIR ...)"
        )
    wanted = set(sample.post_ids)
    found: dict[str, Post] = {}
    for post in read_posts(inputs):
        if post.post_id in wanted:
            found.setdefault(post.post_id, post)
    missing = [post_id for post_id in sample.post_ids if post_id not in found]
    if missing:
        raise AuditError(
            f"sampled post {missing[0]!r} is not in the inputs ({len(missing)} missing): "
            "pass the archive the dataset was scored from"
        )
    return [found[post_id] for post_id in sample.post_ids]


@dataclass
class AuditPushReport:
    project_id: int
    audit_id: str
    hashtag: str
    start: str | None
    end: str | None
    seed: int
    population: int
    chosen: int
    imported: int
    already_in_audit: int
    strategy: str = "audit"


def push_audit(
    ls: Any,
    name: str,
    dataset: Sequence[Path],
    hashtag: str,
    start: datetime | None,
    end: datetime | None,
    n: int,
    seed: int = 0,
    inputs: Sequence[str | Path] = (),
) -> AuditPushReport:
    """Import a uniform sample of the hashtag's posts as audit tasks, without predictions.

    A post already in the project as a training task gets an audit task of its own: the
    sample stays uniform. inputs: where the texts are (default: the dataset's inputs).
    """
    pid = project_id(ls, name)
    sample = draw(dataset, hashtag, start, end, n, seed)
    posts = sample_posts(sample, list(inputs) or dataset_inputs(dataset))
    imported = 0
    for first in range(0, len(posts), PUSH_BATCH):
        batch = {
            post.post_id: {"data": {**task_data(post), **sample.frame()}}
            for post in posts[first : first + PUSH_BATCH]
        }
        imported += call(import_missing, ls, pid, batch, sample.audit_id)
    return AuditPushReport(
        pid,
        sample.audit_id,
        sample.hashtag,
        sample.start,
        sample.end,
        seed,
        sample.population,
        len(posts),
        imported,
        len(posts) - imported,
    )


def audit_records(resolved: Sequence[tuple[Any, str]]) -> list[dict[str, Any]]:
    """Audit file lines: the training file's ``id`` and ``label``, plus the audit's frame."""
    records = []
    ordered = sorted(resolved, key=lambda item: (item[0].data[AUDIT_KEY], item[0].post_id))
    for task, label in ordered:
        data = task.data
        records.append(
            {
                "id": task.post_id,
                "label": label,
                "audit": data[AUDIT_KEY],
                "hashtag": data.get("audit_hashtag"),
                "start": data.get("audit_start"),
                "end": data.get("audit_end"),
                "annotators": [who for who, _ in task.annotations],
            }
        )
    return records
