"""Classify and ingest: the logic behind /v1/classify, /v1/posts and /labelstudio/predict."""

from __future__ import annotations

from collections.abc import Sequence

from swarmlens.annotation.project import choice_result
from swarmlens.classifier.batch.scoring import label_probabilities, score_batch
from swarmlens.classifier.errors import PayloadTooLargeError, RecordError
from swarmlens.classifier.posts.post import post_from_record
from swarmlens.classifier.settings import Settings
from swarmlens.classifier.text.entities import extract
from swarmlens.classifier.text.langid import resolve_lang
from swarmlens.classifier.vocab import LABELS
from swarmlens.serve.metrics import Metrics
from swarmlens.serve.schemas import (
    ClassifyItem,
    ClassifyResponse,
    ClassifyResult,
    Contribution,
    IngestItem,
    IngestReject,
    IngestResponse,
    LSPrediction,
    PredictResponse,
    Scores,
)
from swarmlens.serve.services.serving import ServingModel
from swarmlens.serve.store import Store


def check_batch(settings: Settings, size: int) -> None:
    """Refuse more than ``max_batch`` posts in one request (413 naming the limit)."""
    if size > settings.max_batch:
        raise PayloadTooLargeError(
            f"{size} posts in one request; max_batch is {settings.max_batch}: split it"
        )


def classify(
    items: Sequence[ClassifyItem], serving: ServingModel, metrics: Metrics, explain: bool = False
) -> ClassifyResponse:
    """Labels, scores, language, hashtags (and top terms) of each item, in input order."""
    texts = [item.text for item in items]
    with serving.use() as (model, entry):
        proba = label_probabilities(model, texts)
        explanations = (
            [
                model.explain(text, label=LABELS[int(row.argmax())])
                for text, row in zip(texts, proba, strict=True)
            ]
            if explain
            else None
        )
    metrics.classified.inc(len(texts))
    results = []
    for index, (item, row) in enumerate(zip(items, proba, strict=True)):
        tags, _, _ = extract(item.text)
        results.append(
            ClassifyResult(
                id=item.id,
                label=LABELS[int(row.argmax())],
                scores=Scores(**{label: round(float(row[j]), 6) for j, label in enumerate(LABELS)}),
                lang=resolve_lang(item.lang, item.text),
                hashtags=tags,
                explanation=[
                    Contribution(term=c.term, weight=c.weight) for c in explanations[index]
                ]
                if explanations
                else None,
            )
        )
    return ClassifyResponse(model_version=entry.id, results=results)


def ingest(
    items: Sequence[IngestItem], serving: ServingModel, store: Store, metrics: Metrics
) -> IngestResponse:
    """Score and store posts. Re-posting an id counts as a duplicate, never twice."""
    posts, rejects, seen = [], [], set()
    duplicates_in_request = 0
    for index, item in enumerate(items):
        if item.id in seen:
            duplicates_in_request += 1
            continue
        seen.add(item.id)
        try:
            posts.append(post_from_record(item.model_dump()))
        except RecordError as exc:
            rejects.append(IngestReject(index=index, id=item.id, reason=exc.message))
    accepted: list[str] = []
    duplicate: list[str] = []
    version = serving.version
    if posts:
        with serving.use() as (model, entry):
            table = score_batch(model, posts, entry.id)
            version = entry.id
        metrics.classified.inc(len(posts))
        accepted, duplicate = store.add_posts(table)
    return IngestResponse(
        model_version=version,
        accepted=len(accepted),
        duplicate=len(duplicate) + duplicates_in_request,
        rejected=len(rejects),
        rejects=rejects,
    )


def predict_tasks(
    texts: Sequence[str],
    serving: ServingModel,
    metrics: Metrics,
    blind: Sequence[bool] | None = None,
) -> PredictResponse:
    """Label Studio pre-annotations: the stance choice and its probability per task.

    blind: per task, True for an audit task, which gets an empty prediction (annotators
    auditing the model must not see what it thinks).
    """
    with serving.use() as (model, entry):
        proba = model.predict_proba(list(texts)) if texts else []
        classes = [str(c) for c in model.classes_]
    metrics.classified.inc(len(texts))
    hidden = list(blind) if blind is not None else [False] * len(texts)
    results = [
        LSPrediction(
            result=[] if hide else choice_result(classes[int(row.argmax())]),
            score=0.0 if hide else round(float(row.max()), 6),
            model_version=entry.id,
        )
        for row, hide in zip(proba, hidden, strict=True)
    ]
    return PredictResponse(results=results, model_version=entry.id)
