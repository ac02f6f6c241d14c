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

from swarmlens.annotation import assign, audit, routing
from swarmlens.annotation import store as store_mod
from swarmlens.annotation.agreement import AnnotatedTask, Resolution, agreement, resolve
from swarmlens.annotation.project import ensure_project, label_of
from swarmlens.annotation.quality import (
    Thresholds,
    annotator_quality,
    dawid_skene,
    resolve_weighted,
)
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
from swarmlens.classifier.errors import AnnotationError, InputError, NoGoldError
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
    gold: int = 0
    overlapped: int = 0
    overlap_k: int | None = None


def push(
    ls: Any,
    name: str,
    inputs: Iterable[str | Path],
    n: int,
    strategy: str,
    model: Any,
    model_version: str,
    seed: int = 0,
    overlap: float = 0.0,
    overlap_k: int = 2,
    gold_rate: float = 0.0,
    store: Path | None = None,
) -> PushReport:
    """Choose ``n`` posts not yet in the project and import them with pre-annotations.

    overlap: share of the chosen posts whose task needs ``overlap_k`` annotators.
    gold_rate: share of the ``n`` tasks that are gold (known answers from the store), in
        random places among the others, with pre-annotations like them.
    """
    from swarmlens.annotation.sampling import select

    assign.check_overlap_request(overlap, overlap_k, gold_rate)
    pid = project_id(ls, name)
    if overlap > 0 or gold_rate > 0:
        assign.check_project_overlap(ls, pid, name)
    gold = store_mod.load_gold(name, store)
    present = call(task_post_ids, ls, pid)
    pool: dict[str, Post] = {}
    total = 0
    for post in read_posts(inputs):
        total += 1
        # A gold post is never pushed as an ordinary task (its answer would be trained on).
        if post.post_id not in present and post.post_id not in gold:
            pool.setdefault(post.post_id, post)
    candidates = list(pool.values())
    regular, gold_n = assign.split_budget(n, gold_rate)
    rng = np.random.default_rng(seed)
    gold_items: list[store_mod.GoldItem] = []
    if gold_n:
        left = sorted(
            (g for g in gold.values() if g.post_id not in present), key=lambda g: g.post_id
        )
        if not left:
            raise NoGoldError(
                f"--gold-rate {gold_rate}: no gold answer for {name!r} is left outside the "
                "project: add some with `swarmlens annotate gold add --data FILE`"
            )
        picks = rng.choice(len(left), size=min(gold_n, len(left)), replace=False)
        gold_items = [left[i] for i in sorted(picks)]
    chosen = [candidates[i] for i in select(candidates, regular, strategy, model=model, seed=seed)]
    texts = [p.text for p in chosen] + [str(g.data.get("text", "")) for g in gold_items]
    proba = model.predict_proba(texts) if texts else np.zeros((0, 3))
    classes = [str(c) for c in model.classes_]
    entries = [(p.post_id, task_data(p)) for p in chosen]
    entries += [(g.post_id, g.data) for g in gold_items]
    # Gold goes in random places: import order sets task ids, which annotators can see.
    order = rng.permutation(len(entries))
    overlapped = assign.choose_overlap([p.post_id for p in chosen], overlap, rng)
    wanted = dict.fromkeys(overlapped, overlap_k)
    if gold_items:
        wanted.update(dict.fromkeys((g.post_id for g in gold_items), assign.GOLD_OVERLAP))
    imported = 0
    for start in range(0, len(order), PUSH_BATCH):
        batch = order[start : start + PUSH_BATCH]
        tasks = {}
        for i in batch:
            post_id, data = entries[i]
            row = proba[i]
            tasks[post_id] = {
                "data": data,
                "predictions": [prediction(classes[int(row.argmax())], row.max(), model_version)],
            }
        imported += call(import_missing, ls, pid, tasks)
        # Right after each batch, so a failed run leaves few tasks without their overlap.
        assign.set_overlap(ls, pid, {p: k for p, k in wanted.items() if p in tasks})
    if imported:
        # Label Studio accepts a project model_version only once predictions carry it.
        call(ls.projects.update, id=pid, model_version=model_version)
    return PushReport(
        pid,
        len(candidates),
        total - len(candidates),
        len(chosen) + len(gold_items),
        imported,
        model_version,
        strategy,
        gold=len(gold_items),
        overlapped=len(wanted) - len(gold_items),
        overlap_k=overlap_k if overlap > 0 else None,
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
        seconds: dict[str, float] = {}
        for annotation in sorted(task.get("annotations") or [], key=lambda a: a.get("id", 0)):
            if annotation.get("was_cancelled"):
                continue
            label = label_of(annotation.get("result"))
            if label is None:
                continue
            who = annotation.get("completed_by")
            if isinstance(who, dict):
                who = who.get("email") or who.get("id")
            name = names.get(who, str(who)) if isinstance(who, int) else str(who)
            votes[name] = label
            lead = annotation.get("lead_time")
            if isinstance(lead, (int, float)) and lead >= 0:
                seconds[name] = float(lead)
            else:
                seconds.pop(name, None)
        out.append(
            AnnotatedTask(
                post_id=str(data.get("post_id", task.get("id"))),
                text=str(data.get("text", "")),
                annotations=sorted(votes.items()),
                data=data,
                seconds=seconds,
                task_id=task.get("id") if isinstance(task.get("id"), int) else None,
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
    resolution: str = "majority"
    gold_tasks: int = 0
    annotators: dict[str, Any] = field(default_factory=dict)
    overlap: dict[str, Any] = field(default_factory=dict)


RESOLUTIONS = ("majority", "dawid-skene")


def pull(
    ls: Any,
    name: str,
    out: Path,
    audit_out: Path | None = None,
    include_audits: bool = False,
    method: str = "majority",
    store: Path | None = None,
    thresholds: Thresholds | None = None,
) -> PullReport:
    """Export, resolve (by majority, or by Dawid-Skene), write the training file (+ meta
    and review list), and measure each annotator.

    Audit tasks go to their own file (``audit_out``, default ``<out stem>.audit.jsonl``);
    their posts stay out of the training file unless ``include_audits``. Gold tasks (known
    answers in the store) score the annotators and go to neither file.
    """
    if method not in RESOLUTIONS:
        raise InputError(f"--resolve {method!r}: use one of {', '.join(RESOLUTIONS)}")
    pid = project_id(ls, name)
    gold = {post_id: item.label for post_id, item in store_mod.load_gold(name, store).items()}
    everything = to_annotated(export_tasks(ls, pid), annotator_names(ls))
    scored = [t for t in everything if t.annotations and (t.data or {}).get(REVIEW_KEY) is not True]
    quality = dawid_skene(scored, gold)
    annotators = annotator_quality(scored, gold, quality, thresholds)
    gold_tasks = sum(1 for t in everything if t.post_id in gold)
    everything = [t for t in everything if t.post_id not in gold]

    def resolver(tasks: Sequence[AnnotatedTask]) -> Resolution:
        return resolve(tasks) if method == "majority" else resolve_weighted(tasks, quality)

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
    audit_resolution = resolver(audits)
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
    resolution = resolver(tasks)
    figures = agreement([t for t in tasks if t.annotations])
    overlaps = {task_id: k for task_id, (_, k) in assign.task_overlaps(ls, pid).items()}
    final = {task.post_id: (task, label) for task, label in resolution.resolved}
    final.update({task.post_id: (task, label) for task, label in resolver(reviews).resolved})
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
        "resolution": method,
        "annotators": annotators,
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
        method,
        gold_tasks,
        annotators,
        assign.overlap_figures(tasks, overlaps),
    )


# -- status and retrain -----------------------------------------------------------------


def status(ls: Any, name: str, store: Path | None = None) -> dict[str, Any]:
    """Counts, agreement (gold tasks left out), overlap so far, and language routing: the
    languages of the open tasks (fewer labels than their overlap) no annotator reads."""
    pid = project_id(ls, name)
    project = call(ls.projects.get, id=pid)
    tasks = to_annotated(export_tasks(ls, pid), annotator_names(ls))
    gold = store_mod.load_gold(name, store)
    overlaps = {task_id: k for task_id, (_, k) in assign.task_overlaps(ls, pid).items()}
    annotated = sum(1 for t in tasks if t.annotations)
    plain = [
        t
        for t in tasks
        if t.post_id not in gold
        and not audit.is_audit(t.data)
        and (t.data or {}).get(REVIEW_KEY) is not True
    ]
    still_open = [
        t.data for t in tasks if len(t.annotations) < overlaps.get(t.task_id or -1, 1)
    ]
    return {
        "project": name,
        "project_id": pid,
        "tasks": len(tasks),
        "annotated": annotated,
        "pending": len(tasks) - annotated,
        "model_version": getattr(project, "model_version", None),
        "agreement": agreement([t for t in tasks if t.annotations and t.post_id not in gold]),
        "gold_tasks": sum(1 for t in tasks if t.post_id in gold),
        "gold_in_store": len(gold),
        "overlap": assign.overlap_figures(plain, overlaps),
        "routing": routing.routing(still_open, store_mod.load_annotators(name, store)),
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
    store: Path | None = None,
) -> dict[str, Any]:
    """Pull, train on the labels (plus ``extra_data``), register, predict open tasks.

    models_dir: the registry to register into (default: ``Settings().models_dir``).
    store: swarmlens's annotation store, whose gold tasks are kept out of training.
    """
    from swarmlens.classifier.model.training import entry_fields, load_labelled, train_model

    report = pull(ls, name, out, store=store)
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
