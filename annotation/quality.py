"""Per-annotator quality: gold accuracy, agreement with the others, speed, flags, and
resolution weighted by quality (Dawid-Skene).

- ``gold_accuracy``: the share of gold tasks (known answers kept in swarmlens's store) the
  annotator got right, with a 95% Wilson score interval (scipy's ``binomtest``; right at
  small counts, never outside [0, 1]).
- ``agreement``: Cohen's kappa (scikit-learn's) between the annotator's labels and the
  majority label of the *other* annotators, on the tasks the annotator shares with at
  least one other (tasks where the others tie are left out). Kappa is symmetric between
  two annotators, so with three annotators of whom one answers at random it cannot tell
  the other two apart (each agrees with the random one 1/3 of the time, whatever its
  accuracy): it flags the careless one, gold and the Dawid-Skene estimate rank the careful ones.
- ``ds_accuracy``: the annotator's accuracy as Dawid-Skene estimates it, sum over labels of
  prior(label) x P(annotator says label | true label).
- ``median_seconds``: median of Label Studio's ``lead_time`` over the annotator's labels.
- ``flags``: gold accuracy surely below a threshold (the upper end of its interval under
  it), near-constant labels, much faster than peers, agreement near chance.

Dawid-Skene (Dawid & Skene 1979) is a short EM here rather than a dependency (crowd-kit,
the well-kept library, requires transformers and nltk): each annotator has a confusion
matrix, each task a posterior over the true label; gold tasks have their posterior fixed
to the known answer (semi-supervised), which anchors the confusion matrices. A small
pseudo-count (0.1 per cell) keeps rare cells away from zero. Initialised from vote shares.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

import numpy as np
from scipy.stats import binomtest, norm
from sklearn.metrics import cohen_kappa_score

from swarmlens.annotation.agreement import AnnotatedTask, Resolution
from swarmlens.classifier.vocab import LABELS

Z95 = 1.959963984540054
METHOD = "Dawid-Skene EM (own implementation), gold answers clamped"


@dataclass
class Thresholds:
    """When an annotator is flagged.

    min_gold_accuracy: flag when the 95% interval's upper end is below this (needs
        ``min_gold_n`` gold tasks).
    max_top_share: flag when one label is more than this share of the annotator's labels
        (needs ``min_labels``).
    speed_ratio: flag when the median seconds are under this fraction of the peers'
        median (needs ``min_labels`` labels with a lead time).
    min_kappa: flag when agreement is under this (needs ``min_shared`` shared tasks). Not
        0.2: a careful annotator paired half the time with a random one has kappa ~0.33
        +- 0.11 against the others, so 0.2 flagged 10-13% of careful annotators in
        simulation, 0.1 flags 1-3% and still 85% of random ones (gold catches the rest).
    """

    min_gold_accuracy: float = 0.7
    min_gold_n: int = 5
    max_top_share: float = 0.9
    min_labels: int = 10
    speed_ratio: float = 0.5
    min_kappa: float = 0.1
    min_shared: int = 10


def wilson(correct: int, n: int, z: float = Z95) -> list[float] | None:
    """Wilson score interval of a proportion (None without observations), from scipy's
    ``binomtest``; ``z`` sets the level (1.96: 95%)."""
    if n <= 0:
        return None
    level = 2 * float(norm.cdf(z)) - 1
    ci = binomtest(correct, n).proportion_ci(confidence_level=level, method="wilson")
    return [max(0.0, float(ci.low)), min(1.0, float(ci.high))]


def kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two label sequences, scikit-learn's (None when undefined: fewer
    than two pairs, or chance agreement of one; 1.0 for perfect agreement on one label)."""
    if len(a) < 2:
        return None
    # Both sides constant on the same label: sklearn divides 0 by 0 (nan and a warning).
    if len(set(a) | set(b)) == 1:
        return 1.0
    value = float(cohen_kappa_score(a, b, labels=list(LABELS)))
    return None if math.isnan(value) else value


def majority_of_others(task: AnnotatedTask, annotator: str) -> str | None:
    """The most common label among the task's other annotators (None if none or a tie)."""
    votes = Counter(label for who, label in task.annotations if who != annotator).most_common()
    if not votes or (len(votes) > 1 and votes[0][1] == votes[1][1]):
        return None
    return votes[0][0]


# -- Dawid-Skene -----------------------------------------------------------------------------


@dataclass
class DawidSkene:
    """Fitted model: ``posteriors[i]`` is aligned with the tasks given (LABELS order)."""

    annotators: list[str]
    priors: np.ndarray
    confusion: dict[str, np.ndarray]
    posteriors: np.ndarray
    iterations: int

    def accuracy(self, annotator: str) -> float:
        return float(np.sum(self.priors * np.diag(self.confusion[annotator])))

    def posterior(self, task: AnnotatedTask) -> np.ndarray:
        """P(true label | the task's votes) under the fitted model (an unknown annotator's
        vote counts for nothing)."""
        log_post = np.log(self.priors).copy()
        for who, label in task.annotations:
            if who in self.confusion and label in LABELS:
                log_post += np.log(self.confusion[who][:, LABELS.index(label)])
        post = np.exp(log_post - log_post.max())
        return post / post.sum()


def dawid_skene(
    tasks: Sequence[AnnotatedTask],
    gold: Mapping[str, str] | None = None,
    max_iter: int = 200,
    tol: float = 1e-7,
    smoothing: float = 0.1,
) -> DawidSkene:
    """Fit Dawid-Skene by EM on the tasks' votes; gold tasks' true labels are fixed."""
    gold = gold or {}
    k = len(LABELS)
    code = {label: i for i, label in enumerate(LABELS)}
    annotators = sorted({who for t in tasks for who, _ in t.annotations})
    where = {who: j for j, who in enumerate(annotators)}
    rows = [
        (i, where[who], code[label]) for i, t in enumerate(tasks) for who, label in t.annotations
    ]
    task_ix = np.array([r[0] for r in rows], dtype=int)
    ann_ix = np.array([r[1] for r in rows], dtype=int)
    lab_ix = np.array([r[2] for r in rows], dtype=int)
    n = len(tasks)
    fixed = np.zeros(n, dtype=bool)
    clamp = np.zeros((n, k))
    for i, task in enumerate(tasks):
        answer = gold.get(task.post_id)
        if answer in code:
            fixed[i] = True
            clamp[i, code[answer]] = 1.0
    # Start from vote shares (uniform for a task without votes), gold as known.
    post = np.full((n, k), smoothing)
    np.add.at(post, (task_ix, lab_ix), 1.0)
    post /= post.sum(axis=1, keepdims=True)
    post[fixed] = clamp[fixed]
    m = len(annotators)
    confusion = np.full((m, k, k), 1.0 / k)
    priors = np.full(k, 1.0 / k)
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        # M-step: priors and each annotator's confusion (true x given), smoothed.
        priors = (post.sum(axis=0) + smoothing) / (n + k * smoothing)
        counts = np.full((m, k, k), smoothing)
        np.add.at(counts, (ann_ix, slice(None), lab_ix), post[task_ix])
        confusion = counts / counts.sum(axis=2, keepdims=True)
        # E-step: posterior of each task's true label given its votes.
        log_post = np.tile(np.log(priors), (n, 1))
        np.add.at(log_post, task_ix, np.log(confusion[ann_ix, :, lab_ix]))
        log_post -= log_post.max(axis=1, keepdims=True)
        new = np.exp(log_post)
        new /= new.sum(axis=1, keepdims=True)
        new[fixed] = clamp[fixed]
        change = float(np.abs(new - post).max()) if n else 0.0
        post = new
        if change < tol:
            break
    return DawidSkene(
        annotators,
        priors,
        {who: confusion[j] for j, who in enumerate(annotators)},
        post,
        iterations,
    )


def resolve_weighted(tasks: Sequence[AnnotatedTask], model: DawidSkene) -> Resolution:
    """Each annotated task resolved to its most probable label under Dawid-Skene; a split
    vote is resolved too (quality breaks ties) and also listed for review, with the
    posterior probability of the label chosen."""
    resolved: list[tuple[AnnotatedTask, str]] = []
    review: list[tuple[AnnotatedTask, str]] = []
    for task in tasks:
        if not task.annotations:
            continue
        posterior = model.posterior(task)
        label = LABELS[int(np.argmax(posterior))]
        resolved.append((task, label))
        votes = Counter(lab for _, lab in task.annotations).most_common()
        if len(votes) > 1:
            split = ", ".join(f"{lab} {count}" for lab, count in votes)
            review.append(
                (
                    task,
                    f"disagreement resolved by Dawid-Skene ({label}, p="
                    f"{posterior.max():.2f}): {split}",
                )
            )
    return Resolution(resolved, review)


# -- per-annotator figures ---------------------------------------------------------------------


@dataclass
class _Tally:
    labels: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    gold_n: int = 0
    gold_correct: int = 0
    mine: list[str] = field(default_factory=list)
    others: list[str] = field(default_factory=list)


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def annotator_quality(
    tasks: Sequence[AnnotatedTask],
    gold: Mapping[str, str] | None = None,
    model: DawidSkene | None = None,
    thresholds: Thresholds | None = None,
) -> dict[str, dict[str, Any]]:
    """Figures and flags per annotator over ``tasks`` (gold tasks included)."""
    gold = gold or {}
    limits = thresholds or Thresholds()
    tallies: dict[str, _Tally] = {}
    for task in tasks:
        answer = gold.get(task.post_id)
        for who, label in task.annotations:
            tally = tallies.setdefault(who, _Tally())
            tally.labels.append(label)
            seconds = task.seconds.get(who)
            if seconds is not None:
                tally.seconds.append(seconds)
            if answer is not None:
                tally.gold_n += 1
                tally.gold_correct += int(label == answer)
            others = majority_of_others(task, who)
            if others is not None:
                tally.mine.append(label)
                tally.others.append(others)
    medians = {who: median(t.seconds) if t.seconds else None for who, t in tallies.items()}
    figures: dict[str, dict[str, Any]] = {}
    for who in sorted(tallies):
        tally = tallies[who]
        interval = wilson(tally.gold_correct, tally.gold_n)
        accuracy = tally.gold_correct / tally.gold_n if tally.gold_n else None
        agreement = kappa(tally.mine, tally.others)
        top_label, top_count = Counter(tally.labels).most_common(1)[0]
        peers = [s for other, s in medians.items() if other != who and s is not None]
        row: dict[str, Any] = {
            "n": len(tally.labels),
            "gold_n": tally.gold_n,
            "gold_correct": tally.gold_correct,
            "gold_accuracy": _round(accuracy),
            "gold_interval": None if interval is None else [_round(v) for v in interval],
            "agreement": _round(agreement),
            "agreement_n": len(tally.mine),
            "ds_accuracy": _round(model.accuracy(who))
            if model and who in model.confusion
            else None,
            "median_seconds": _round(medians[who], 2),
            "top_label": top_label,
            "top_label_share": _round(top_count / len(tally.labels)),
            "flags": [],
        }
        flags: list[str] = row["flags"]
        if (
            interval is not None
            and tally.gold_n >= limits.min_gold_n
            and (interval[1] < limits.min_gold_accuracy)
        ):
            flags.append(
                f"gold accuracy {accuracy:.2f} on {tally.gold_n}, surely below "
                f"{limits.min_gold_accuracy:.2f} (95% interval up to {interval[1]:.2f})"
            )
        if len(tally.labels) >= limits.min_labels and top_count / len(tally.labels) > (
            limits.max_top_share
        ):
            flags.append(
                f"near-constant labels: {top_label} on {top_count / len(tally.labels):.0%}"
            )
        mine = medians[who]
        if mine is not None and peers and len(tally.seconds) >= limits.min_labels:
            typical = median(peers)
            if mine < limits.speed_ratio * typical:
                flags.append(f"much faster than peers: median {mine:.1f} s vs {typical:.1f} s")
        if (
            agreement is not None
            and len(tally.mine) >= limits.min_shared
            and (agreement < limits.min_kappa)
        ):
            flags.append(
                f"agreement near chance: kappa {agreement:.2f} with the others' majority "
                f"on {len(tally.mine)} shared tasks"
            )
        figures[who] = row
    return figures
