"""Label-error review: labels that look wrong, ranked, and a review view in Label Studio.

Confident learning (Northcutt, Jiang & Chuang 2021) with cleanlab: every labelled post is
scored by a ``StanceClassifier`` trained on the other folds (out-of-fold probabilities),
``cleanlab.filter.find_label_issues`` estimates how many labels are wrong from the
confident joint (per-class thresholds: the mean probability the model gives each class's
own posts) and flags that many, those of lowest label quality first (``filter_by=
"low_self_confidence"``: quality is the out-of-fold probability of the given label). On
the dev data with 10% flipped this list is more precise than cleanlab's default
``prune_by_noise_rate`` (0.65 vs 0.54 precision, 0.76 vs 0.84 recall, seeds 0-1).

The folds are stratified by label only, by default: unlike cross-validation, the question
here is "does this label agree with the rest of the labelled data?", and an author's other
posts are part of that evidence (on the 1,067 dev posts with 10% of labels flipped, group
folds find 45% of the flips in the top list, label folds 72%: ``bench/review.py``).
``group_folds`` keeps each author on one side, as ``train``'s cross-validation does.

Split votes from overlap (``annotate pull`` writes them to ``FILE.review.jsonl``) join the
same review: the fold models' mean probabilities give them a suggested label too.

``push_review`` imports the items as review tasks (``review: true``, the ``given`` label,
the ``reason`` in the task data; the model's suspected label as the pre-annotation) and
keeps a "Review" tab in the project that shows only them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from swarmlens.annotation.tasks import REVIEW_KEY, call, prediction, project_id
from swarmlens.classifier.errors import InputError, TrainingDataError
from swarmlens.classifier.fsio import atomic_write_text
from swarmlens.classifier.model.estimator import StanceClassifier
from swarmlens.classifier.model.splits import fold_splits, plan_folds
from swarmlens.classifier.model.training import LabelledData, load_labelled
from swarmlens.classifier.vocab import LABELS

REVIEW_VIEW = "Review"
"""The title of the project's tab that shows the review tasks only."""
FILTER = "low_self_confidence"
METHOD = f"confident learning (cleanlab.filter.find_label_issues, filter_by={FILTER})"


@dataclass
class ReviewItem:
    """One label to look at again.

    source: 'label-issue' (confident learning) or 'disagreement' (split votes).
    given: the label in the file (None for a split vote). suspected: the model's label.
    quality: out-of-fold probability of the given label (lower: more likely wrong);
        for a split vote, the probability of the suspected label is in ``probabilities``.
    """

    id: str
    given: str | None
    suspected: str
    quality: float | None
    reason: str
    source: str
    text: str
    lang: str | None = None
    probabilities: dict[str, float] = field(default_factory=dict)
    votes: list[list[str]] | None = None


@dataclass
class ReviewReport:
    examples: int
    folds: int
    split: str
    flagged: int
    disagreements: int
    items: list[ReviewItem]
    method: str = METHOD
    out: str | None = None
    pushed: int | None = None
    project: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- reading -------------------------------------------------------------------------------


def _first_record(path: Path) -> dict[str, Any] | None:
    import gzip

    opener = gzip.open if path.read_bytes()[:2] == b"\x1f\x8b" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                try:
                    record = json.loads(line)
                except ValueError:
                    return None
                return record if isinstance(record, dict) else None
    return None


def is_disagreement_file(path: str | Path) -> bool:
    """True for a file of split votes as ``annotate pull`` writes it (``FILE.review.jsonl``:
    ``post_id``, ``text``, ``reason``, ``annotations``, no ``label``)."""
    path = Path(path)
    if not path.is_file():
        return False
    record = _first_record(path)
    return record is not None and "annotations" in record and "label" not in record


def load_disagreements(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """Split-vote records (``post_id``, ``text``, ``reason``, ``annotations``)."""
    found: list[dict[str, Any]] = []
    for path in paths:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise InputError(f"{path}: {exc.strerror or exc}") from None
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise InputError(f"{path}, line {number}: not JSON") from None
            if not isinstance(record, dict) or "text" not in record:
                raise InputError(f"{path}, line {number}: a split vote needs 'post_id', 'text'")
            record.setdefault("post_id", record.get("id"))
            found.append(record)
    return found


# -- out-of-fold probabilities --------------------------------------------------------------


def out_of_fold_probabilities(
    data: LabelledData,
    folds: int = 5,
    seed: int = 0,
    group_folds: bool = False,
    extra_texts: Sequence[str] = (),
    params: dict[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray, str, int]:
    """Probabilities (columns in ``LABELS`` order) of each post from a model trained on the
    other folds, and the mean of the fold models' probabilities for ``extra_texts``.

    Returns (oof, extra, split scheme, folds used).
    """
    labels = np.asarray(data.labels, dtype=object)
    groups = data.groups if group_folds and data.has_groups else None
    plan = plan_folds(labels, groups, folds, seed)
    oof = np.zeros((len(labels), len(LABELS)))
    extra = np.zeros((len(extra_texts), len(LABELS)))
    texts = data.texts
    for train_idx, test_idx in fold_splits(labels, groups, plan=plan):
        fold_labels = [data.labels[i] for i in train_idx]
        if len(set(fold_labels)) < 2:
            raise TrainingDataError("a fold holds only one label: too few labelled posts")
        model = StanceClassifier(**(params or {}), random_state=seed).fit(
            [texts[i] for i in train_idx],
            fold_labels,
            groups=[data.groups[i] for i in train_idx] if groups else None,
        )
        columns = [LABELS.index(c) for c in model.classes_]
        oof[np.ix_(test_idx, columns)] = model.predict_proba([texts[i] for i in test_idx])
        if len(extra_texts):
            extra[:, columns] += model.predict_proba(list(extra_texts)) / plan.folds
    return oof, extra, plan.scheme, plan.folds


def label_issues(labels: Sequence[str], probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(indices of the labels cleanlab flags, most likely wrong first; quality of every label).

    Quality is the probability of the given label (cleanlab's ``self_confidence``)."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    present = [label for label in LABELS if label in set(labels)]
    columns = [LABELS.index(label) for label in present]
    given = np.array([present.index(label) for label in labels])
    probs = probabilities[:, columns]
    probs = probs / np.clip(probs.sum(axis=1, keepdims=True), 1e-12, None)
    ranked = find_label_issues(
        given, probs, filter_by=FILTER, return_indices_ranked_by="self_confidence"
    )
    quality = get_label_quality_scores(given, probs, method="self_confidence")
    return np.asarray(ranked, dtype=int), np.asarray(quality, dtype=float)


def _probs(row: np.ndarray) -> dict[str, float]:
    return {label: round(float(p), 4) for label, p in zip(LABELS, row, strict=True)}


def issue_reason(given: str, suspected: str, row: np.ndarray, scheme: str, folds: int) -> str:
    p_given, p_suspected = row[LABELS.index(given)], row[LABELS.index(suspected)]
    return (
        f"labelled {given}, but the model trained without it ({folds} {scheme} folds) says "
        f"{suspected} {p_suspected:.2f}, {given} {p_given:.2f}"
    )


def disagreement_reason(record: dict[str, Any], suspected: str, row: np.ndarray) -> str:
    votes = Counter(label for _, label in record.get("annotations") or [])
    split = ", ".join(f"{n} {label}" for label, n in votes.most_common()) or "no votes"
    why = record.get("reason") or "split vote"
    return (
        f"annotators disagree ({split}; {why}); the model suggests {suspected} "
        f"({row[LABELS.index(suspected)]:.2f})"
    )


# -- the review ----------------------------------------------------------------------------


def review(
    data_paths: Sequence[str | Path],
    disagreement_paths: Sequence[str | Path] = (),
    top: int | None = None,
    folds: int = 5,
    seed: int = 0,
    group_folds: bool = False,
    params: dict[str, Any] | None = None,
) -> ReviewReport:
    """Labels that look wrong in ``data_paths`` (ranked), then the split votes.

    A file in ``data_paths`` that holds split votes (``FILE.review.jsonl``) is read as
    one of ``disagreement_paths``. top: keep at most this many label issues (every split
    vote is kept).
    """
    labelled = [p for p in data_paths if not is_disagreement_file(p)]
    split_files = [*disagreement_paths, *(p for p in data_paths if is_disagreement_file(p))]
    split_votes = load_disagreements(split_files)
    if not labelled:
        raise InputError("give a labelled file (--data) to learn from")
    data = load_labelled(labelled)
    oof, extra, scheme, used = out_of_fold_probabilities(
        data, folds, seed, group_folds, [r["text"] for r in split_votes], params
    )
    ranked, quality = label_issues(data.labels, oof)
    items: list[ReviewItem] = []
    for i in ranked[: top if top is not None else len(ranked)]:
        given = data.labels[i]
        row = oof[i].copy()
        row[LABELS.index(given)] = -1.0
        suspected = LABELS[int(row.argmax())]
        items.append(
            ReviewItem(
                id=data.ids[i],
                given=given,
                suspected=suspected,
                quality=round(float(quality[i]), 4),
                reason=issue_reason(given, suspected, oof[i], scheme, used),
                source="label-issue",
                text=data.texts[i],
                lang=data.langs[i],
                probabilities=_probs(oof[i]),
            )
        )
    for record, row in zip(split_votes, extra, strict=True):
        suspected = LABELS[int(row.argmax())]
        items.append(
            ReviewItem(
                id=str(record["post_id"]),
                given=None,
                suspected=suspected,
                quality=None,
                reason=disagreement_reason(record, suspected, row),
                source="disagreement",
                text=record["text"],
                lang=record.get("lang"),
                probabilities=_probs(row),
                votes=[list(vote) for vote in record.get("annotations") or []],
            )
        )
    return ReviewReport(len(data), used, scheme, len(ranked), len(split_votes), items)


def write_review(path: Path, items: Sequence[ReviewItem]) -> None:
    """The review as JSON lines, in rank order (``rank`` from 1)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(
        path,
        "".join(
            json.dumps({"rank": rank, **asdict(item)}, ensure_ascii=False) + "\n"
            for rank, item in enumerate(items, start=1)
        ),
    )


# -- Label Studio --------------------------------------------------------------------------


def review_task(item: ReviewItem, model_version: str) -> dict[str, Any]:
    """A Label Studio task for one item: marked ``review``, the suspected label predicted."""
    votes = "; ".join(f"{who}: {label}" for who, label in item.votes or [])
    return {
        "data": {
            "text": item.text,
            "post_id": item.id,
            "lang": item.lang,
            REVIEW_KEY: True,
            "given": item.given or "",
            "suspected": item.suspected,
            "review_source": item.source,
            "reason": item.reason,
            "votes": votes,
        },
        "predictions": [
            prediction(item.suspected, item.probabilities.get(item.suspected, 0.0), model_version)
        ],
    }


def review_post_ids(ls: Any, pid: int) -> set[str]:
    """post_ids of the review tasks already in the project."""
    return {
        str(task.data["post_id"])
        for task in ls.tasks.list(project=pid, page_size=500, fields="all")
        if (task.data or {}).get(REVIEW_KEY) is True and "post_id" in task.data
    }


def _import_review(ls: Any, pid: int, tasks: dict[str, dict[str, Any]]) -> int:
    # Asks first, so a retried import whose answer was lost adds no duplicate (as
    # tasks.import_missing does for ordinary and audit tasks).
    present = review_post_ids(ls, pid)
    missing = [task for post_id, task in tasks.items() if post_id not in present]
    if missing:
        ls.projects.import_tasks(id=pid, request=missing, request_options={"max_retries": 0})
    return len(missing)


def review_filters() -> dict[str, Any]:
    return {
        "conjunction": "and",
        "items": [
            {
                "filter": f"filter:tasks:data.{REVIEW_KEY}",
                "operator": "equal",
                "type": "Boolean",
                "value": True,
            }
        ],
    }


def ensure_review_view(ls: Any, pid: int) -> int:
    """The project's "Review" tab (created once): only the review tasks."""
    for view in call(ls.views.list, project=pid):
        if ((view.data or {}).get("title") if isinstance(view.data, dict) else None) == REVIEW_VIEW:
            return view.id
    created = call(
        ls.views.create,
        project=pid,
        data={"title": REVIEW_VIEW, "filters": review_filters()},
    )
    return created.id


def push_review(
    ls: Any, name: str, items: Sequence[ReviewItem], model_version: str = "review"
) -> int:
    """Import the items as review tasks (each post once); returns how many were new."""
    pid = project_id(ls, name)
    tasks = {item.id: review_task(item, model_version) for item in items}
    imported = 0
    batch = list(tasks.items())
    for start in range(0, len(batch), 200):
        imported += call(_import_review, ls, pid, dict(batch[start : start + 200]))
    ensure_review_view(ls, pid)
    return imported
