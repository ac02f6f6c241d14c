"""POST /v1/classify: labels, scores and (optionally) explanations for posts."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request

from classifier.config import LABELS
from classifier.entities import extract
from classifier.langid import resolve_lang
from classifier.scoring import label_probabilities
from serve.schemas import ClassifyRequest, ClassifyResponse, ClassifyResult, Contribution, Scores

router = APIRouter(prefix="/v1", tags=["classify"])


def check_batch(request: Request, size: int) -> None:
    limit = request.app.state.settings.max_batch
    if size > limit:
        raise HTTPException(413, f"{size} posts in one request; max_batch is {limit}: split it")


@router.post("/classify", response_model=ClassifyResponse, response_model_exclude_none=True)
def classify(
    body: ClassifyRequest,
    request: Request,
    explain: bool = Query(False, description="Add each post's top contributing terms."),
) -> ClassifyResponse:
    """Classify 1 to ``max_batch`` posts; results come back in input order."""
    check_batch(request, len(body.posts))
    state = request.app.state
    texts = [item.text for item in body.posts]
    with state.model_lock:
        proba = label_probabilities(state.model, texts)
        explanations = (
            [
                state.model.explain(text, label=LABELS[int(row.argmax())])
                for text, row in zip(texts, proba, strict=True)
            ]
            if explain
            else None
        )
    state.metrics.classified.inc(len(texts))
    results = []
    for index, (item, row) in enumerate(zip(body.posts, proba, strict=True)):
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
    return ClassifyResponse(model_version=state.entry.id, results=results)
