"""The annotation loop against a real Label Studio: push, pull, status, retrain.

Every call to Label Studio goes through ``call``, which retries with
exponential backoff when the server is down or answers 5xx/429. Pushing is
idempotent by ``post_id``: before each batch is imported the project is asked
which of its posts it already holds, so a re-run after a failure (even one
where an import reached the server but its answer was lost) adds no duplicate.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from swarmlens.annotation import audit
from swarmlens.annotation.agreement import AnnotatedTask, agreement, resolve
from swarmlens.annotation.project import ensure_project, label_of
from swarmlens.annotation.tasks import (
    PUSH_BATCH,
    REVIEW_KEY,
    call,
    import_missing,
    prediction,
    project_id,
    task_data,
    task_post_ids,
)
from swarmlens.classifier.errors import AnnotationError
from swarmlens.classifier.fsio import atomic_write_text
from swarmlens.classifier.model import registry
from swarmlens.classifier.posts.post import Post
from swarmlens.classifier.posts.readers import read_posts
from swarmlens.classifier.vocab import LABELS

log = logging.getLogger(__name__)


def setup(ls: Any, name: str) -> dict[str, Any]:
    result = call(ensure_project, ls, name)
    return {"project_id": result.project_id, "created": result.created, "changed": result.changed}


@dataclass
class PushReport:
    project_id: int
    candidates: int
    already_in_project: int
    chosen: int
    imported: int
    model_version: str
    strategy: str
    task_ids: list[int] = field(default_factory=list)


def push(
    ls: Any,
    name: str,
    inputs: Iterable[str | Path],
    n: int,
    strategy: str,
    model: Any,
    model_version: str,
    seed: int = 0,
) -> PushReport:
    """Choose ``n`` posts not yet in the project and import them with pre-annotations."""
    from swarmlens.annotation.sampling import select

    pid = project_id(ls, name)
    present = call(task_post_ids, ls, pid)
    pool: dict[str, Post] = {}
    total = 0
    for post in read_posts(inputs):
        total += 1
        if post.post_id not in present:
            pool.setdefault(post.post_id, post)
    candidates = list(pool.values())
    chosen = [candidates[i] for i in select(candidates, n, strategy, model=model, seed=seed)]
    proba = model.predict_proba([p.text for p in chosen]) if chosen else np.zeros((0, 3))
    classes = [str(c) for c in model.classes_]
    imported = 0
    for start in range(0, len(chosen), PUSH_BATCH):
        batch = chosen[start : start + PUSH_BATCH]
        rows = proba[start : start + PUSH_BATCH]
        tasks = {
            post.post_id: {
                "data": task_data(post),
                "predictions": [prediction(classes[int(row.argmax())], row.max(), model_version)],
            }
            for post, row in zip(batch, rows, strict=True)
        }
        imported += call(import_missing, ls, pid, tasks)
    if imported:
        # Label Studio accepts a project model_version only once predictions carry it.
        call(ls.projects.update, id=pid, model_version=model_version)
    return PushReport(
        pid,
        len(candidates),
        total - len(candidates),
        len(chosen),
        imported,
        model_version,
        strategy,
    )


# -- pull -------------------------------------------------------------------------------


def export_tasks(ls: Any, pid: int) -> list[dict[str, Any]]:
    """Every task of the project with its annotations (Label Studio's JSON export)."""

    def download() -> list[dict[str, Any]]:
        chunks = ls.projects.exports.download_sync(
            id=pid, export_type="JSON", download_all_tasks=True
        )
        return json.loads(b"".join(chunks))

    return call(download)


def annotator_names(ls: Any) -> dict[int, str]:
    def collect() -> dict[int, str]:
        return {u.id: (u.email or u.username or str(u.id)) for u in ls.users.list()}

    return call(collect)


def to_annotated(tasks: Sequence[dict[str, Any]], names: dict[int, str]) -> list[AnnotatedTask]:
    """AnnotatedTask per exported task; one (annotator, label) per annotator, latest kept."""
    out = []
    for task in tasks:
        data = task.get("data") or {}
        votes: dict[str, str] = {}
        for annotation in sorted(task.get("annotations") or [], key=lambda a: a.get("id", 0)):
            if annotation.get("was_cancelled"):
                continue
            label = label_of(annotation.get("result"))
            if label is None:
                continue
            who = annotation.get("completed_by")
            if isinstance(who, dict):
                who = who.get("email") or who.get("id")
            votes[names.get(who, str(who)) if isinstance(who, int) else str(who)] = label
        out.append(
            AnnotatedTask(
                post_id=str(data.get("post_id", task.get("id"))),
                text=str(data.get("text", "")),
                annotations=sorted(votes.items()),
                data=data,
            )
        )
    return out


@dataclass
class PullReport:
    project_id: int
    out: str
    version: str
    fingerprint: str
    examples: int
    review: int
    review_file: str | None
    agreement: dict[str, Any]
    label_counts: dict[str, int]
    audited: int = 0
    audit_file: str | None = None
    audit_review: int = 0


def pull(
    ls: Any, name: str, out: Path, audit_out: Path | None = None, include_audits: bool = False
) -> PullReport:
    """Export, resolve by majority, write the training file (+ meta and review list).

    Audit tasks go to their own file (``audit_out``, default ``<out stem>.audit.jsonl``);
    their posts stay out of the training file unless ``include_audits``.
    """
    pid = project_id(ls, name)
    everything = to_annotated(export_tasks(ls, pid), annotator_names(ls))
    audits = [t for t in everything if audit.is_audit(t.data)]
    audited_ids = {t.post_id for t in audits}
    tasks = [
        t
        for t in everything
        if not audit.is_audit(t.data) and (include_audits or t.post_id not in audited_ids)
    ]
    # A review task asks again about a post's label: its answer replaces the label the
    # post's own task resolved to (or gives it one, after a tie), and never adds a row.
    reviews = [t for t in tasks if (t.data or {}).get(REVIEW_KEY) is True]
    tasks = [t for t in tasks if (t.data or {}).get(REVIEW_KEY) is not True]
    audit_resolution = resolve(audits)
    audit_path = None
    if audits:
        audit_path = audit_out or out.with_name(out.stem + ".audit.jsonl")
        audit_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(
            audit_path,
            "".join(
                json.dumps(r, ensure_ascii=False) + "\n"
                for r in audit.audit_records(audit_resolution.resolved)
            ),
        )
    resolution = resolve(tasks)
    figures = agreement([t for t in tasks if t.annotations])
    final = {task.post_id: (task, label) for task, label in resolution.resolved}
    final.update({task.post_id: (task, label) for task, label in resolve(reviews).resolved})
    records = [
        {
            "id": task.post_id,
            "text": task.text,
            "label": label,
            "lang": task.data.get("lang"),
            "created_at": task.data.get("posted_at"),
            "platform": task.data.get("platform"),
            "group": task.data.get("author") or task.post_id,
            "annotators": len(task.annotations),
        }
        for task, label in sorted(final.values(), key=lambda item: item[0].post_id)
    ]
    digest = hashlib.sha256()
    for record in records:
        digest.update(f"{record['label']}\x1f{record['text']}\x1e".encode())
    fingerprint = digest.hexdigest()
    version = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{fingerprint[:8]}"
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    review_file = None
    if resolution.review:
        review_path = out.with_name(out.name + ".review.jsonl")
        atomic_write_text(
            review_path,
            "".join(
                json.dumps(
                    {
                        "post_id": t.post_id,
                        "text": t.text,
                        "reason": why,
                        "annotations": t.annotations,
                    },
                    ensure_ascii=False,
                )
                + "\n"
                for t, why in resolution.review
            ),
        )
        review_file = str(review_path)
    counts = {label: sum(1 for r in records if r["label"] == label) for label in LABELS}
    meta = {
        "version": version,
        "fingerprint": fingerprint,
        "project": name,
        "project_id": pid,
        "examples": len(records),
        "label_counts": counts,
        "agreement": figures,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    atomic_write_text(out.with_name(out.name + ".meta.json"), json.dumps(meta, indent=2) + "\n")
    return PullReport(
        pid,
        str(out),
        version,
        fingerprint,
        len(records),
        len(resolution.review),
        review_file,
        figures,
        counts,
        len(audit_resolution.resolved),
        str(audit_path) if audit_path else None,
        len([1 for _, why in audit_resolution.review if why.startswith("tie")]),
    )


# -- status and retrain -----------------------------------------------------------------


def status(ls: Any, name: str) -> dict[str, Any]:
    pid = project_id(ls, name)
    project = call(ls.projects.get, id=pid)
    tasks = to_annotated(export_tasks(ls, pid), annotator_names(ls))
    annotated = sum(1 for t in tasks if t.annotations)
    return {
        "project": name,
        "project_id": pid,
        "tasks": len(tasks),
        "annotated": annotated,
        "pending": len(tasks) - annotated,
        "model_version": getattr(project, "model_version", None),
        "agreement": agreement([t for t in tasks if t.annotations]),
    }


def push_predictions(ls: Any, pid: int, model: Any, model_version: str) -> int:
    """Predictions of ``model`` for every task without annotations; returns how many."""
    open_tasks: list[tuple[int, str]] = []

    def collect() -> None:
        open_tasks.clear()
        for task in ls.tasks.list(project=pid, page_size=500, fields="all"):
            # Audit tasks never get a pre-annotation: annotators must not be anchored.
            if not (task.total_annotations or 0) and not audit.is_audit(task.data):
                open_tasks.append((task.id, str((task.data or {}).get("text", ""))))

    call(collect)
    if not open_tasks:
        return 0
    proba = model.predict_proba([text for _, text in open_tasks])
    classes = [str(c) for c in model.classes_]
    for (task_id, _), row in zip(open_tasks, proba, strict=True):
        pred = prediction(classes[int(row.argmax())], row.max(), model_version)
        call(ls.predictions.create, task=task_id, **pred)
    return len(open_tasks)


def retrain(
    ls: Any,
    name: str,
    out: Path,
    extra_data: Sequence[Path] = (),
    cv_folds: int = 3,
    models_dir: Path | None = None,
) -> dict[str, Any]:
    """Pull, train on the labels (plus ``extra_data``), register, predict open tasks.

    models_dir: the registry to register into (default: ``Settings().models_dir``).
    """
    from swarmlens.classifier.model.training import entry_fields, load_labelled, train_model

    report = pull(ls, name, out)
    if report.examples == 0:
        raise AnnotationError("no resolved annotation yet: nothing to train on")
    data = load_labelled([out, *extra_data])
    log.info(f"Training on {len(data)} labelled posts ({report.examples} from {name})...")
    model, info = train_model(data, cv_folds=cv_folds)
    fields = entry_fields("annotated", model, info)
    fields["metrics"]["annotation_export"] = report.version
    entry = registry.register(model, fields, models_dir)
    model.model_version_ = entry.id
    predicted = push_predictions(ls, report.project_id, model, entry.id)
    if predicted:
        # Label Studio accepts a project model_version only once predictions carry it.
        call(ls.projects.update, id=report.project_id, model_version=entry.id)
    return {
        "model_version": entry.id,
        "examples": len(data),
        "export": report.version,
        "cv_macro_f1": info.get("cv", {}).get("macro_f1"),
        "predictions_pushed": predicted,
        "agreement": report.agreement,
    }
