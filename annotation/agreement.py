"""Resolving multiply-annotated tasks and measuring how much annotators agree.

Figures: Krippendorff's alpha (nominal) over all labels and per label (each
label against the rest), Cohen's kappa for every pair of annotators on the
tasks both labelled, and how many tasks have 1, 2 or 3+ annotations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import krippendorff
import numpy as np
from sklearn.metrics import cohen_kappa_score

from swarmlens.classifier.vocab import LABELS


@dataclass
class AnnotatedTask:
    """One task and its annotations: (annotator, label) pairs, one per annotator;
    ``seconds``: Label Studio's lead time of each annotator's label, where known."""

    post_id: str
    text: str
    annotations: list[tuple[str, str]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    task_id: int | None = None


@dataclass
class Resolution:
    """Tasks resolved to one label, and tasks a reviewer must look at (with why)."""

    resolved: list[tuple[AnnotatedTask, str]]
    review: list[tuple[AnnotatedTask, str]]


def resolve(tasks: Sequence[AnnotatedTask]) -> Resolution:
    """Majority vote per task.

    A strict majority resolves the task (a split vote such as 2-1 is resolved
    and also listed for review as a disagreement); a tie is not resolved and
    goes to review. Tasks without annotations are skipped.
    """
    resolved: list[tuple[AnnotatedTask, str]] = []
    review: list[tuple[AnnotatedTask, str]] = []
    for task in tasks:
        if not task.annotations:
            continue
        votes = Counter(label for _, label in task.annotations).most_common()
        if len(votes) > 1 and votes[0][1] == votes[1][1]:
            tied = ", ".join(f"{label} {n}" for label, n in votes)
            review.append((task, f"tie: {tied}"))
            continue
        resolved.append((task, votes[0][0]))
        if len(votes) > 1:
            split = ", ".join(f"{label} {n}" for label, n in votes)
            review.append((task, f"disagreement resolved by majority: {split}"))
    return Resolution(resolved, review)


def _matrix(tasks: Sequence[AnnotatedTask], annotators: list[str]) -> np.ndarray:
    """annotators x units matrix of label codes, NaN where an annotator did not label."""
    code = {label: i for i, label in enumerate(LABELS)}
    where = {name: i for i, name in enumerate(annotators)}
    data = np.full((len(annotators), len(tasks)), np.nan)
    for j, task in enumerate(tasks):
        for annotator, label in task.annotations:
            data[where[annotator], j] = code[label]
    return data


def _alpha(data: np.ndarray) -> float | None:
    pairable = (~np.isnan(data)).sum(axis=0) >= 2
    data = data[:, pairable]
    values = data[~np.isnan(data)]
    if data.shape[1] == 0 or len(np.unique(values)) < 2:
        return None  # undefined: no overlap, or a single value everywhere
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def agreement(tasks: Sequence[AnnotatedTask]) -> dict[str, Any]:
    """Agreement figures as a JSON-ready dict (None where a figure is undefined)."""
    annotators = sorted({a for task in tasks for a, _ in task.annotations})
    counts = Counter(min(len(t.annotations), 3) for t in tasks)
    figures: dict[str, Any] = {
        "tasks": len(tasks),
        "annotations": sum(len(t.annotations) for t in tasks),
        "tasks_by_annotations": {"0": counts[0], "1": counts[1], "2": counts[2], "3+": counts[3]},
        "annotators": annotators,
        "alpha": None,
        "alpha_per_label": {label: None for label in LABELS},
        "kappa_pairs": [],
    }
    if not annotators:
        return figures
    data = _matrix(tasks, annotators)
    figures["alpha"] = _alpha(data)
    for i, label in enumerate(LABELS):
        binary = np.where(np.isnan(data), np.nan, (data == i).astype(float))
        figures["alpha_per_label"][label] = _alpha(binary)
    for a, b in combinations(range(len(annotators)), 2):
        both = ~np.isnan(data[a]) & ~np.isnan(data[b])
        shared = int(both.sum())
        kappa = None
        if shared >= 2:
            x, y = data[a, both], data[b, both]
            if len(np.unique(np.concatenate([x, y]))) > 1:
                kappa = float(cohen_kappa_score(x, y))
            elif (x == y).all():
                kappa = 1.0
        figures["kappa_pairs"].append(
            {"annotators": [annotators[a], annotators[b]], "shared_tasks": shared, "kappa": kappa}
        )
    return figures
