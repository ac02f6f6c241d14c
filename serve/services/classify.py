"""Classify and ingest: the logic behind /v1/classify, /v1/posts and /labelstudio/predict."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np
import orjson
import pyarrow as pa

from swarmlens.annotation.project import choice_result
from swarmlens.classifier.batch.scoring import label_probabilities_and_no_text, score_table
from swarmlens.classifier.errors import PayloadTooLargeError
from swarmlens.classifier.model.registry import ModelEntry
from swarmlens.classifier.posts.columnar import decode_batch
from swarmlens.classifier.posts.post import MAX_TEXT_CHARS
from swarmlens.classifier.text.entity_columns import post_entity_columns
from swarmlens.classifier.text.langid import resolve_langs
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
from swarmlens.serve.settings import ServerSettings
from swarmlens.serve.store import Store

T = TypeVar("T")


SLICE_TEXTS = 64
SLICE_CHARS = 200_000
"""A request uses the model in slices of at most this many texts and characters, taking
the (fair) model lock for each: a one-post request waits for one slice, not for a huge
request to finish."""


def check_batch(settings: ServerSettings, size: int) -> None:
    """Refuse more than ``max_batch`` posts in one request (413 naming the limit)."""
    if size > settings.max_batch:
        raise PayloadTooLargeError(
            f"{size} posts in one request; max_batch is {settings.max_batch}: split it"
        )


def check_explain(settings: ServerSettings, texts: Sequence[str]) -> None:
    """Refuse explanations over ``max_explain_chars`` characters in one request (413):
    explaining costs far more per character than classifying."""
    total = sum(len(text) for text in texts)
    if total > settings.max_explain_chars:
        raise PayloadTooLargeError(
            f"explain=true covers at most {settings.max_explain_chars} characters per request "
            f"(max_explain_chars); this one has {total}: send fewer or shorter posts, or "
            "classify without explain"
        )


def cut_texts(texts: Sequence[str], metrics: Metrics) -> tuple[list[str], list[bool]]:
    """Texts cut to ``MAX_TEXT_CHARS`` as the batch path cuts them, and which were cut
    (counted in the ``swarmlens_texts_cut`` metric)."""
    cut = [len(text) > MAX_TEXT_CHARS for text in texts]
    if any(cut):
        metrics.texts_cut.inc(sum(cut))
    return [text[:MAX_TEXT_CHARS] for text in texts], cut


def _slices(texts: Sequence[str]) -> Iterator[tuple[int, int]]:
    start = 0
    while start < len(texts):
        end, chars = start, 0
        while end < len(texts) and end - start < SLICE_TEXTS:
            chars += len(texts[end])
            end += 1
            if chars >= SLICE_CHARS:
                break
        yield start, end
        start = end


def sliced(
    serving: ServingModel, texts: Sequence[str], work: Callable[[Any, list[str]], list[T]]
) -> tuple[list[T], ModelEntry]:
    """``work(model, slice)`` over ``texts`` slice by slice, the model held per slice."""
    out: list[T] = []
    last = serving.entry
    for start, end in _slices(texts):
        with serving.use() as (model, entry):
            out.extend(work(model, list(texts[start:end])))
            last = entry
    return out, last


class Scored:
    """A classify request's cheap part: cut texts, probabilities, which texts got the
    model's no-text answer, the model used."""

    def __init__(
        self, texts: list[str], cut: list[bool], rows: list[np.ndarray], entry: ModelEntry,
        no_text: list[bool],
    ) -> None:
        self.texts, self.cut, self.rows, self.entry = texts, cut, rows, entry
        self.no_text = no_text

    @property
    def labels(self) -> list[str]:
        return [LABELS[int(row.argmax())] for row in self.rows]


def score(items: Sequence[ClassifyItem], serving: ServingModel, metrics: Metrics) -> Scored:
    """Probabilities of each item's (cut) text, the shared model used slice by slice."""
    texts, cut = cut_texts([item.text for item in items], metrics)
    def rows_and_flags(model: Any, part: list[str]) -> list[tuple[np.ndarray, bool]]:
        proba, empty = label_probabilities_and_no_text(model, part)
        return list(zip(proba, empty.tolist(), strict=True))

    scored, entry = sliced(serving, texts, rows_and_flags)
    metrics.classified.inc(len(texts))
    return Scored(texts, cut, [row for row, _ in scored], entry, [flag for _, flag in scored])


def explain_texts(
    model: Any, texts: Sequence[str], labels: Sequence[str]
) -> list[list[Contribution]]:
    """Each text's top terms for its label, with ``model``: a copy of the served model
    (``ServingModel.replica``) that only this call uses. Costly (it grows faster than the
    text), so the API runs it in the explain pool, where it can be stopped at any point."""
    return [
        [Contribution(term=c.term, weight=c.weight) for c in model.explain(text, label=label)]
        for text, label in zip(texts, labels, strict=True)
    ]


def respond(
    items: Sequence[ClassifyItem],
    scored: Scored,
    explanations: Sequence[list[Contribution]] | None = None,
) -> ClassifyResponse:
    """The answer: labels, scores, language, hashtags (and top terms), in input order."""
    hashtags = post_entity_columns(pa.array(scored.texts, pa.string()))["hashtags"].to_pylist()
    langs = resolve_langs((item.lang for item in items), scored.texts)
    results = []
    for index, (item, lang, tags, was_cut, row, empty) in enumerate(
        zip(items, langs, hashtags, scored.cut, scored.rows, scored.no_text, strict=True)
    ):
        results.append(
            ClassifyResult(
                id=item.id,
                label=LABELS[int(row.argmax())],
                scores=Scores(**{label: round(float(row[j]), 6) for j, label in enumerate(LABELS)}),
                lang=lang,
                hashtags=tags,
                truncated=True if was_cut else None,
                no_text=True if empty else None,
                explanation=explanations[index] if explanations is not None else None,
            )
        )
    return ClassifyResponse(model_version=scored.entry.id, results=results)


def classify(
    items: Sequence[ClassifyItem], serving: ServingModel, metrics: Metrics
) -> ClassifyResponse:
    """Labels, scores, language and hashtags of each item, in input order (no
    explanations: the API gives those through ``score``, ``explain_texts``, ``respond``)."""
    return respond(items, score(items, serving, metrics))


def ingest(
    items: Sequence[IngestItem], serving: ServingModel, store: Store, metrics: Metrics
) -> IngestResponse:
    """Score and store posts. Re-posting an id counts as a duplicate, never twice.

    The body takes the files' road: its posts become JSON lines that ``decode_batch``
    validates as one small table, so a post reads the same whichever way it came in.
    """
    indices: list[int] = []  # request index of each line decoded
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.id not in seen:
            seen.add(item.id)
            indices.append(index)
    duplicates_in_request = len(items) - len(indices)
    lines = [(number, orjson.dumps(items[index].model_dump(mode="json")))
             for number, index in enumerate(indices, start=1)]
    decoded = decode_batch("request", lines)
    rejects = [
        IngestReject(index=indices[r.line - 1], id=items[indices[r.line - 1]].id, reason=r.reason)
        for r in decoded.rejects
    ]
    posts = decoded.table
    accepted: list[str] = []
    duplicate: list[str] = []
    version = serving.version
    if posts.num_rows:
        tables: list[pa.Table] = []
        for start, end in _slices(posts.column("text").to_pylist()):
            with serving.use() as (model, entry):
                tables.append(score_table(model, posts.slice(start, end - start), entry.id))
                version = entry.id
        table = pa.concat_tables(tables)
        metrics.classified.inc(posts.num_rows)
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
    texts, _ = cut_texts(texts, metrics)

    def work(model: Any, part: list[str]) -> list[tuple[str, float]]:
        proba = model.predict_proba(part)
        classes = [str(c) for c in model.classes_]
        return [(classes[int(row.argmax())], float(row.max())) for row in proba]

    predicted, entry = sliced(serving, texts, work)
    metrics.classified.inc(len(texts))
    hidden = list(blind) if blind is not None else [False] * len(texts)
    results = [
        LSPrediction(
            result=[] if hide else choice_result(choice),
            score=0.0 if hide else round(score, 6),
            model_version=entry.id,
        )
        for (choice, score), hide in zip(predicted, hidden, strict=True)
    ]
    return PredictResponse(results=results, model_version=entry.id)
