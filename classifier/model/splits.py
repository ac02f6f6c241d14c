"""The one place that decides how labelled posts are split into folds.

Random splits put one account's posts on both sides of a split and overstate F1 (the
model learns account style). So whenever every example has a group (author or thread)
and there are enough groups, folds keep each group whole (``StratifiedGroupKFold``);
otherwise they are stratified by label only. The model's calibration, ``train``'s
cross-validation and the benchmarks all split through ``fold_splits``.
"""

from __future__ import annotations

import warnings
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


def transfer_fold_splits(
    labels: Sequence[object],
    sources: Sequence[object],
    groups: Sequence[object],
    folds: int = 5,
    seed: int = 0,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Group folds stratified on (source, label): each test fold holds each source's label
    mix, and an author's / thread's posts never sit on both sides.

    Why: when every source carries only one or two labels, plain label-stratified group
    folds let a fold's test side be mostly one source, and a model that learned which
    source says what scores well. Holding each source's mix in every fold asks what a
    test on other accounts of the same sources asks: tell the labels apart within a source.
    A (source, label) pair with fewer posts than folds cannot reach every fold; scikit-learn
    then warns, and that warning is silenced here (those posts still land in some fold).
    """
    if not (len(labels) == len(sources) == len(groups)):
        raise ValueError("labels, sources and groups need one entry per post")
    strata = np.array([f"{s}\x1f{y}" for s, y in zip(sources, labels, strict=True)], dtype=object)
    splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The least populated class", UserWarning)
        return list(splitter.split(np.zeros(len(strata)), strata, np.asarray(groups, dtype=object)))


def source_holdouts(
    labels: Sequence[object], sources: Sequence[object], min_labels: int
) -> list[tuple[object, tuple[np.ndarray, np.ndarray]]]:
    """Leave-one-source-out splits, for the sources with at least ``min_labels`` distinct
    labels whose every label also occurs in the other sources: (source, (train, test)).

    A source holding a single label tests only whether the model guesses that label for a
    source it never saw (a source's label share, not stance); with ``min_labels`` = every
    label, the held-out source is a test of stance within a source the model never saw.
    """
    target = np.asarray(labels, dtype=object)
    origin = np.asarray(sources, dtype=object)
    out = []
    for source in sorted(set(origin.tolist()), key=str):
        test = origin == source
        mine = set(target[test].tolist())
        if len(mine) >= min_labels and mine <= set(target[~test].tolist()):
            out.append((source, (np.flatnonzero(~test), np.flatnonzero(test))))
    return out
