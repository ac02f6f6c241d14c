"""Audit samples: a random sample of one hashtag's posts, labelled without hints.

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

Designs: ``uniform`` (the default: every post equally likely, nothing more recorded) or
``active`` (inclusion probabilities grow with the model's uncertainty, Zrnic & Candes
2024), optionally stratified (proportional allocation, each stratum sampled on its own) by
language or by the label the model predicted for the post when it was scored: the model's
errors differ by predicted label, so strata on it remove that part of the spread
(``bench/estimates.py``: active within predicted labels is the narrowest design). Any
design but plain uniform records each post's inclusion probability (``audit_probability``)
and stratum (``audit_stratum``) in its task data and in the audit file, and ``swarmlens
estimate`` weights by them (``classifier.analytics.estimate``). Samples of a fixed size are
drawn by systematic sampling in random order, which includes each post with exactly its
probability.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

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


DESIGNS = ("uniform", "active")
STRATA = ("lang", "label")
"""What ``--stratify`` accepts: the post's language, or the label the model predicted."""
UNIFORM_SHARE = 0.2
"""Share of an active design's probability spread evenly over all posts: every post keeps a
chance of at least 0.2 n / N, which bounds the weights (at most 5x the uniform's)."""


def uncertainty(scores: np.ndarray) -> np.ndarray:
    """sqrt(1 - sum_k f_k^2): the expected error norm of calibrated probabilities, the
    optimal sampling rule of active inference for a mean (Zrnic & Candes 2024, sec. 3)."""
    return np.sqrt(np.clip(1.0 - np.sum(np.square(scores), axis=1), 0.0, None))


def active_probabilities(
    need: np.ndarray, n: int, uniform_share: float = UNIFORM_SHARE
) -> np.ndarray:
    """Inclusion probabilities summing to n, proportional to ``need`` mixed with uniform,
    capped at one (the excess goes to the others)."""
    size = len(need)
    n = min(n, size)
    share = need / need.sum() if need.sum() > 0 else np.full(size, 1.0 / size)
    p = (1 - uniform_share) * share + uniform_share / size
    pi = n * p
    capped = np.zeros(size, dtype=bool)
    while np.any(pi > 1 + 1e-12):
        capped |= pi >= 1
        rest = n - capped.sum()
        pi = np.where(capped, 1.0, rest * p / p[~capped].sum())
    return np.minimum(pi, 1.0)


def allocate(strata: list[str], n: int) -> dict[str, int]:
    """Proportional allocation of n posts over strata (largest remainders)."""
    sizes: dict[str, int] = {}
    for stratum in strata:
        sizes[stratum] = sizes.get(stratum, 0) + 1
    n = min(n, len(strata))
    exact = {h: n * size / len(strata) for h, size in sizes.items()}
    counts = {h: int(x) for h, x in exact.items()}
    for h in sorted(exact, key=lambda h: (counts[h] - exact[h], h))[: n - sum(counts.values())]:
        counts[h] += 1
    return counts


def systematic(pi: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rows drawn by systematic sampling in random order: row i is chosen with probability
    pi[i] exactly (pi sums to an integer m; m distinct rows)."""
    order = rng.permutation(len(pi))
    cumulative = np.cumsum(pi[order])
    m = round(float(cumulative[-1]))
    if m == 0:
        return np.zeros(0, dtype=int)
    cumulative *= m / cumulative[-1]
    points = rng.uniform() + np.arange(m)
    return order[np.searchsorted(cumulative, points, side="right")]


def design_sample(
    scores: np.ndarray, n: int, seed: int, design: str, strata: list[str] | None = None
) -> tuple[list[int], list[float]]:
    """(sorted rows, their inclusion probabilities) of a seeded sample of about n rows."""
    if design not in DESIGNS:
        raise AuditError(f"design {design!r} is not one of {', '.join(DESIGNS)}")
    rng = np.random.default_rng(seed)
    groups = strata if strata is not None else [""] * len(scores)
    counts = allocate(groups, n)
    where: dict[str, list[int]] = {}
    for row, stratum in enumerate(groups):
        where.setdefault(stratum, []).append(row)
    chosen: dict[int, float] = {}
    for stratum in sorted(where):
        rows = np.array(where[stratum])
        if design == "active":
            pi = active_probabilities(uncertainty(scores[rows]), counts[stratum])
        else:
            pi = np.full(len(rows), counts[stratum] / len(rows))
        for i in systematic(pi, rng):
            chosen[int(rows[i])] = float(pi[i])
    ordered = sorted(chosen)
    return ordered, [chosen[row] for row in ordered]


@dataclass
class AuditSample:
    audit_id: str
    hashtag: str
    start: str | None
    end: str | None
    seed: int
    population: int
    post_ids: list[str]
    design: str = "uniform"
    stratify: str | None = None
    probabilities: list[float] | None = None
    """Per sampled post (None: the plain uniform design)."""
    strata: list[str] | None = None

    def frame(self) -> dict[str, Any]:
        """What task data records about the audit."""
        frame = {
            AUDIT_KEY: self.audit_id,
            "audit_hashtag": self.hashtag,
            "audit_start": self.start,
            "audit_end": self.end,
            "audit_seed": self.seed,
            "audit_population": self.population,
        }
        if self.probabilities is not None:
            frame["audit_design"] = self.design + (f"/{self.stratify}" if self.stratify else "")
        return frame

    def post_design(self, index: int) -> dict[str, Any]:
        """What one sampled post's task data records about how it was drawn."""
        if self.probabilities is None:
            return {}
        return {
            "audit_probability": round(self.probabilities[index], 12),
            "audit_stratum": self.strata[index] if self.strata else None,
        }


def draw(
    dataset: Sequence[Path],
    hashtag: str,
    start: datetime | None,
    end: datetime | None,
    n: int,
    seed: int,
    design: str = "uniform",
    stratify: str | None = None,
) -> AuditSample:
    """A seeded sample (without replacement) of the hashtag's posts in the window: uniform
    (today's draw, nothing recorded per post), or ``design``/``stratify`` with each post's
    inclusion probability."""
    if stratify is not None and stratify not in STRATA:
        raise AuditError(f"--stratify {stratify!r}: only {', '.join(STRATA)}")
    for path in dataset:
        if not Path(path).exists():
            raise AuditError(f"dataset {path} does not exist")
    source = datasets.parquet_source(dataset)
    population = queries.hashtag_posts(source, hashtag, start, end)
    ids: list[str] = population["post_id"]
    key = population["hashtag"]
    if not ids:
        raise AuditError(f"no post with #{key or hashtag} in this window of {dataset[0]}")
    probabilities = strata = None
    if design == "uniform" and stratify is None:
        rows = sample_rows(len(ids), n, seed)
    else:
        groups = (
            _langs(source, key, start, end, ids) if stratify == "lang"
            else [str(x) for x in population["label"]] if stratify == "label" else None
        )
        scores = np.asarray(population["scores"], dtype=float)
        rows, probabilities = design_sample(scores, n, seed, design, groups)
        strata = [groups[i] for i in rows] if groups else None
    chosen = [ids[i] for i in rows]
    frame = [key, format_time(start) or "", format_time(end) or "", str(seed), str(len(ids))]
    if probabilities is not None:
        frame.append(f"{design}/{stratify or ''}")
    digest = hashlib.sha256("\x1f".join([*frame, *chosen]).encode()).hexdigest()
    return AuditSample(
        audit_id=f"audit-{key}-{digest[:10]}",
        hashtag=key,
        start=format_time(start),
        end=format_time(end),
        seed=seed,
        population=len(ids),
        post_ids=chosen,
        design=design,
        stratify=stratify,
        probabilities=probabilities,
        strata=strata,
    )


def _langs(
    source: str, key: str, start: datetime | None, end: datetime | None, ids: list[str]
) -> list[str]:
    """Each population post's language (as scored), in the order of ``ids``."""
    where, params = queries.hashtag_window(key, start, end)
    rows = (
        queries.connect()
        .execute(
            f"""SELECT post_id, coalesce(lang, 'und') FROM {source} WHERE {" AND ".join(where)}
        QUALIFY row_number() OVER (PARTITION BY post_id ORDER BY created_at) = 1""",
            params,
        )
        .fetchall()
    )
    found = dict(rows)
    return [str(found.get(post_id) or "und") for post_id in ids]


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
    design: str = "uniform"
    stratify: str | None = None
    out: str | None = None


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
    design: str = "uniform",
    stratify: str | None = None,
    out: Path | None = None,
) -> AuditPushReport:
    """Import a sample of the hashtag's posts as audit tasks, without predictions.

    A post already in the project as a training task gets an audit task of its own: the
    sample stays as drawn. inputs: where the texts are (default: the dataset's inputs).
    out: write the sample to this JSONL file instead (``label`` null, to fill in elsewhere;
    ``swarmlens estimate --audit`` reads it back); ``ls`` is then not used.
    """
    sample = draw(dataset, hashtag, start, end, n, seed, design, stratify)
    posts = sample_posts(sample, list(inputs) or dataset_inputs(dataset))
    pid = imported = 0
    if out is not None:
        write_sample(sample, posts, out)
    else:
        pid = project_id(ls, name)
        for first in range(0, len(posts), PUSH_BATCH):
            batch = {
                post.post_id: {
                    "data": {**task_data(post), **sample.frame(), **sample.post_design(i)}
                }
                for i, post in enumerate(posts[first : first + PUSH_BATCH], start=first)
            }
            imported += call(import_missing, ls, pid, batch, sample.audit_id)
    report = AuditPushReport(
        pid,
        sample.audit_id,
        sample.hashtag,
        sample.start,
        sample.end,
        seed,
        sample.population,
        len(posts),
        imported,
        0 if out is not None else len(posts) - imported,
    )
    report.design, report.stratify = design, stratify
    report.out = None if out is None else str(out)
    return report


def write_sample(sample: AuditSample, posts: Sequence[Post], out: Path) -> None:
    """The sample as audit-file lines with ``label`` null (and the text to label)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as lines:
        for i, post in enumerate(posts):
            data = {**task_data(post), **sample.frame(), **sample.post_design(i)}
            record = _record(post.post_id, None, data, [])
            record["text"] = post.text
            record["lang"] = post.lang
            lines.write(json.dumps(record, ensure_ascii=False) + "\n")


def audit_records(resolved: Sequence[tuple[Any, str]]) -> list[dict[str, Any]]:
    """Audit file lines: the training file's ``id`` and ``label``, plus the audit's frame."""
    records = []
    ordered = sorted(resolved, key=lambda item: (item[0].data[AUDIT_KEY], item[0].post_id))
    for task, label in ordered:
        records.append(
            _record(task.post_id, label, task.data, [who for who, _ in task.annotations])
        )
    return records


def _record(
    post_id: str, label: str | None, data: dict[str, Any], annotators: list[Any]
) -> dict[str, Any]:
    record = {
        "id": post_id,
        "label": label,
        "audit": data[AUDIT_KEY],
        "hashtag": data.get("audit_hashtag"),
        "start": data.get("audit_start"),
        "end": data.get("audit_end"),
        "annotators": annotators,
    }
    if data.get("audit_probability") is not None:
        record["probability"] = data["audit_probability"]
        record["stratum"] = data.get("audit_stratum")
        record["design"] = data.get("audit_design")
    return record
