"""The one place that decides how labelled posts are split into folds.

Random splits put one account's posts on both sides of a split and overstate F1 (the
model learns account style). So whenever every example has a group (author or thread)
and there are enough groups, folds keep each group whole (``StratifiedGroupKFold``);
otherwise they are stratified by label only. The model's calibration, ``train``'s
cross-validation and the benchmarks all split through ``fold_splits``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold


@dataclass(frozen=True)
class FoldPlan:
    """How a data set is split: ``scheme`` is 'group' or 'stratified'."""

    folds: int
    scheme: str
    seed: int


def _has_groups(groups: Sequence[object] | None) -> bool:
    return groups is not None and len(groups) > 0 and all(g is not None for g in groups)


def plan_folds(
    labels: Sequence[object], groups: Sequence[object] | None = None, folds: int = 5, seed: int = 0
) -> FoldPlan:
    """Choose the fold scheme for ``labels`` (and ``groups``, when every example has one).

    folds: the number wanted; fewer when the rarest label has fewer examples (at least 2).
    """
    counts = np.unique(np.asarray(labels, dtype=object), return_counts=True)[1]
    folds = max(2, min(folds, int(counts.min()) if len(counts) else 2))
    if _has_groups(groups) and len(set(groups or ())) >= folds:
        return FoldPlan(folds, "group", seed)
    return FoldPlan(folds, "stratified", seed)


def fold_splits(
    labels: Sequence[object],
    groups: Sequence[object] | None = None,
    folds: int = 5,
    seed: int = 0,
    plan: FoldPlan | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(train indices, test indices) of each fold, per ``plan_folds`` (or the given plan)."""
    plan = plan or plan_folds(labels, groups, folds, seed)
    target = np.asarray(labels, dtype=object)
    placeholder = np.zeros(len(target))
    if plan.scheme == "group":
        splitter = StratifiedGroupKFold(plan.folds, shuffle=True, random_state=plan.seed)
        yield from splitter.split(placeholder, target, np.asarray(groups, dtype=object))
    else:
        splitter2 = StratifiedKFold(plan.folds, shuffle=True, random_state=plan.seed)
        yield from splitter2.split(placeholder, target)
